import { randomBytes } from 'node:crypto'
import { MemoryStore } from '../stores/memory/memory-store'
import { isUserSessionStore, type Store } from '../stores/store'

/** Cookie attributes of the session cookie. */
export interface SessionCookieOptions {
  /** @default '/' */
  path?: string
  /** @default undefined (the request's host only) */
  domain?: string
  /** Keep the token away from page scripts. @default true */
  httpOnly?: boolean
  /** @default 'lax' */
  sameSite?: 'lax' | 'strict' | 'none'
  /** `'auto'`: Secure on HTTPS requests (Express `req.secure`, which honours `trust proxy`). @default 'auto' */
  secure?: boolean | 'auto'
  /** CHIPS partitioned cookie. @default false */
  partitioned?: boolean
  /** @default undefined */
  priority?: 'low' | 'medium' | 'high'
}

/** Options of `sessionMiddleware()`. */
export interface SessionOptions {
  /** Cookie name, and the default request and response header name. @default '_cookie_vars' */
  name?: string
  /** Header that may carry the token (it wins over the cookie); `false` turns header tokens off. @default name */
  header?: string | false
  /** Cookie attributes; `false` = header-only mode, no `Set-Cookie` ever. @default { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' } */
  cookie?: SessionCookieOptions | false
  /** Seconds of inactivity after which a session ends (sliding); 0 = no idle expiry. @default 3600 */
  maxAge?: number
  /** Seconds after creation at which a session ends whatever its activity; 0 = off. @default 0 */
  lifetime?: number
  /**
   * Signing keys: the first signs, all verify (rotation). Required for every store but
   * `MemoryStore`, which otherwise generates a random key (tokens then die with the process).
   */
  secret?: string | readonly string[]
  /** Where sessions live. @default new MemoryStore() */
  store?: Store
  /** A new login for a uid ends that uid's other sessions (their tokens fail SESSION_REPLACED). @default false */
  singleSession?: boolean
  /** Seconds the token replaced by `refresh()` still verifies, for requests already in flight. @default 0 */
  refreshGrace?: number
}

/** Options after defaults and validation: what the middleware runs on. */
export interface ResolvedOptions {
  readonly name: string
  readonly header: string | false
  readonly cookie:
    | (Readonly<Required<Pick<SessionCookieOptions, 'path' | 'httpOnly' | 'sameSite' | 'secure'>>> &
        Readonly<Pick<SessionCookieOptions, 'domain' | 'partitioned' | 'priority'>>)
    | false
  readonly maxAge: number
  readonly lifetime: number
  readonly secret: readonly string[]
  readonly store: Store
  readonly singleSession: boolean
  readonly refreshGrace: number
}

/** Shortest signing key accepted: an HMAC-SHA256 key should carry at least 128 bits. */
export const MIN_SECRET_LENGTH = 32

const DEFAULTS = {
  name: '_cookie_vars',
  maxAge: 3600,
  lifetime: 0,
  singleSession: false,
  refreshGrace: 0,
} as const
const COOKIE_DEFAULTS = { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' } as const
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

let warnedAboutRandomSecret = false

/**
 * Applies the defaults and validates every option once, at setup: bad configuration throws a
 * `TypeError` naming the option and the value. The caller's object is left untouched.
 */
export function resolveOptions(input: SessionOptions = {}): ResolvedOptions {
  const name = input.name ?? DEFAULTS.name
  if (!TOKEN_CHARS.test(name))
    throw new TypeError(`option name must be a cookie name token, got ${input.name}`)
  const header = input.header ?? name
  if (header !== false && !TOKEN_CHARS.test(header))
    throw new TypeError(`option header must be a header name or false, got ${input.header}`)
  for (const option of ['maxAge', 'lifetime', 'refreshGrace'] as const) {
    const value = input[option]
    if (value !== undefined && !(Number.isInteger(value) && value >= 0))
      throw new TypeError(`option ${option} must be a whole number of seconds >= 0, got ${value}`)
  }
  if (input.singleSession !== undefined && typeof input.singleSession !== 'boolean')
    throw new TypeError(`option singleSession must be a boolean, got ${input.singleSession}`)
  const store = input.store ?? new MemoryStore()
  if (typeof store.get !== 'function' || typeof store.create !== 'function')
    throw new TypeError('option store must implement the Store interface (create, get, update, delete)')
  if (input.singleSession && !isUserSessionStore(store))
    throw new TypeError('option singleSession needs a store with list() and deleteAll()')
  return Object.freeze({
    ...DEFAULTS,
    ...withoutUndefined(input),
    name,
    header,
    cookie: resolveCookie(input.cookie),
    secret: resolveSecret(input.secret, store),
    store,
  })
}

function resolveCookie(cookie: SessionCookieOptions | false | undefined): ResolvedOptions['cookie'] {
  if (cookie === false) return false
  const resolved = { ...COOKIE_DEFAULTS, ...withoutUndefined(cookie ?? {}) }
  if (!['lax', 'strict', 'none'].includes(resolved.sameSite))
    throw new TypeError(`option cookie.sameSite must be 'lax', 'strict' or 'none', got ${resolved.sameSite}`)
  if (resolved.secure !== 'auto' && typeof resolved.secure !== 'boolean')
    throw new TypeError(`option cookie.secure must be true, false or 'auto', got ${resolved.secure}`)
  if (resolved.sameSite === 'none' && resolved.secure === false)
    throw new TypeError(
      "option cookie.sameSite 'none' needs cookie.secure true or 'auto'; browsers drop it otherwise",
    )
  return Object.freeze(resolved)
}

function resolveSecret(secret: SessionOptions['secret'], store: Store): readonly string[] {
  if (secret === undefined) {
    if (!(store instanceof MemoryStore))
      throw new TypeError('option secret is required with a store shared between processes')
    if (!warnedAboutRandomSecret) {
      warnedAboutRandomSecret = true
      process.emitWarning(
        'cosgo-session: no secret given, using a random one; sessions will not survive a restart',
        { code: 'COSGO_SESSION_RANDOM_SECRET' },
      )
    }
    return Object.freeze([randomBytes(32).toString('base64url')])
  }
  const keys = typeof secret === 'string' ? [secret] : [...secret]
  if (keys.length === 0) throw new TypeError('option secret must name at least one key')
  for (const key of keys)
    if (typeof key !== 'string' || key.length < MIN_SECRET_LENGTH)
      throw new TypeError(
        `option secret: every key must be a string of at least ${MIN_SECRET_LENGTH} characters`,
      )
  return Object.freeze(keys)
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>
}
