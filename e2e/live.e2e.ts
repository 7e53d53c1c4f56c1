import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  apiWithCookie,
  launchBrowser,
  newContext,
  type RunningExample,
  STORES,
  type StoreFactory,
  screenshot,
  sessionCookie,
  shownCount,
  signIn,
  startExample,
  storeFactory,
} from './support/harness'

let browser: Browser

beforeAll(async () => {
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
})

/** Resolves when the page's script holds an open live socket. */
const connected = (page: Page) =>
  page.waitForFunction(`document.getElementById('live-status')?.textContent?.startsWith('Connected')`)

describe.each(STORES)("the profile page's live panel with the %s store", (storeKind) => {
  let stores: StoreFactory
  let example: RunningExample
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    stores = await storeFactory(storeKind)
    example = await startExample(stores.make())
  })

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()))
  })

  afterAll(async () => {
    await example?.close()
    await stores?.stop()
  })

  it("shows one browser's count in the other, and sends the other to sign-in within a second of End", async () => {
    const user = `live-${storeKind}`
    contexts.push(await newContext(browser), await newContext(browser))
    const [first, second] = (await Promise.all(contexts.map((context) => context.newPage()))) as [Page, Page]
    // the server sends `ended`, then closes; the page may leave before the browser reports the close
    const secondClosed = new Promise<number>((resolve) =>
      second.on('websocket', (socket) => {
        socket.on('framereceived', ({ payload }) => {
          if (String(payload).includes('"ended"')) resolve(performance.now())
        })
        socket.on('close', () => resolve(performance.now()))
      }),
    )
    await signIn(first, example.url, user)
    await signIn(second, example.url, user)
    await first.reload() // to list the second browser's session
    await Promise.all([connected(first), connected(second)])

    await first.getByRole('button', { name: 'Count +1' }).click()
    await first.waitForFunction(`document.getElementById('count')?.textContent === '1'`)
    await second.waitForFunction(
      `document.getElementById('live-others')?.textContent?.includes('counted 1')`,
      undefined,
      { timeout: 1000 },
    )
    expect(await shownCount(second)).toBe(0)
    if (storeKind === 'memory') await screenshot(second, 'live-panel')

    await connected(first)
    const started = performance.now()
    await first.getByRole('button', { name: /^End session/ }).click()
    const deadline = started + 1000
    let shown = false
    while (!shown && performance.now() < deadline) {
      shown =
        new URL(second.url()).pathname === '/login' &&
        (await second
          .locator('h1')
          .textContent({ timeout: 50 })
          .catch(() => null)) === 'Sign in'
      if (!shown) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const elapsed = performance.now() - started
    console.log(
      `live panel (${storeKind}): End to the other page showing sign-in in ${elapsed.toFixed(0)} ms`,
    )
    const closedAfter = (await secondClosed) - started
    console.log(
      `live panel (${storeKind}): End to the other page's socket told ended and closed in ${closedAfter.toFixed(0)} ms`,
    )
    expect(shown).toBe(true)
    expect(closedAfter).toBeLessThan(1000)
    await expect(second.getByRole('status').first().textContent()).resolves.toMatch(/session has ended/)
  })

  it('leaves a new sign-in in another tab of the browser signed in when it leaves for the login page', async () => {
    const context = await newContext(browser)
    contexts.push(context)
    const [panel, other] = [await context.newPage(), await context.newPage()]
    await signIn(panel, example.url, `relogin-${storeKind}`)
    await connected(panel)
    // a second sign-in from this browser ends the first session, whose panel then leaves
    await other.goto(`${example.url}/no-panel-here`)
    const status = await other.evaluate<number>(`fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'relogin-${storeKind}', password: 'demo' }),
    }).then((response) => response.status)`)
    expect(status).toBe(200)
    await panel.waitForURL(/\/(login|profile)/)
    await panel.waitForLoadState('load')
    const cookie = await sessionCookie(context)
    await expect(apiWithCookie(example.url, '/me', cookie?.value ?? '')).resolves.toMatchObject({
      status: 200,
    })
  })
})
