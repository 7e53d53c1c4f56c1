/**
 * What the browser tests stand on: Debian's chromium driven by playwright-core (never a
 * downloaded browser), the example app listening on a free loopback port with the store under
 * test, and small steps a person would take (sign in, read the counter, take a screenshot).
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createExample } from '../../examples/app'
import { MemoryStore, type Store } from '../../lib/index'
import { RedisStore } from '../../lib/redis'
import { RedisServer } from '../../spec/support/redis-server'

/** The stores every browser test runs against. */
export const STORES = ['memory', 'redis'] as const
export type StoreKind = (typeof STORES)[number]

/** The session cookie's name: the package's default. */
export const COOKIE = '_cookie_vars'

const SCREENSHOTS = path.join(__dirname, '..', 'screenshots')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Starts headless chromium from the system package, with everything that phones home turned off. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** What a test may change of a fresh browser profile. */
export interface ContextOptions {
  javaScriptEnabled?: boolean
  bypassCSP?: boolean
  /** The `User-Agent` it sends, to pose as another device. @default chromium's own */
  userAgent?: string
}

/** A User-Agent of Safari on an iPhone, for a second device in the sessions list. */
export const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

/** A fresh browser profile (cookie jar) with short timeouts, so a broken step fails fast. */
export async function newContext(browser: Browser, options: ContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 }, ...options })
  context.setDefaultTimeout(10_000)
  context.setDefaultNavigationTimeout(10_000)
  return context
}

/** One running instance of the example app. */
export interface RunningExample {
  /** `http://127.0.0.1:<port>`, or `http://localhost:<port>` when started with `host: 'localhost'` */
  url: string
  close(): Promise<void>
}

/** How `startExample` runs the app. */
export interface ExampleSetup {
  /** Seconds without a request after which a session ends. @default 1800 */
  maxAge?: number
  /** The host name in `url`; the server listens on 127.0.0.1 either way. @default '127.0.0.1' */
  host?: '127.0.0.1' | 'localhost'
  /** The app's `trustedOrigins`. @default [] */
  trustedOrigins?: readonly string[]
}

/** Where the stores of one `describe` block come from: memory, or a redis-server of its own. */
export interface StoreFactory {
  make(): Store
  stop(): Promise<void>
}

/**
 * Stores of `kind`: each `make()` a new `MemoryStore`, or a `RedisStore` with a prefix of its own
 * on a `redis-server` these tests start on a free port (never the machine's 6379, never FLUSHALL).
 */
export async function storeFactory(kind: StoreKind): Promise<StoreFactory> {
  if (kind === 'memory') return { make: () => new MemoryStore(), stop: async () => {} }
  const server = await RedisServer.start()
  const stores: RedisStore[] = []
  return {
    make() {
      const store = new RedisStore(server.url, { prefix: `e2e-${randomBytes(4).toString('hex')}` })
      stores.push(store)
      return store
    },
    async stop() {
      await Promise.all(stores.map((store) => store.close()))
      await server.stop()
    },
  }
}

/** Starts the example app on a free loopback port with `store`, as `setup` says. */
export async function startExample(store: Store, setup: ExampleSetup = {}): Promise<RunningExample> {
  const { maxAge = 1800, host = '127.0.0.1', trustedOrigins = [] } = setup
  const secret = randomBytes(32).toString('base64url')
  const example = createExample({ secret, store, maxAge, trustedOrigins })
  const server = createServer(example.app)
  example.live.attach(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${host}:${port}`,
    close: async () => {
      await example.close()
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
}

/**
 * Signs in through the login form, as a person would, and waits for the profile page; with
 * `remember`, "Remember me" is ticked.
 */
export async function signIn(
  page: Page,
  url: string,
  user: string,
  options: { remember?: boolean } = {},
): Promise<void> {
  await page.goto(`${url}/login`)
  await page.getByLabel('User name').fill(user)
  await page.getByLabel('Password').fill('demo')
  if (options.remember) await page.getByLabel('Remember me').check()
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(`${url}/profile`)
}

/** The counter the profile page shows. */
export async function shownCount(page: Page): Promise<number> {
  return Number(await page.locator('#count').textContent())
}

/** The session cookie of `context`, as the browser holds it. */
export async function sessionCookie(context: BrowserContext) {
  return (await context.cookies()).find((cookie) => cookie.name === COOKIE)
}

/** Calls the example's JSON API from outside the browser, presenting `token` as the cookie. */
export async function apiWithCookie(
  url: string,
  route: string,
  token: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api${route}`, {
    headers: { cookie: `${COOKIE}=${token}` },
    redirect: 'manual',
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** Saves a full-page screenshot as e2e/screenshots/<name>.png, for people to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** Resolves after `milliseconds`. */
export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
