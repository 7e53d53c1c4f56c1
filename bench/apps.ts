/**
 * The scenario apps: the same three routes on Express 5 in each, differing only in how the
 * session is kept. Every request carries its session's cookie; a request whose session is
 * missing answers 401, so a broken setup shows up as non-2xx answers instead of fast nothing.
 *
 *   POST /login?uid=u7   creates the session { user: uid, n: 0 } and sets the cookie
 *   GET  /read           answers { user, n } read from the session (two keys)
 *   POST /write          increments n in the session and answers { n }
 *
 * The size scenarios (`SIZE_SCENARIOS`) are ours on either store with a larger session: the login
 * adds filler keys (bench/session-size.ts), the read and write routes stay the same.
 */
import { randomBytes } from 'node:crypto'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import express, { type Express, type Request, type Response } from 'express'
import { Redis } from 'ioredis'
import type { Store } from '../lib/store'
import type { MemoryStore, RedisStore } from './library'
import { type SessionSize, sessionValues } from './session-size'
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

/** Ours on each store at each session size; the 2-key ones are the scenarios above. */
export const SIZE_SCENARIOS = [
  'ours-memory',
  'ours-memory-100keys',
  'ours-memory-64kB',
  'ours-redis',
  'ours-redis-100keys',
  'ours-redis-64kB',
] as const

export type ScenarioName = (typeof SCENARIOS)[number] | (typeof SIZE_SCENARIOS)[number]

export interface ScenarioInfo {
  label: string
  store: 'memory' | 'redis'
  /**
   * The scenario whose throughput this one is divided by: the bare app of the same store kind,
   * and for a size scenario ours with the 2-key session on the same store.
   */
  baseline: ScenarioName
  /** The session a login creates: 2 keys unless a size scenario says otherwise. */
  size: SessionSize
}

export const SCENARIO_INFO: Record<ScenarioName, ScenarioInfo> = {
  bare: { label: 'bare Express 5, no session', store: 'memory', baseline: 'bare', size: 'keys2' },
  'ours-memory': { label: 'cosgo-session + MemoryStore', store: 'memory', baseline: 'bare', size: 'keys2' },
  'express-session-memory': {
    label: 'express-session + MemoryStore',
    store: 'memory',
    baseline: 'bare',
    size: 'keys2',
  },
  'bare-redis': {
    label: 'bare Express 5 + raw HGETALL/HSET',
    store: 'redis',
    baseline: 'bare-redis',
    size: 'keys2',
  },
  'ours-redis': {
    label: 'cosgo-session + RedisStore',
    store: 'redis',
    baseline: 'bare-redis',
    size: 'keys2',
  },
  'express-session-redis': {
    label: 'express-session + connect-redis',
    store: 'redis',
    baseline: 'bare-redis',
    size: 'keys2',
  },
  'ours-memory-100keys': {
    label: 'cosgo-session + MemoryStore, 100 keys',
    store: 'memory',
    baseline: 'ours-memory',
    size: 'keys100',
  },
  'ours-memory-64kB': {
    label: 'cosgo-session + MemoryStore, 64 kB',
    store: 'memory',
    baseline: 'ours-memory',
    size: 'kB64',
  },
  'ours-redis-100keys': {
    label: 'cosgo-session + RedisStore, 100 keys',
    store: 'redis',
    baseline: 'ours-redis',
    size: 'keys100',
  },
  'ours-redis-64kB': {
    label: 'cosgo-session + RedisStore, 64 kB',
    store: 'redis',
    baseline: 'ours-redis',
    size: 'kB64',
  },
}

export function isScenario(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIO_INFO, name)
}

export const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
/** Idle expiry for every library: one hour, sliding. */
export const MAX_AGE_SECONDS = 3600

export interface ScenarioApp {
  app: Express
  close(): Promise<void>
  /** What our store's `update` was handed, when the app was built with `countUpdates`. */
  updates?: UpdateCounts
}

/** Calls of our store's `update`, with the keys and the JSON bytes of values they carried. */
export interface UpdateCounts {
  calls: number
  keys: number
  valueBytes: number
}

export interface BuildOptions {
  /** Bounds our RedisStore's calls (ms): the default of 1 s, except under valgrind, 50 times slower. */
  redisTimeout?: number
  /** Count what each `update` of our store carries (`ScenarioApp.updates`), to check write sizes. */
  countUpdates?: boolean
}

/** Builds the app of `name`; the Redis scenarios connect to `redisUrl`. */
export function buildScenario(
  name: ScenarioName,
  redisUrl: string | undefined,
  options: BuildOptions = {},
): ScenarioApp {
  const app = express()
  const needRedis = () => {
    if (!redisUrl) throw new Error(`scenario ${name} needs BENCH_REDIS_URL`)
    return redisUrl
  }
  const { size } = SCENARIO_INFO[name]
  switch (name) {
    case 'bare':
      return bare(app)
    case 'bare-redis':
      return bareRedis(app, new Redis(needRedis()))
    case 'ours-memory':
    case 'ours-memory-100keys':
    case 'ours-memory-64kB':
      return ours(app, new library.MemoryStore(), size, options.countUpdates)
    case 'ours-redis':
    case 'ours-redis-100keys':
    case 'ours-redis-64kB': {
      const store = new library.RedisStore(needRedis(), {
        prefix: 'bench',
        ...(options.redisTimeout ? { timeout: options.redisTimeout } : {}),
      })
      return ours(app, store, size, options.countUpdates)
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

function ours(
  app: Express,
  store: MemoryStore | RedisStore,
  size: SessionSize,
  countUpdates = false,
): ScenarioApp {
  const updates = countUpdates ? countUpdatesOf(store) : undefined
  app.use(library.sessionMiddleware({ secret: SECRET, store, maxAge: MAX_AGE_SECONDS }))
  app.post('/login', async (req, res) => {
    const uid = String(req.query.uid)
    await req.session.create(uid, sessionValues(size, uid))
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
  return { app, close: () => store.close(), ...(updates ? { updates } : {}) }
}

/**
 * Wraps `store.update` on this one instance to count what each call carries: a check server's
 * store, never one whose throughput is measured.
 */
function countUpdatesOf(store: Store): UpdateCounts {
  const counts: UpdateCounts = { calls: 0, keys: 0, valueBytes: 0 }
  const update = store.update.bind(store)
  store.update = (id, change) => {
    counts.calls++
    counts.keys += (change.set?.size ?? 0) + (change.unset?.length ?? 0)
    for (const value of change.set?.values() ?? [])
      counts.valueBytes += Buffer.byteLength(JSON.stringify(value))
    return update(id, change)
  }
  return counts
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
