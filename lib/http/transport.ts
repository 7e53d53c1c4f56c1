import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { parse, serialize } from 'cookie'
import { MAX_COOKIE_AGE } from '../core/expiry'
import type { ResolvedOptions } from '../session/options'

/** A request as this package reads it: Express's, Connect's or node:http's. */
export type TokenRequest = IncomingMessage & { cookies?: unknown; secure?: boolean }

/** Longest `Cookie` header parsed; a longer one is refused unread, as a token that cannot be used. */
const MAX_COOKIE_HEADER = 16384

/**
 * What a request presents: a token and where it travelled, a token that cannot be used (with the
 * reason, for the debug log), or nothing.
 */
export type PresentedToken =
  | { token: string; via: 'header' | 'cookie'; unusable?: undefined }
  | { unusable: string; token?: undefined; via?: undefined }
  | undefined

/**
 * Where the token travels: read from the request header (which wins) or the cookie; written back
 * as `Set-Cookie`, and as the response header only to a client that reads it there (see
 * `exposesToken`). Nothing here throws on hostile input.
 */
export class TokenTransport {
  readonly #options: ResolvedOptions
  readonly #headerKey: string | undefined

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#headerKey = options.header === false ? undefined : options.header.toLowerCase()
  }

  /**
   * The token the request presents. `req.cookies` (from `cookie-parser`, or an adapter that hands
   * cookies over parsed) is looked at only when the `Cookie` header does not carry the token.
   * Names are looked up as own properties, so `constructor` or `__proto__` is a name like another.
   */
  read(req: TokenRequest): PresentedToken {
    const headers = req.headers
    if (this.#headerKey !== undefined && Object.hasOwn(headers, this.#headerKey)) {
      const value = headers[this.#headerKey]
      const header = Array.isArray(value) ? value[0] : value
      if (header) return { token: header, via: 'header' }
    }
    if (this.#options.cookie === false) return undefined
    const cookieHeader = headers.cookie
    if (cookieHeader !== undefined) {
      if (cookieHeader.length > MAX_COOKIE_HEADER)
        return { unusable: `the Cookie header is over ${MAX_COOKIE_HEADER} characters` }
      const fromHeader = ownString(parseCookies(cookieHeader), this.#options.name)
      if (fromHeader) return { token: fromHeader, via: 'cookie' }
    }
    const parsed = req.cookies
    if (parsed === null || typeof parsed !== 'object') return undefined
    const fromParser = ownString(parsed, this.#options.name)
    return fromParser ? { token: fromParser, via: 'cookie' } : undefined
  }

  /**
   * Whether responses to this request may carry the token outside the cookie (the response
   * header, `login()`'s body): only where header tokens are on, and either cookies are off or the
   * client is no browser that uses the cookie. Every current browser sends `Sec-Fetch-Site`,
   * which no page script can remove or forge, so a page never sees its token.
   */
  exposesToken(req: TokenRequest, presented: PresentedToken): boolean {
    if (this.#options.header === false) return false
    if (this.#options.cookie === false) return true
    // every current browser sends Sec-Fetch-Site; fetch() outside a browser sends Sec-Fetch-Mode only
    return req.headers['sec-fetch-site'] === undefined && presented?.via !== 'cookie'
  }

  /**
   * Sends a token: `Set-Cookie` lasting `cookieAge` seconds (at least as long as the server keeps
   * the session, so the browser never drops a live one; `undefined`, until the browser closes),
   * and the response header when `exposed`.
   */
  send(
    req: TokenRequest,
    res: ServerResponse,
    token: string,
    cookieAge: number | undefined,
    exposed: boolean,
  ): void {
    if (res.headersSent) return
    if (exposed && this.#options.header !== false) res.setHeader(this.#options.header, token)
    const maxAge = cookieAge === undefined ? undefined : Math.min(Math.max(cookieAge, 1), MAX_COOKIE_AGE)
    this.#setCookie(req, res, token, maxAge)
  }

  /** Tells the client to forget its token. */
  clear(req: TokenRequest, res: ServerResponse): void {
    if (res.headersSent) return
    if (this.#options.header !== false) res.removeHeader(this.#options.header)
    this.#setCookie(req, res, '', 0)
  }

  /** Sets the session cookie; without `maxAge` it is a browser-session cookie. */
  #setCookie(req: TokenRequest, res: ServerResponse, value: string, maxAge: number | undefined): void {
    const cookie = this.#options.cookie
    if (cookie === false) return
    // browsers drop a SameSite=None cookie without Secure, so it always has it
    const secure = cookie.sameSite === 'none' || (cookie.secure === 'auto' ? isSecure(req) : cookie.secure)
    const line = serialize(this.#options.name, value, {
      path: cookie.path,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      secure,
      ...(maxAge === undefined ? {} : { maxAge }),
      ...(maxAge === 0 ? { expires: new Date(0) } : {}),
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
      ...(cookie.partitioned === undefined ? {} : { partitioned: cookie.partitioned }),
      ...(cookie.priority === undefined ? {} : { priority: cookie.priority }),
    })
    const prefix = `${this.#options.name}=`
    const existing = res.getHeader('set-cookie')
    const others = (
      Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]
    ).filter((other) => !other.startsWith(prefix))
    res.setHeader('set-cookie', [...others, line])
  }
}

/** The cookies of a `Cookie` header; none when it cannot be parsed. */
function parseCookies(header: string): Record<string, string | undefined> {
  try {
    return parse(header)
  } catch {
    return {}
  }
}

/** `object[name]` when it is the object's own non-empty string, else `undefined`. */
function ownString(object: object, name: string): string | undefined {
  if (!Object.hasOwn(object, name)) return undefined
  const value = (object as Record<string, unknown>)[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

function isSecure(req: TokenRequest): boolean {
  if (typeof req.secure === 'boolean') return req.secure
  return (req.socket as Partial<TLSSocket> | undefined)?.encrypted === true
}
