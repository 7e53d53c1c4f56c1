import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { parse, serialize } from 'cookie'
import { MAX_COOKIE_AGE } from '../core/expiry'
import { MAX_TOKEN_LENGTH } from '../core/token'
import type { ResolvedOptions } from '../session/options'

/** A request as this package reads it: Express's, Connect's or node:http's. */
export type TokenRequest = IncomingMessage & { cookies?: unknown; secure?: boolean }

/**
 * Where the token travels: read from the request header (which wins) or the cookie, written
 * back as `Set-Cookie` and as the response header. Nothing here throws on hostile input.
 */
export class TokenTransport {
  readonly #options: ResolvedOptions
  readonly #headerKey: string | undefined

  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#headerKey = options.header === false ? undefined : options.header.toLowerCase()
  }

  /**
   * The token the request presents, or `undefined` when it presents none. `req.cookies` (from
   * `cookie-parser`, or an adapter that hands cookies over parsed) is looked at only when the
   * `Cookie` header does not carry the token, since it mostly holds the same cookies: on Express,
   * a property a request lacks costs a walk up its prototype chain.
   */
  read(req: TokenRequest): string | undefined {
    const headers = req.headers
    if (this.#headerKey !== undefined) {
      const value = headers[this.#headerKey]
      const header = Array.isArray(value) ? value[0] : value
      if (header) return header
    }
    if (this.#options.cookie === false) return undefined
    const fromHeader = headers.cookie === undefined ? undefined : this.#fromCookieHeader(headers.cookie)
    if (fromHeader !== undefined) return fromHeader
    const parsed = req.cookies
    if (parsed === null || typeof parsed !== 'object') return undefined
    const value = (parsed as Record<string, unknown>)[this.#options.name]
    return typeof value === 'string' && Object.hasOwn(parsed, this.#options.name)
      ? value || undefined
      : undefined
  }

  #fromCookieHeader(header: string): string | undefined {
    if (header.length > 16384) return undefined
    try {
      const value = parse(header)[this.#options.name]
      return value && value.length <= MAX_TOKEN_LENGTH * 3 ? value : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Sends a token: `Set-Cookie` lasting `cookieAge` seconds, and the response header. The cookie
   * lasts at least as long as the server keeps the session, so the browser never drops a live one.
   */
  send(req: TokenRequest, res: ServerResponse, token: string, cookieAge: number): void {
    if (res.headersSent) return
    if (this.#options.header !== false) res.setHeader(this.#options.header, token)
    this.#setCookie(req, res, token, Math.min(Math.max(cookieAge, 1), MAX_COOKIE_AGE))
  }

  /** Tells the client to forget its token. */
  clear(req: TokenRequest, res: ServerResponse): void {
    if (res.headersSent) return
    if (this.#options.header !== false) res.removeHeader(this.#options.header)
    this.#setCookie(req, res, '', 0)
  }

  #setCookie(req: TokenRequest, res: ServerResponse, value: string, maxAge: number): void {
    const cookie = this.#options.cookie
    if (cookie === false) return
    const secure = cookie.secure === 'auto' ? isSecure(req) : cookie.secure
    const line = serialize(this.#options.name, value, {
      path: cookie.path,
      httpOnly: cookie.httpOnly,
      sameSite: cookie.sameSite,
      secure,
      maxAge,
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

function isSecure(req: TokenRequest): boolean {
  if (typeof req.secure === 'boolean') return req.secure
  return (req.socket as Partial<TLSSocket> | undefined)?.encrypted === true
}
