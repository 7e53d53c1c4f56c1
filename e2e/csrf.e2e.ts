/**
 * csrfGuard() in the example app, in Chromium: the app on `localhost`, a foreign page that posts
 * its forms as soon as it loads on `127.0.0.1` (another site) and on another port of `localhost`
 * (the same site, another origin, which the SameSite=Lax cookie alone would let through).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { MemoryStore } from '../lib/index'
import { type ForeignSite, startForeignSite } from './support/foreign-site'
import {
  launchBrowser,
  newContext,
  type RunningExample,
  screenshot,
  sessionCookie,
  shownCount,
  signIn,
  startExample,
} from './support/harness'

let browser: Browser
let foreign: ForeignSite
let example: RunningExample
let trusting: RunningExample
const contexts: BrowserContext[] = []
let users = 0

beforeAll(async () => {
  browser = await launchBrowser()
  foreign = await startForeignSite()
  example = await startExample(new MemoryStore(), { host: 'localhost' })
  trusting = await startExample(new MemoryStore(), {
    host: 'localhost',
    trustedOrigins: [foreign.sameSite],
  })
})

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()))
})

afterAll(async () => {
  await example?.close()
  await trusting?.close()
  await foreign?.close()
  await browser?.close()
})

/** A fresh browser signed in to `app` as a new user, on its profile page. */
async function signedIn(app: RunningExample): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext(browser)
  contexts.push(context)
  const page = await context.newPage()
  await signIn(page, app.url, `victim-${++users}`)
  return { context, page }
}

/** What the app answered the post that the foreign page on `base` made to its `route`, and what the browser sent. */
async function postedFrom(page: Page, base: string, app: RunningExample, route: string) {
  const target = `${app.url}${route}`
  const answered = page.waitForResponse(
    (response) => response.url() === target && response.request().method() === 'POST',
  )
  await page.goto(foreign.pageAt(base, target))
  const response = await answered
  await page.waitForLoadState()
  const sent = await response.request().allHeaders()
  const body = response.status() === 403 ? ((await response.json()) as Record<string, unknown>) : {}
  return {
    status: response.status(),
    site: sent['sec-fetch-site'],
    withCookie: (sent.cookie ?? '').includes('_cookie_vars='),
    code: body.code,
  }
}

/** The signed-in user's counter, read from the profile page; `undefined` when signed out. */
async function countOn(page: Page, app: RunningExample): Promise<number | undefined> {
  await page.goto(`${app.url}/profile`)
  return new URL(page.url()).pathname === '/profile' ? shownCount(page) : undefined
}

describe('csrfGuard() in the example app', () => {
  it('refuses the counter and logout forms a page of another site posts, leaving the session as it was', async () => {
    const { context, page } = await signedIn(example)
    await page.getByRole('button', { name: 'Count +1' }).click()
    await page.locator('#count', { hasText: '1' }).waitFor()
    const cookie = (await sessionCookie(context))!.value

    const counter = await postedFrom(page, foreign.crossSite, example, '/counter')
    await screenshot(page, 'csrf-refused')
    const logout = await postedFrom(page, foreign.crossSite, example, '/logout')
    expect(counter).toEqual({ status: 403, site: 'cross-site', withCookie: false, code: 214 })
    expect(logout).toEqual({ status: 403, site: 'cross-site', withCookie: false, code: 214 })

    await expect(countOn(page, example)).resolves.toBe(1)
    expect((await sessionCookie(context))?.value).toBe(cookie)
  })

  it('lets the same forms through from its own pages', async () => {
    const { context, page } = await signedIn(example)
    const cookie = (await sessionCookie(context))!.value
    const posted = page.waitForRequest((request) => request.method() === 'POST')
    await page.getByRole('button', { name: 'Count +1' }).click()
    await expect((await posted).headerValue('sec-fetch-site')).resolves.toBe('same-origin')
    await page.locator('#count', { hasText: '1' }).waitFor()

    await page.getByRole('button', { name: 'Log out', exact: true }).click()
    await page.waitForURL(`${example.url}/login`)
    // what is left is the anonymous session that carried the "signed out" notice
    expect((await sessionCookie(context))?.value).not.toBe(cookie)
    await expect(countOn(page, example)).resolves.toBeUndefined()
  })

  it('refuses a page on another port of localhost, the same site, though the browser sends it the cookie: forms and API', async () => {
    const { context, page } = await signedIn(example)
    const cookie = (await sessionCookie(context))!.value

    for (const route of ['/counter', '/logout', '/api/counter', '/api/logout'])
      await expect(postedFrom(page, foreign.sameSite, example, route)).resolves.toEqual({
        status: 403,
        site: 'same-site',
        withCookie: true,
        code: 214,
      })

    await expect(countOn(page, example)).resolves.toBe(0)
    expect((await sessionCookie(context))?.value).toBe(cookie)
  })

  it('lets that page through once the app trusts its origin, and no other', async () => {
    const { context, page } = await signedIn(trusting)
    const cookie = (await sessionCookie(context))!.value

    const counter = await postedFrom(page, foreign.sameSite, trusting, '/counter')
    expect(counter).toMatchObject({ status: 303, site: 'same-site' })
    await expect(shownCount(page)).resolves.toBe(1)
    const untrusted = await postedFrom(page, foreign.crossSite, trusting, '/counter')
    expect(untrusted).toMatchObject({ status: 403, site: 'cross-site', code: 214 })

    const logout = await postedFrom(page, foreign.sameSite, trusting, '/logout')
    expect(logout).toMatchObject({ status: 303, site: 'same-site' })
    expect((await sessionCookie(context))?.value).not.toBe(cookie)
    await expect(countOn(page, trusting)).resolves.toBeUndefined()
  })
})
