import { SessionError } from '../core/errors'
import type { ManagedSession } from '../session/managed-session'
import { SessionManagerCore, type SessionManagerOptions } from '../session/session-manager-core'
import type { AppSessionValues } from './augment'
import { middlewareOn, type SessionMiddleware } from './middleware'
import { type TokenRequest, TokenTransport } from './transport'

/** Options of `verifyRequest()`. */
export interface VerifyRequestOptions {
  /**
   * The page origins (`https://app.example`) whose pages may open this socket. A browser sends
   * the cookie with a WebSocket upgrade from any site, so without this check any page can act
   * as the user (cross-site WebSocket hijacking); another Origin is refused with CSRF_REJECTED
   * (214) before any store read. A request without `Origin` (no browser) is not checked.
   * @default undefined (not checked)
   */
  origins?: readonly string[]
  /**
   * A query-string parameter that may carry the token, for browser clients on another origin
   * that cannot send the cookie or a header. URLs end up in logs and proxies: keep it off
   * unless needed, and keep such tokens short-lived.
   * @default undefined (off)
   */
  query?: string
}

/**
 * Sessions wherever a token arrives: `middleware()` for HTTP, `verify(token)` and
 * `verifyRequest(req)` for sockets and jobs, `create(uid)` without a request, `destroyAll(uid)`,
 * and the `ended` event for every session of the store that ends, in this process or another.
 * Takes the options of `sessionMiddleware()`, with the same defaults and checks. `T` types the
 * values, the app's `SessionData` by default, as `req.session`.
 *
 * @example
 * const sessions = new SessionManager({ secret: process.env.SESSION_SECRET, store })
 * app.use(sessions.middleware())
 * sessions.on('ended', ({ id }) => socketsOf(id).forEach((socket) => socket.close(4401, 'ended')))
 */
export class SessionManager<T extends object = AppSessionValues> extends SessionManagerCore<T> {
  readonly #transport: TokenTransport
  #middleware: SessionMiddleware | undefined

  constructor(options: SessionManagerOptions = {}) {
    super(options)
    this.#transport = new TokenTransport(this.options)
  }

  /** The `(req, res, next)` middleware of these options: the same as `sessionMiddleware(options)`. */
  middleware(): SessionMiddleware {
    this.#middleware ??= middlewareOn(this.options, this.signer)
    return this.#middleware
  }

  /**
   * The session of an upgrade request (a WebSocket, socket.io's handshake), by the header or the
   * cookie as the middleware reads them, or the `query` parameter when turned on: one store read,
   * none for a refused Origin (CSRF_REJECTED, 214) or a forged token. Never throws for a bad
   * token: `exists` is false and `error` says why. Rejects only with STORE_UNAVAILABLE (210).
   */
  async verifyRequest(req: TokenRequest, options: VerifyRequestOptions = {}): Promise<ManagedSession<T>> {
    const origin = req.headers.origin
    if (options.origins !== undefined && origin !== undefined && !options.origins.includes(origin))
      return this.refused(
        new SessionError('CSRF_REJECTED', `an upgrade from ${JSON.stringify(origin)} is not allowed`),
      )
    const presented = this.#transport.read(req)
    if (presented?.token !== undefined)
      return this.verifyToken(presented.token, this.#transport.exposesToken(req, presented))
    if (presented?.unusable === undefined && options.query !== undefined) {
      const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get(options.query)
      if (token) return this.verifyToken(token, true)
    }
    return this.verifyToken(undefined, false)
  }
}
