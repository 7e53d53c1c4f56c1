/**
 * The packages the bench compares against ship no TypeScript types (and none are installed), so
 * they are loaded here once with the small part of their API the bench uses written out.
 */
import type { RequestHandler } from 'express'

type Callback = (error?: unknown, value?: unknown) => void

/** What express-session stores for a session: its cookie settings and the app's keys. */
export interface ExpressSessionData {
  cookie: object
  [key: string]: unknown
}

/** The callback store API of express-session (its MemoryStore, memorystore, connect-redis). */
export interface ExpressSessionStore {
  get(sessionId: string, callback?: Callback): void
  set(sessionId: string, session: ExpressSessionData, callback?: Callback): void
  destroy(sessionId: string, callback?: Callback): void
  length(callback: Callback): void
}

export interface ExpressSessionOptions {
  secret: string
  store?: ExpressSessionStore
  resave: boolean
  saveUninitialized: boolean
  rolling?: boolean
  cookie: { maxAge: number; httpOnly: boolean; sameSite: 'lax' | 'strict' | 'none'; path?: string }
}

interface ExpressSession {
  (options: ExpressSessionOptions): RequestHandler
  MemoryStore: new () => ExpressSessionStore & { sessions: Record<string, string> }
  Cookie: new (options: Partial<ExpressSessionOptions['cookie']>) => object
}

/** `req.session` of express-session, as the bench's routes use it. */
export interface ExpressSessionOfRequest {
  [key: string]: unknown
  regenerate(callback: (error?: unknown) => void): void
}

/** memorystore's store class (an LRU cache with TTLs underneath). */
export type MemorystoreClass = new (options: {
  checkPeriod?: number
  max?: number
  ttl?: number
}) => ExpressSessionStore & { store: { length: number; itemCount: number }; stopInterval(): void }

export interface AutocannonOptions {
  url: string
  method?: 'GET' | 'POST'
  connections: number
  pipelining: number
  duration: number
  setupClient?: (client: { setHeaders(headers: Record<string, string>): void }) => void
}

/** The part of autocannon's result the bench reads (latencies in milliseconds). */
export interface AutocannonResult {
  duration: number
  requests: { total: number; average: number }
  latency: { p50: number; p99: number; average: number; max: number }
  errors: number
  timeouts: number
  non2xx: number
}

export const expressSession = require('express-session') as ExpressSession
export const memorystore = require('memorystore') as (session: ExpressSession) => MemorystoreClass
export const autocannon = require('autocannon') as (options: AutocannonOptions) => Promise<AutocannonResult>
