import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import connect from 'connect'
import express5 from 'express'
import express4 from 'express4'
import { SessionError } from '../../lib/core/errors'
import { sendJson } from '../../lib/http/answers'
import { login, logout, requireSession } from '../../lib/http/helpers'
import { sessionMiddleware } from '../../lib/http/middleware'
import type { SessionOptions } from '../../lib/session/options'
import type { Session } from '../../lib/session/session'

/** The servers every middleware behaviour is checked on. */
export const FRAMEWORKS = ['express 5', 'express 4', 'connect', 'node:http'] as const
export type Framework = (typeof FRAMEWORKS)[number]

type Request = IncomingMessage & { session: Session; body?: Record<string, unknown> }
type Next = (error?: unknown) => void
type Handler = (req: Request, res: ServerResponse, next: Next) => void | Promise<void>

/** Middleware a test mounts in front of the session's, such as `csrfGuard()`. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void

/** Extra routes a test adds, keyed `'METHOD /path'`. */
export type Routes = Record<string, Handler | Handler[]>

const guarded =
  (handler: (req: Request, res: ServerResponse) => Promise<void> | void): Handler =>
  async (req, res, next) => {
    try {
      await handler(req, res)
    } catch (error) {
      next(error)
    }
  }

/** The routes an app in the tests has: login, reads, writes, refresh, logout, per-user operations. */
export const standardRoutes: Routes = {
  'POST /login': login((req: Request) => {
    const body = req.body ?? {}
    if (typeof body.uid !== 'string') return null
    return {
      uid: body.uid,
      values: (body.values ?? {}) as Record<string, never>,
      ...(body.persistent === undefined ? {} : { persistent: body.persistent as boolean }),
      ...(body.keep === undefined ? {} : { keep: body.keep as boolean | string[] }),
    }
  }),
  'GET /me': [
    requireSession(),
    (req, res) =>
      sendJson(res, 200, { id: req.session.id, uid: req.session.uid, values: req.session.toJSON() }),
  ],
  'GET /peek': (req, res) =>
    sendJson(res, 200, {
      exists: req.session.exists,
      error: req.session.error?.error ?? null,
      values: req.session,
    }),
  'POST /set': guarded((req, res) => {
    req.session.update((req.body ?? {}) as Record<string, never>)
    sendJson(res, 200, req.session)
  }),
  'POST /unset': guarded((req, res) => {
    for (const key of (req.body?.keys ?? []) as string[]) req.session.unset(key)
    sendJson(res, 200, req.session)
  }),
  'POST /increment': guarded((req, res) => {
    req.session.set('count', req.session.getNumber('count') + 1)
    sendJson(res, 200, { count: req.session.getNumber('count') })
  }),
  'POST /refresh': guarded(async (req, res) => sendJson(res, 200, { token: await req.session.refresh() })),
  'POST /logout': logout(),
  'GET /sessions': guarded(async (req, res) => sendJson(res, 200, await req.session.sessions())),
  'POST /revoke': guarded(async (req, res) => {
    await req.session.revoke(String(req.body?.id))
    res.statusCode = 204
    res.end()
  }),
  'POST /destroy-all': guarded(async (req, res) => {
    await req.session.destroyAll()
    res.statusCode = 204
    res.end()
  }),
}

/** Reads a JSON body with plain node:http, so every framework gets the same parsing. */
function readJson(req: Request, _res: ServerResponse, next: Next): void {
  if (req.method !== 'POST') return next()
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8')
    try {
      req.body = text ? JSON.parse(text) : {}
      next()
    } catch (error) {
      next(error)
    }
  })
}

/** Answers errors as `{ code, error, message }` with the error's status. */
function answerError(error: unknown, res: ServerResponse): void {
  if (res.headersSent) return void res.destroy()
  if (error instanceof SessionError) return sendJson(res, error.status, error.toJSON())
  sendJson(res, 500, { message: error instanceof Error ? error.message : String(error) })
}

function route(routes: Routes, req: Request, res: ServerResponse, done: Next): void {
  const path = (req.url ?? '/').split('?')[0]
  const handlers = routes[`${req.method} ${path}`]
  if (!handlers) return sendJson(res, 404, { message: 'not found' })
  const chain = Array.isArray(handlers) ? handlers : [handlers]
  const run = (index: number, error?: unknown): void => {
    if (error !== undefined) return done(error)
    const handler = chain[index]
    if (!handler) return done()
    void handler(req, res, (next?: unknown) => run(index + 1, next))
  }
  run(0)
}

/** Runs `middleware` one after the other, as Express and Connect would, then `done`. */
function inTurn(
  middleware: readonly Middleware[],
  req: IncomingMessage,
  res: ServerResponse,
  done: Next,
): void {
  const run = (index: number, error?: unknown): void => {
    const next = middleware[index]
    if (error !== undefined || !next) return done(error)
    next(req, res, (nextError?: unknown) => run(index + 1, nextError))
  }
  run(0)
}

/**
 * A real HTTP server of `framework` with `first` (none by default), the session middleware and the
 * standard routes (plus `routes`), not yet listening: supertest starts it on a free loopback port.
 */
export function createApp(
  framework: Framework,
  options: SessionOptions = {},
  routes: Routes = {},
  first: readonly Middleware[] = [],
): Server {
  const middleware = sessionMiddleware(options)
  const all = { ...standardRoutes, ...routes }
  const router = (req: IncomingMessage, res: ServerResponse, next: Next) =>
    route(all, req as Request, res, next)
  switch (framework) {
    case 'express 5':
    case 'express 4': {
      const app = (framework === 'express 5' ? express5() : express4()) as ReturnType<typeof express5>
      for (const one of first) app.use(one)
      app.use(middleware)
      app.use(readJson as never)
      app.use(router)
      app.use((error: unknown, _req: unknown, res: ServerResponse, _next: unknown) => answerError(error, res))
      return createServer(app)
    }
    case 'connect': {
      const app = connect()
      for (const one of first) app.use(one)
      app.use(middleware as never)
      app.use(readJson as never)
      app.use(router)
      app.use((error: unknown, _req: IncomingMessage, res: ServerResponse, _next: Next) =>
        answerError(error, res),
      )
      return createServer(app)
    }
    case 'node:http':
      return createServer((req, res) => {
        const fail = (error?: unknown) =>
          error === undefined ? sendJson(res, 404, {}) : answerError(error, res)
        inTurn([...first, middleware, readJson as Middleware, router], req, res, fail)
      })
  }
}
