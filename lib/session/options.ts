import { randomBytes } from 'node:crypto'
import { MemoryStore } from '../stores/memory/memory-store'
import { isUserSessionStore, type Store } from '../stores/store'
import {
  checkBoolean,
  checkCookieAttribute,
  checkKnownKeys,
  checkOneOf,
  checkSeconds,
  checkSecretKeys,
  checkToken,
  checkWhole,
} from './option-checks'

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
  /**
   * Store what a request wrote even when its response is a 500 or above. Off, the handler failed,
   * so its writes are dropped; `create`, `refresh`, `destroy` and `save()` act at once regardless.
   * @default false
   */
  saveOnServerError?: boolean
  /**
   * Most bytes a session's values may take as stored JSON (keys and values); a `set`, `update` or
   * `create` past it throws SESSION_TOO_LARGE (215) and changes nothing. 0 turns it off.
   * @default 65536
   */
  maxSessionBytes?: number
  /**
   * Whether a login's cookie outlives the browser's close, when `create()` does not say; `false`
   * makes every cookie a browser-session cookie (no `Max-Age`). The server's expiry is the same.
   * @default true
   */
  persistent?: boolean
  /**
   * Record where each login was made, for the user's list of devices (`session.sessions()`): the
   * `User-Agent` (first 256 characters) and the client address (Express's `req.ip`, which honours
   * `trust proxy`, else the socket's). `false` records neither, for privacy.
   * @default true
   */
  recordDevice?: boolean
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
  readonly saveOnServerError: boolean
  readonly maxSessionBytes: number
  readonly persistent: boolean
  readonly recordDevice: boolean
}

/** Shortest signing key accepted: an HMAC-SHA256 key should carry at least 128 bits. */
export const MIN_SECRET_LENGTH = 32

const DEFAULTS = {
  name: '_cookie_vars',
  maxAge: 3600,
  lifetime: 0,
  singleSession: false,
  refreshGrace: 0,
  saveOnServerError: false,
  maxSessionBytes: 65536,
  persistent: true,
  recordDevice: true,
} as const
const COOKIE_DEFAULTS = { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' } as const

const OPTION_KEYS = [...Object.keys(DEFAULTS), 'header', 'cookie', 'secret', 'store']
const COOKIE_KEYS = ['path', 'domain', 'httpOnly', 'sameSite', 'secure', 'partitioned', 'priority']

let warnedAboutRandomSecret = false

/**
 * Applies the defaults and validates every option once, at setup: bad configuration throws a
 * `TypeError` naming the option and the value. The caller's object is left untouched.
 */
export function resolveOptions(input: SessionOptions = {}): ResolvedOptions {
  if (input === null || typeof input !== 'object') throw new TypeError('options must be an object')
  checkKnownKeys(input, OPTION_KEYS, 'option')
  const name = checkToken('name', input.name ?? DEFAULTS.name)
  const header = input.header === false ? false : checkToken('header', input.header ?? name)
  const store = input.store ?? new MemoryStore()
  for (const method of ['create', 'get', 'update', 'delete'] as const)
    if (typeof store?.[method] !== 'function')
      throw new TypeError('option store must implement the Store interface (create, get, update, delete)')
  const singleSession = checkBoolean('singleSession', input.singleSession) ?? DEFAULTS.singleSession
  if (singleSession && !isUserSessionStore(store))
    throw new TypeError('option singleSession needs a store with list() and deleteAll()')
  return Object.freeze({
    name,
    header,
    cookie: resolveCookie(name, input.cookie),
    maxAge: checkSeconds('maxAge', input.maxAge) ?? DEFAULTS.maxAge,
    lifetime: checkSeconds('lifetime', input.lifetime) ?? DEFAULTS.lifetime,
    secret: resolveSecret(input.secret, store),
    store,
    singleSession,
    refreshGrace: checkSeconds('refreshGrace', input.refreshGrace) ?? DEFAULTS.refreshGrace,
    saveOnServerError:
      checkBoolean('saveOnServerError', input.saveOnServerError) ?? DEFAULTS.saveOnServerError,
    maxSessionBytes: checkWhole('maxSessionBytes', input.maxSessionBytes) ?? DEFAULTS.maxSessionBytes,
    persistent: checkBoolean('persistent', input.persistent) ?? DEFAULTS.persistent,
    recordDevice: checkBoolean('recordDevice', input.recordDevice) ?? DEFAULTS.recordDevice,
  })
}

function resolveCookie(
  name: string,
  cookie: SessionCookieOptions | false | undefined,
): ResolvedOptions['cookie'] {
  if (cookie === false) return false
  if (cookie !== undefined && (cookie === null || typeof cookie !== 'object'))
    throw new TypeError(
      `option cookie must be an object of cookie attributes or false, got ${String(cookie)}`,
    )
  checkKnownKeys(cookie ?? {}, COOKIE_KEYS, 'option cookie.')
  const resolved = { ...COOKIE_DEFAULTS, ...withoutUndefined(cookie ?? {}) }
  checkOneOf('cookie.sameSite', resolved.sameSite, ['lax', 'strict', 'none'] as const)
  checkOneOf('cookie.secure', resolved.secure, [true, false, 'auto'] as const)
  checkOneOf('cookie.httpOnly', resolved.httpOnly, [true, false] as const)
  if (resolved.partitioned !== undefined)
    checkOneOf('cookie.partitioned', resolved.partitioned, [true, false] as const)
  if (resolved.priority !== undefined)
    checkOneOf('cookie.priority', resolved.priority, ['low', 'medium', 'high'] as const)
  checkCookieAttribute(name, 'path', resolved.path)
  checkCookieAttribute(name, 'domain', resolved.domain)
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
  return checkSecretKeys(
    typeof secret === 'string' ? [secret] : Array.isArray(secret) ? [...secret] : [secret],
    MIN_SECRET_LENGTH,
  )
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>
}
