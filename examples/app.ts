// The example app: server-rendered pages for browsers and a JSON API under /api for other clients.
import path from 'node:path'
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express'
import {
  csrfGuard,
  type LoginRequest,
  login,
  logout,
  MemoryStore,
  requireSession,
  SessionError,
  SessionManager,
  type Store,
} from '../lib/index'
import { LivePanel } from './live'
import { DEMO_PASSWORD, errorPage, loginPage, type Notice, profilePage } from './views'

/** Options of `createExampleApp()`. */
export interface ExampleAppOptions {
  /** Signing keys, each at least 32 characters; the first signs. */
  secret: string | readonly string[]
  /**
   * Where sessions live; it must list a user's sessions, as `MemoryStore` and `RedisStore` do.
   * @default new MemoryStore()
   */
  store?: Store
  /** Seconds without a request after which a session ends. @default 1800 */
  maxAge?: number
  /** Origins besides its own whose pages may post its forms, such as `'https://admin.example.com'`. @default [] */
  trustedOrigins?: readonly string[]
}

// Maps, not object literals: `?reason=constructor` must find nothing.
const LOGIN_REASONS = new Map<unknown, Notice>([
  ['signed-out', { text: 'You are signed out.', kind: 'info' }],
  ['signed-out-everywhere', { text: 'You are signed out in every browser.', kind: 'info' }],
  [
    'wrong-password',
    {
      text: `Wrong user name or password: any name up to 64 characters, password “${DEMO_PASSWORD}”.`,
      kind: 'error',
    },
  ],
])

const PROFILE_NOTICES = new Map<unknown, string>([
  ['refreshed', 'New token issued: the previous one no longer works.'],
  ['revoked', 'That session has ended; its browser is signed out.'],
])

/** The example app, and the live panel its profile pages open, to attach to the HTTP server. */
export interface Example {
  app: Express
  live: LivePanel
  /** Closes the panel's sockets and stops listening for ended sessions; the store stays open. */
  close(): Promise<void>
}

/**
 * Builds the example app on Express 5, not yet listening, so that `examples/server.ts` and the
 * browser tests can each start it on a port of their choosing with the store and idle timeout
 * they need. Pages are plain forms with 303 redirects; `/api` answers JSON and reads the token
 * from the `_cookie_vars` header as well as the cookie. Every post but the API's login is refused
 * unless one of the app's own pages, a trusted origin's page or a client with the header token sent it.
 * `live.attach(server)` adds the profile page's WebSocket (`/live`) to the server that runs `app`.
 *
 * @example
 * const { app, live } = createExample({ secret: process.env.SESSION_SECRET!, store: new MemoryStore() })
 * live.attach(app.listen(3000))
 */
export function createExample(options: ExampleAppOptions): Example {
  const { secret, store = new MemoryStore(), maxAge = 1800, trustedOrigins = [] } = options
  const sessions = new SessionManager({ secret, store, maxAge })
  const live = new LivePanel(sessions)
  const app = express()
  app.disable('x-powered-by')
  app.use(securityHeaders)
  app.use(express.static(path.join(__dirname, 'public'), { maxAge: '1h' }))
  app.use(noStore)
  app.use(sessions.middleware())
  app.use('/api', apiRoutes(live, trustedOrigins))
  app.use(pageRoutes(live, maxAge, trustedOrigins))
  return {
    app,
    live,
    async close() {
      live.close()
      await sessions.close()
    },
  }
}

/** The example app without its live panel: every page works, the panel's script only says it is offline. */
export function createExampleApp(options: ExampleAppOptions): Express {
  return createExample(options).app
}

/** Reads the demo credentials from a form or JSON body: any user name, the demo password. */
function authenticate(req: LoginRequest): { uid: string; values: Record<string, string | number> } | null {
  const user = typeof req.body?.user === 'string' ? req.body.user.trim() : ''
  if (user.length === 0 || user.length > 64 || req.body?.password !== DEMO_PASSWORD) return null
  return { uid: user, values: { username: user, loggedInAt: new Date().toISOString(), count: 0 } }
}

function pageRoutes(live: LivePanel, maxAge: number, trustedOrigins: readonly string[]): express.Router {
  const pages = express.Router()
  const signedIn = requireSession({ redirect: '/login' })
  // every form post, login included, before its body is read; GET pages pass untouched
  pages.use(csrfGuard({ trustedOrigins }))
  pages.use(express.urlencoded({ extended: false, limit: '10kb' }))

  pages.get('/', (req, res) => res.redirect(303, req.session.exists ? '/profile' : '/login'))

  pages.get('/login', async (req, res) => {
    if (req.session.exists) return res.redirect(303, '/profile')
    const notice = LOGIN_REASONS.get(req.query.reason) ?? endedNotice(req.session.error, maxAge)
    // A refused cookie has said what it had to say: drop it so a reload shows a clean form. Not
    // when the live panel sent the page here: a sign-in in another tab may have just set a new
    // cookie, which clearing the one this request carried would wipe out.
    if (req.session.error && req.query.from !== 'live') await req.session.destroy()
    res.type('html').send(loginPage({ notice, maxAge }))
  })

  pages.post(
    '/login',
    login(authenticate, { successRedirect: '/profile', failureRedirect: '/login?reason=wrong-password' }),
  )

  pages.get('/profile', signedIn, async (req, res) => {
    const session = req.session
    res.type('html').send(
      profilePage({
        username: session.getString('username'),
        loggedInAt: session.getString('loggedInAt'),
        count: session.getNumber('count'),
        sessionId: session.id ?? '',
        maxAge,
        sessions: await session.sessions(),
        notice: PROFILE_NOTICES.get(req.query.notice),
      }),
    )
  })

  pages.post('/counter', signedIn, (req, res) => {
    const count = req.session.getNumber('count') + 1
    req.session.set('count', count)
    live.counted(req.session.uid!, req.session.id!, count)
    res.redirect(303, '/profile')
  })

  pages.post('/refresh', signedIn, async (req, res) => {
    await req.session.refresh()
    res.redirect(303, '/profile?notice=refreshed')
  })

  pages.post('/sessions/revoke', signedIn, async (req, res) => {
    await req.session.revoke(String(req.body?.id ?? ''))
    res.redirect(303, '/profile?notice=revoked')
  })

  pages.post('/logout', logout({ redirect: '/login?reason=signed-out' }))

  pages.post('/logout-everywhere', signedIn, async (req, res) => {
    await req.session.destroyAll()
    res.redirect(303, '/login?reason=signed-out-everywhere')
  })

  pages.use((_req, res) => {
    res
      .status(404)
      .type('html')
      .send(errorPage(404, 'Not found', 'There is no page at this address.'))
  })
  pages.use(pageErrors)
  return pages
}

function apiRoutes(live: LivePanel, trustedOrigins: readonly string[]): express.Router {
  const api = express.Router()
  const signedIn = requireSession()
  api.use(express.json({ limit: '10kb' }))

  // needs no guard: its JSON body is one no page can send another origin without CORS's consent
  api.post('/login', login(authenticate))
  // the rest read the cookie too, which a page on another port or subdomain gets sent with a form;
  // clients that send the token in the header (curl, apps) and no cookie pass
  api.use(csrfGuard({ trustedOrigins }))

  api.get('/me', signedIn, (req, res) => {
    res.json({
      uid: req.session.uid,
      username: req.session.getString('username'),
      loggedInAt: req.session.getString('loggedInAt'),
      count: req.session.getNumber('count'),
    })
  })

  api.post('/counter', signedIn, (req, res) => {
    const count = req.session.getNumber('count') + 1
    req.session.set('count', count)
    live.counted(req.session.uid!, req.session.id!, count)
    res.json({ count })
  })

  api.post('/refresh', signedIn, async (req, res) => {
    const token = await req.session.refresh()
    // an API client reads its new token here; a browser keeps it in the cookie, out of scripts' reach
    res.json(req.session.exposesToken() ? { token } : { refreshed: true })
  })

  api.get('/sessions', signedIn, async (req, res) => {
    res.json(await req.session.sessions())
  })

  api.post('/logout', logout())

  api.use((_req, res) => {
    res.status(404).json({ error: 'NOT_FOUND', message: 'no such API route' })
  })
  api.use(apiErrors)
  return api
}

/** Why the presented cookie was refused, in words, for the login page. */
function endedNotice(error: SessionError | undefined, maxAge: number): Notice | undefined {
  switch (error?.error) {
    case undefined:
      return undefined
    case 'SESSION_EXPIRED':
      return {
        text: `Your session expired after ${maxAge} s without a request. Sign in again.`,
        kind: 'info',
      }
    case 'SESSION_NOT_EXIST':
      return {
        text: 'Your session has ended: it expired or was signed out from another browser.',
        kind: 'info',
      }
    case 'SESSION_REPLACED':
      return { text: 'Your session was replaced by a newer one. Sign in again.', kind: 'info' }
    default:
      return { text: 'Your session cookie was not accepted. Sign in again.', kind: 'error' }
  }
}

/** A session that ended mid-request sends the browser to the login page; other failures get a page. */
const pageErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error)
  if (error instanceof SessionError && error.status === 401 && error.error !== 'SESSION_UNKNOWN')
    return res.redirect(303, '/login')
  const status = statusOf(error)
  if (status >= 500) console.error(error)
  const message = error instanceof SessionError && error.expose ? error.message : 'Something went wrong.'
  res
    .status(status)
    .type('html')
    .send(errorPage(status, status >= 500 ? 'Something went wrong' : 'Not allowed', message))
}

/** Errors answer `{ code, error, message }` for session errors, `{ error, message }` otherwise. */
const apiErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error)
  if (error instanceof SessionError) return res.status(error.status).json(error)
  const status = statusOf(error)
  if (status === 413)
    return res.status(413).json({ error: 'PAYLOAD_TOO_LARGE', message: 'send at most 10 kB of JSON' })
  if (status < 500)
    return res.status(status).json({ error: 'BAD_REQUEST', message: 'send a JSON object as the body' })
  console.error(error)
  res.status(500).json({ error: 'INTERNAL', message: 'something went wrong; try again' })
}

function statusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}

/** Pages and API answers carry session data and tokens: no cache, nor the Back button, may replay them. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('cache-control', 'no-store')
  next()
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'same-origin',
  })
  next()
}
