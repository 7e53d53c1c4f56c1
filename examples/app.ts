// The example app: server-rendered pages for browsers and a JSON API under /api for other clients.
import path from 'node:path'
import express, { type Express, type RequestHandler } from 'express'
import {
  csrfGuard,
  login,
  logout,
  MemoryStore,
  requireSession,
  SessionManager,
  type Store,
} from '../lib/index'
import { apiErrors } from './errors'
import { LivePanel } from './live'
import { pageRoutes } from './page-routes'
import { authenticate } from './sign-in'

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
  app.use(pageRoutes({ live, maxAge, trustedOrigins }))
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
