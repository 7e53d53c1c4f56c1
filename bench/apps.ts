/**
 * The scenario apps: the same three routes on Express 5 in each, differing only in how the
 * session is kept. Every request carries its session's cookie; a request whose session is
 * missing answers 401, so a broken setup shows up as non-2xx answers instead of fast nothing.
 *
 *   POST /login?uid=u7   creates the session { user: uid, n: 0 } and sets the cookie
 *   GET  /read           answers { user, n } read from the session (two keys)
 *   POST /write          increments n in the session and answers { n }
 */
import { randomBytes } from 'node:crypto'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import express, { type Express, type Request, type Response } from 'express'
import { Redis } from 'ioredis'
import type { MemoryStore, RedisStore } from './library'
import { library } from './subject'
import { type ExpressSessionOfRequest, type ExpressSessionOptions, expressSession } from './vendor'

export const SCENARIOS = [
  'bare',
  'ours-memory',
  'express-session-memory',
  'bare-redis',
  'ours-redis',
  'express-session-redis',
] as const
export type ScenarioName = (typeof SCENARIOS)[number]

export interface ScenarioInfo {
  label: string
  store: 'memory' | 'redis'
  /** The scenario whose throughput this one is divided by: the bare app of the same store kind. */
  baseline: ScenarioName
}

export const SCENARIO_INFO: Record<ScenarioName, ScenarioInfo> = {
  bare: { label: 'bare Express 5, no session', store: 'memory', baseline: 'bare' },
  'ours-memory': { label: 'cosgo-session + MemoryStore', store: 'memory', baseline: 'bare' },
  'express-session-memory': { label: 'express-session + MemoryStore', store: 'memory', baseline: 'bare' },
  'bare-redis': { label: 'bare Express 5 + raw HGETALL/HSET', store: 'redis', baseline: 'bare-redis' },
  'ours-redis': { label: 'cosgo-session + RedisStore', store: 'redis', baseline: 'bare-redis' },
  'express-session-redis': {
    label: 'express-session + connect-redis',
    store: 'redis',
    baseline: 'bare-redis',
  },
}

export function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name)
}

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
/** Idle expiry for every library: one hour, sliding. */
export const MAX_AGE_SECONDS = 3600

export interface ScenarioApp {
  app: Express
  close(): Promise<void>
}

/**
 * Builds the app of `name`; the Redis scenarios connect to `redisUrl`. `redisTimeout` (ms) bounds
 * our RedisStore's calls: the default of 1 s, except under valgrind, which runs 50 times slower.
 */
export function buildScenario(
  name: ScenarioName,
  redisUrl: string | undefined,
  redisTimeout?: number,
): ScenarioApp {
  const app = express()
  const needRedis = () => {
    if (!redisUrl) throw new Error(`scenario ${name} needs BENCH_REDIS_URL`)
    return redisUrl
  }
  switch (name) {
    case 'bare':
      return bare(app)
    case 'bare-redis':
      return bareRedis(app, new Redis(needRedis()))
    case 'ours-memory':
      return ours(app, new library.MemoryStore())
    case 'ours-redis': {
      const store = new library.RedisStore(needRedis(), {
        prefix: 'bench',
        ...(redisTimeout ? { timeout: redisTimeout } : {}),
      })
      return ours(app, store)
    }
    case 'express-session-memory':
      return withExpressSession(app, undefined)
    case 'express-session-redis': {
      const client = new Redis(needRedis())
      const store = new ConnectRedisStore({ client, prefix: 'es:' })
      return withExpressSession(app, store as unknown as ExpressSessionOptions['store'], () => client.quit())
    }
  }
}

function bare(app: Express): ScenarioApp {
  let n = 0
  app.post('/login', (req, res) => {
    res.setHeader('set-cookie', `sid=${randomBytes(16).toString('base64url')}; Path=/; HttpOnly`)
    res.json({ uid: String(req.query.uid) })
  })
  app.get('/read', (_req, res) => {
    res.json({ user: 'u1', n })
  })
  app.post('/write', (_req, res) => {
    n++
    res.json({ n })
  })
  return { app, close: async () => {} }
}

/** The least a Redis-backed session can do: one HGETALL to read, and one HSET more to write. */
function bareRedis(app: Express, redis: Redis): ScenarioApp {
  const keyOf = (req: Request) => {
    const cookie = req.headers.cookie ?? ''
    const start = cookie.indexOf('sid=')
    if (start < 0) return undefined
    const end = cookie.indexOf(';', start)
    return `bare:${cookie.slice(start + 4, end < 0 ? undefined : end)}`
  }
  app.post('/login', async (req, res) => {
    const token = randomBytes(16).toString('base64url')
    const uid = String(req.query.uid)
    await redis.hset(`bare:${token}`, 'user', uid, 'n', '0')
    res.setHeader('set-cookie', `sid=${token}; Path=/; HttpOnly`)
    res.json({ uid })
  })
  app.get('/read', async (req, res) => {
    const key = keyOf(req)
    const fields = key === undefined ? {} : await redis.hgetall(key)
    if (fields.user === undefined) return void res.sendStatus(401)
    res.json({ user: fields.user, n: Number(fields.n) })
  })
  app.post('/write', async (req, res) => {
    const key = keyOf(req)
    const fields = key === undefined ? {} : await redis.hgetall(key)
    if (fields.user === undefined || key === undefined) return void res.sendStatus(401)
    const n = Number(fields.n) + 1
    await redis.hset(key, 'n', String(n))
    res.json({ n })
  })
  return { app, close: async () => void (await redis.quit()) }
}

function ours(app: Express, store: MemoryStore | RedisStore): ScenarioApp {
  app.use(library.sessionMiddleware({ secret: SECRET, store, maxAge: MAX_AGE_SECONDS }))
  app.post('/login', async (req, res) => {
    const uid = String(req.query.uid)
    await req.session.create(uid, { user: uid, n: 0 })
    res.json({ uid })
  })
  app.get('/read', (req, res) => {
    if (!req.session.exists) return void res.sendStatus(401)
    res.json({ user: req.session.get('user'), n: req.session.get('n') })
  })
  app.post('/write', (req, res) => {
    if (!req.session.exists) return void res.sendStatus(401)
    const n = req.session.getNumber('n') + 1
    req.session.set('n', n)
    res.json({ n })
  })
  return { app, close: () => store.close() }
}

/** express-session configured to match: no resave, nothing saved before login, sliding hour. */
function withExpressSession(
  app: Express,
  store: ExpressSessionOptions['store'],
  close: () => Promise<unknown> = async () => {},
): ScenarioApp {
  app.use(
    expressSession({
      secret: SECRET,
      ...(store ? { store } : {}),
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: MAX_AGE_SECONDS * 1000, httpOnly: true, sameSite: 'lax' },
    }),
  )
  const sessionOf = (req: Request) => (req as unknown as { session: ExpressSessionOfRequest }).session
  app.post('/login', (req, res: Response, next) => {
    const uid = String(req.query.uid)
    sessionOf(req).regenerate((error) => {
      if (error) return next(error)
      const session = sessionOf(req)
      session.user = uid
      session.n = 0
      res.json({ uid })
    })
  })
  app.get('/read', (req, res) => {
    const session = sessionOf(req)
    if (session.user === undefined) return void res.sendStatus(401)
    res.json({ user: session.user, n: session.n })
  })
  app.post('/write', (req, res) => {
    const session = sessionOf(req)
    if (session.user === undefined) return void res.sendStatus(401)
    const n = Number(session.n) + 1
    session.n = n
    res.json({ n })
  })
  return { app, close: async () => void (await close()) }
}
