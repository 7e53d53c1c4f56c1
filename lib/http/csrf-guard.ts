import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse } from 'cookie'
import { debug } from '../core/debug'
import { SessionError } from '../core/errors'
import { checkBoolean, checkKnownKeys, checkToken, describe } from '../session/option-checks'
import { type NextFunction, sendSessionError } from './answers'
import { type OriginRequest, originOf, requestOrigin } from './request-origin'

/** Options of `csrfGuard()`. */
export interface CsrfGuardOptions {
  /**
   * Origins besides the app's own whose pages may send it state-changing requests, each written
   * `scheme://host[:port]`, such as `'https://admin.example.com'`. No wildcards.
   * @default []
   */
  trustedOrigins?: readonly string[]
  /**
   * Let through what the browser marks `Sec-Fetch-Site: same-site`: pages on another subdomain or
   * port of the same site. A browser without Fetch Metadata is judged by its `Origin` alone, so
   * list such origins in `trustedOrigins` as well.
   * @default false
   */
  allowSameSite?: boolean
  /** The session cookie's name, sessionMiddleware's `name`: a request that carries it is a browser's. @default '_cookie_vars' */
  name?: string
  /**
   * The header that carries the session token, sessionMiddleware's `header`. A request with it, no
   * session cookie, and no `Sec-Fetch-Site`, `Origin` or `Referer` is an API client's, which no page
   * can make a browser send, and passes; `false`: no request passes that way.
   * @default name
   */
  header?: string | false
}

/** The guard as it runs: origins normalised, names checked. */
interface ResolvedGuardOptions {
  readonly trustedOrigins: ReadonlySet<string>
  readonly allowSameSite: boolean
  readonly name: string
  readonly header: string | false
}

/** Methods that must not change state (RFC 9110 §9.2.1), so any page may send them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const OPTION_KEYS = ['trustedOrigins', 'allowSameSite', 'name', 'header']

const CROSS_ORIGIN = "cross-origin request refused: only this app's own pages and trustedOrigins may send it"

/**
 * Refuses state-changing requests (every method but GET, HEAD and OPTIONS) that a page of another
 * origin may have sent, with `403 { code: 214, error: 'CSRF_REJECTED', message }`. It believes the
 * browser's `Sec-Fetch-Site`, else compares `Origin`, else `Referer`, with the request's own origin
 * and `trustedOrigins`; a request with none of the three passes only as an API client's: the token
 * header and no session cookie. It needs no session and no token, so it fits in front of any route.
 *
 * @example
 * app.use(csrfGuard({ trustedOrigins: ['https://admin.example.com'] }))
 */
export function csrfGuard(
  options: CsrfGuardOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  const resolved = resolveGuardOptions(options)
  return function csrfGuard(req, res, next) {
    const refusal = refusalOf(req, resolved)
    if (refusal === undefined) return next()
    debug('csrfGuard refused %s %s: %s', req.method, req.url, refusal.why)
    sendSessionError(res, new SessionError('CSRF_REJECTED', refusal.message))
  }
}

/** Why `req` must not reach the route, or `undefined` when it may. */
function refusalOf(
  req: IncomingMessage,
  options: ResolvedGuardOptions,
): { why: string; message: string } | undefined {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return undefined
  const site = headerOf(req, 'sec-fetch-site')
  const origin = headerOf(req, 'origin')
  const trusted = (text: string | undefined) => {
    const parsed = text === undefined ? undefined : originOf(text)
    return parsed !== undefined && options.trustedOrigins.has(parsed)
  }
  // every current browser sends Sec-Fetch-Site and no page can change it: its verdict decides;
  // `none` is the user's own doing (the address bar, a bookmark), which no other page started
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none') return undefined
    if (site === 'same-site' && options.allowSameSite) return undefined
    if (trusted(origin)) return undefined
    return { why: `Sec-Fetch-Site ${JSON.stringify(site)}`, message: CROSS_ORIGIN }
  }
  const source = origin !== undefined ? 'Origin' : 'Referer'
  const claimed = origin ?? headerOf(req, 'referer')
  if (claimed !== undefined) {
    const parsed = originOf(claimed)
    if (parsed !== undefined && (parsed === requestOrigin(req as OriginRequest) || trusted(parsed)))
      return undefined
    return { why: `${source} ${JSON.stringify(claimed)}`, message: CROSS_ORIGIN }
  }
  if (options.header !== false && headerOf(req, options.header) && !carriesCookie(req, options.name))
    return undefined
  return {
    why: 'no Sec-Fetch-Site, Origin or Referer',
    message:
      options.header === false
        ? 'request refused: it names no origin; send Origin'
        : `request refused: it names no origin; send Origin, or the token in the ${options.header} header and no cookie`,
  }
}

/** A request header as one string; a repeated one stays joined, so it matches no single value. */
function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Whether the request carries the session cookie, in its `Cookie` header or in `req.cookies`. */
function carriesCookie(req: IncomingMessage, name: string): boolean {
  const header = req.headers.cookie
  if (header !== undefined) {
    try {
      if (Object.hasOwn(parse(header), name)) return true
    } catch {
      return true
    }
  }
  const parsed = (req as { cookies?: unknown }).cookies
  return parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, name)
}

/** Applies the defaults and checks every option once, at setup; the caller's object is left as it was. */
function resolveGuardOptions(input: CsrfGuardOptions): ResolvedGuardOptions {
  if (input === null || typeof input !== 'object') throw new TypeError('options must be an object')
  checkKnownKeys(input, OPTION_KEYS, 'option')
  const name = checkToken('name', input.name ?? '_cookie_vars')
  return Object.freeze({
    trustedOrigins: trustedOriginsOf(input.trustedOrigins ?? []),
    allowSameSite: checkBoolean('allowSameSite', input.allowSameSite) ?? false,
    name,
    header: input.header === false ? false : checkToken('header', input.header ?? name),
  })
}

/** Each trusted origin as a browser writes it in `Origin`: a mistyped one fails at setup, not silently. */
function trustedOriginsOf(list: unknown): ReadonlySet<string> {
  if (!Array.isArray(list))
    throw new TypeError(`option trustedOrigins must be an array of origins, got ${describe(list)}`)
  return new Set(list.map((value, index) => trustedOrigin(value, `trustedOrigins[${index}]`)))
}

function trustedOrigin(value: unknown, option: string): string {
  const origin = typeof value === 'string' && !value.includes('*') ? originOf(value) : undefined
  // the whole of the text is the origin: no path, query, fragment or user name to drop silently
  if (origin === undefined || new URL(value as string).href !== `${origin}/`)
    throw new TypeError(
      `option ${option} must be an origin, scheme://host[:port] such as 'https://app.example.com', got ${describe(value)}`,
    )
  return origin
}
