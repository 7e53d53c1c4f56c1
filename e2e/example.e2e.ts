import type { Browser, BrowserContext } from 'playwright-core'
import {
  apiWithCookie,
  type ContextOptions,
  IPHONE_SAFARI,
  launchBrowser,
  newContext,
  type RunningExample,
  STORES,
  type StoreFactory,
  screenshot,
  sessionCookie,
  shownCount,
  signIn,
  sleep,
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

describe.each(STORES)('the example app with the %s store', (storeKind) => {
  let stores: StoreFactory
  let example: RunningExample
  const contexts: BrowserContext[] = []
  let users = 0
  /** A user name no other test of this block signs in with, so session lists stay apart. */
  const nextUser = (name: string) => `${name}-${++users}`
  /** Screenshots come from the memory run; the Redis run renders the same pages. */
  const snap = storeKind === 'memory' ? screenshot : async () => {}

  const open = async (options: ContextOptions = {}) => {
    const context = await newContext(browser, options)
    contexts.push(context)
    return context
  }

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

  describe('signing in', () => {
    it('sets an HttpOnly, SameSite=Lax cookie on / that page scripts cannot read', async () => {
      const context = await open()
      const page = await context.newPage()
      await page.goto(`${example.url}/profile`)
      expect(new URL(page.url()).pathname).toBe('/login')
      await snap(page, 'login')

      await signIn(page, example.url, nextUser('ann'))
      await expect(page.locator('h1').textContent()).resolves.toMatch(/^Hello, ann-\d+$/)
      await snap(page, 'profile')

      const cookie = await sessionCookie(context)
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false })
      expect(cookie?.value).toMatch(/\S{40,}/)
      await expect(page.evaluate<string>('document.cookie')).resolves.toBe('')
    })

    it('without "Remember me", sets a cookie that ends with the browser, and keeps it so after a write and a refresh', async () => {
      const context = await open()
      const page = await context.newPage()
      await signIn(page, example.url, nextUser('once'))
      // Playwright's -1: no Expires or Max-Age, a cookie of this browser session only
      await expect(sessionCookie(context)).resolves.toMatchObject({ expires: -1 })

      await page.getByRole('button', { name: 'Count +1' }).click()
      await page.locator('#count', { hasText: '1' }).waitFor()
      await page.getByRole('button', { name: 'Refresh token' }).click()
      await page.locator('.notice', { hasText: 'New token issued' }).waitFor()
      await expect(sessionCookie(context)).resolves.toMatchObject({ expires: -1 })
    })

    it('with "Remember me", sets a cookie that outlives the browser', async () => {
      const context = await open()
      const page = await context.newPage()
      await page.goto(`${example.url}/login`)
      await expect(page.locator('#remember-help').textContent()).resolves.toMatch(/forgets it when it closes/)
      await signIn(page, example.url, nextUser('kept'), { remember: true })
      const cookie = await sessionCookie(context)
      // the longest a browser keeps a cookie, 400 days, since the server decides when the session ends
      expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 399 * 24 * 3600 * 1000)
    })

    it('never lets the page see its token: not in document.cookie, a readable header, or any body', async () => {
      // the demo's CSP runs only its own script files; a script injected into a laxer app would not be stopped
      const context = await open({ bypassCSP: true })
      const page = await context.newPage()
      const received: string[] = []
      page.on('response', (response) => {
        received.push(
          (async () => {
            const headers = JSON.stringify(await response.allHeaders())
            const body = await response.text().catch(() => '')
            return `${headers}\n${body}`
          })() as unknown as string,
        )
      })
      await signIn(page, example.url, nextUser('xss'))
      await page.getByRole('button', { name: 'Refresh token' }).click()
      await page.waitForURL(/\/profile/)
      // from a page without the live panel, which would rightly leave when the script's login ends the session
      await page.goto(`${example.url}/no-panel-here`)
      // what a same-origin script could read: every header fetch exposes, and every body
      const script = await page.evaluate<string>(`(async () => {
        const seen = [document.cookie]
        for (const [method, path] of [['GET', '/api/me'], ['POST', '/api/counter'], ['POST', '/api/refresh'], ['POST', '/api/login']]) {
          const response = await fetch(path, {
            method,
            headers: { 'content-type': 'application/json' },
            body: method === 'POST' ? JSON.stringify({ user: 'xss-script', password: 'demo' }) : null,
          })
          seen.push(JSON.stringify([...response.headers]), await response.text())
        }
        return seen.join('\\n')
      })()`)
      const token = (await sessionCookie(context))!.value
      const everything = (await Promise.all(received)).join('\n')
      expect(token).toMatch(/\S{40,}/)
      // the page's own requests carried the cookie; none of their answers carried the token
      for (const part of token.split('.')) {
        expect(script).not.toContain(part)
        expect(everything.replace(/"set-cookie":"[^"]*"/g, '')).not.toContain(part)
      }
    })

    it('refuses a wrong password and says what the password is', async () => {
      const page = await (await open()).newPage()
      await page.goto(`${example.url}/login`)
      await page.getByLabel('User name').fill('ann')
      await page.getByLabel('Password').fill('guess')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL(/\/login\?reason=wrong-password$/)
      await expect(page.getByRole('alert').textContent()).resolves.toContain('“demo”')
      await snap(page, 'login-wrong-password')
    })

    it('shows a user name full of markup as text', async () => {
      const context = await open()
      const page = await context.newPage()
      const dialogs: string[] = []
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message())
        void dialog.dismiss()
      })
      const name = `<img src=x onerror=alert(1)>"'&${++users}`
      await signIn(page, example.url, name)
      await expect(page.locator('#username').textContent()).resolves.toBe(name)
      await expect(page.locator('main img').count()).resolves.toBe(0)
      expect(dialogs).toEqual([])
    })

    it('works without JavaScript: forms post and 303 redirects lead on', async () => {
      const page = await (await open({ javaScriptEnabled: false })).newPage()
      await signIn(page, example.url, nextUser('noscript'))
      await page.getByRole('button', { name: 'Count +1' }).click()
      await page.waitForURL(`${example.url}/profile`)
      await expect(shownCount(page)).resolves.toBe(1)
    })
  })

  describe('the theme', () => {
    it('picked before signing in, without JavaScript, stays through sign-in and logout', async () => {
      const context = await open({ javaScriptEnabled: false })
      const page = await context.newPage()
      const theme = () => page.locator('html').getAttribute('data-theme')
      await page.goto(`${example.url}/login`)
      await expect(theme()).resolves.toBe('light')
      await expect(sessionCookie(context)).resolves.toBeUndefined()

      await page.getByRole('button', { name: 'Dark' }).click()
      await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' })
      expect(new URL(page.url()).pathname).toBe('/login')
      await expect(page.getByRole('button', { name: 'Dark', pressed: true }).count()).resolves.toBe(1)
      await snap(page, 'login-dark')
      // the choice lives in an anonymous session, which is no sign-in: / still leads to /login
      const anonymous = await apiWithCookie(example.url, '/me', (await sessionCookie(context))!.value)
      expect([anonymous.status, anonymous.body.error]).toEqual([401, 'SESSION_NOT_CREATED'])
      await page.goto(`${example.url}/`)
      expect(new URL(page.url()).pathname).toBe('/login')

      await signIn(page, example.url, nextUser('dusk'))
      await expect(theme()).resolves.toBe('dark')
      await snap(page, 'profile-dark')

      await page.getByRole('button', { name: 'Light' }).click()
      await page.locator('html[data-theme="light"]').waitFor({ state: 'attached' })
      await page.getByRole('button', { name: 'Dark' }).click()
      await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' })
      expect(new URL(page.url()).pathname).toBe('/profile')

      await page.getByRole('button', { name: 'Log out', exact: true }).click()
      await page.waitForURL(`${example.url}/login`)
      await expect(page.getByRole('status').textContent()).resolves.toBe('You are signed out.')
      await expect(theme()).resolves.toBe('dark')
    })
  })

  describe('the counter', () => {
    it('survives a reload and a second tab of the same browser', async () => {
      const context = await open()
      const first = await context.newPage()
      await signIn(first, example.url, nextUser('bob'))
      await expect(shownCount(first)).resolves.toBe(0)
      for (const expected of [1, 2]) {
        await first.getByRole('button', { name: 'Count +1' }).click()
        await first.locator('#count', { hasText: String(expected) }).waitFor()
      }
      await first.reload()
      await expect(shownCount(first)).resolves.toBe(2)

      const second = await context.newPage()
      await second.goto(`${example.url}/profile`)
      await expect(shownCount(second)).resolves.toBe(2)
      await second.getByRole('button', { name: 'Count +1' }).click()
      await second.locator('#count', { hasText: '3' }).waitFor()

      await first.reload()
      await expect(shownCount(first)).resolves.toBe(3)
    })
  })

  describe('logging out', () => {
    it('ends the server session, so the old cookie value answers 401, and says so once', async () => {
      const context = await open()
      const page = await context.newPage()
      await signIn(page, example.url, nextUser('cy'))
      const before = (await sessionCookie(context))!.value
      await expect(apiWithCookie(example.url, '/me', before)).resolves.toMatchObject({ status: 200 })

      await page.getByRole('button', { name: 'Log out', exact: true }).click()
      await page.waitForURL(`${example.url}/login`)
      await expect(page.getByRole('status').textContent()).resolves.toBe('You are signed out.')
      await snap(page, 'login-signed-out')
      // the notice came as a flash, on an anonymous session that replaced the signed-in cookie
      const after = (await sessionCookie(context))!.value
      expect(after).not.toBe(before)
      const anonymous = await apiWithCookie(example.url, '/me', after)
      expect([anonymous.status, anonymous.body.error]).toEqual([401, 'SESSION_NOT_CREATED'])

      await page.reload()
      await expect(page.locator('.notice').count()).resolves.toBe(0)
      await page.goto(`${example.url}/`)
      expect(new URL(page.url()).pathname).toBe('/login')

      const replay = await apiWithCookie(example.url, '/me', before)
      expect([replay.status, replay.body.error]).toEqual([401, 'SESSION_NOT_EXIST'])
    })

    it('everywhere signs out the other browsers of the user too', async () => {
      const user = nextUser('dee')
      const a = await (await open()).newPage()
      const b = await (await open()).newPage()
      await signIn(a, example.url, user)
      await signIn(b, example.url, user)

      await a.reload()
      await b.locator('#live-status', { hasText: 'Connected' }).waitFor()
      await a.getByRole('button', { name: /^Log out everywhere/ }).click()
      await a.waitForURL(`${example.url}/login`)
      await expect(a.getByRole('status').textContent()).resolves.toBe('You are signed out in every browser.')

      // b's live panel takes it to the login page by itself; its cookie no longer opens the profile
      await b.waitForURL(`${example.url}/login?from=live`)
      await b.goto(`${example.url}/profile`)
      expect(new URL(b.url()).pathname).toBe('/login')
    })
  })

  describe('the sessions list', () => {
    it('names the device and address of each session, and ends one from another browser, which lands on the login page next', async () => {
      const user = nextUser('eve')
      // without JavaScript, so without the live panel that would leave at once (e2e/live.e2e.ts)
      const a = await (await open({ javaScriptEnabled: false, userAgent: IPHONE_SAFARI })).newPage()
      const b = await (await open()).newPage()
      await signIn(a, example.url, user)
      await signIn(b, example.url, user)

      await expect(b.locator('table.sessions tbody tr').count()).resolves.toBe(2)
      await expect(b.locator('tr.current').textContent()).resolves.toContain('this browser')
      // headless chromium says HeadlessChrome on Linux; the other context poses as an iPhone
      await expect(b.locator('tr.current .device').textContent()).resolves.toBe('Chrome on Linux')
      await expect(b.locator('tr:not(.current) .device').textContent()).resolves.toBe('Safari on iPhone')
      await expect(b.locator('tr .where').allTextContents()).resolves.toEqual([
        expect.stringMatching(/^127\.0\.0\.1 · …/),
        expect.stringMatching(/^127\.0\.0\.1 · …/),
      ])
      await snap(b, 'profile-two-sessions')
      await b.setViewportSize({ width: 390, height: 844 })
      await snap(b, 'profile-two-sessions-phone')
      await b.getByRole('button', { name: /^End session/ }).click()
      await b.locator('.notice', { hasText: 'That session has ended; its browser is signed out.' }).waitFor()
      expect(new URL(b.url()).pathname).toBe('/profile')
      await expect(b.locator('table.sessions tbody tr').count()).resolves.toBe(1)
      await snap(b, 'profile-session-ended')
      // a flash: the next page no longer shows it
      await b.reload()
      await expect(b.locator('.notice').count()).resolves.toBe(0)

      await a.goto(`${example.url}/profile`)
      expect(new URL(a.url()).pathname).toBe('/login')
      await expect(a.getByRole('status').textContent()).resolves.toContain('has ended')
      await snap(a, 'login-session-ended')
    })
  })

  describe('refreshing the token', () => {
    it('keeps the session and makes the old cookie value fail with SESSION_REPLACED', async () => {
      const context = await open()
      const page = await context.newPage()
      await signIn(page, example.url, nextUser('fay'))
      await page.getByRole('button', { name: 'Count +1' }).click()
      await page.locator('#count', { hasText: '1' }).waitFor()
      const before = (await sessionCookie(context))!.value

      await page.getByRole('button', { name: 'Refresh token' }).click()
      await page.locator('.notice', { hasText: 'New token issued' }).waitFor()
      await snap(page, 'profile-refreshed')
      const after = (await sessionCookie(context))!.value
      expect(after).not.toBe(before)
      await page.reload()
      await expect(shownCount(page)).resolves.toBe(1)

      const replay = await apiWithCookie(example.url, '/me', before)
      expect([replay.status, replay.body.code, replay.body.error]).toEqual([401, 209, 'SESSION_REPLACED'])
      await expect(apiWithCookie(example.url, '/me', after)).resolves.toMatchObject({
        status: 200,
        body: { count: 1 },
      })
    })
  })

  describe('idle expiry', () => {
    it('sends the browser back to the login page once maxAge passes without a request', async () => {
      const shortLived = await startExample(stores.make(), { maxAge: 2 })
      try {
        // a browser that comes back later, not a page whose live panel hears the sweep
        const page = await (await open({ javaScriptEnabled: false })).newPage()
        await signIn(page, shortLived.url, nextUser('gus'))
        await page.getByRole('button', { name: 'Count +1' }).click()
        await page.locator('#count', { hasText: '1' }).waitFor()

        await sleep(2500)
        await page.goto(`${shortLived.url}/profile`)
        expect(new URL(page.url()).pathname).toBe('/login')
        await expect(page.getByRole('status').textContent()).resolves.toMatch(/expired/)
        await snap(page, 'login-expired')
      } finally {
        await shortLived.close()
      }
    })
  })
})
