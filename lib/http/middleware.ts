import type { ServerResponse } from 'node:http'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import { cookieAge } from '../core/expiry'
import { TokenSigner, type VerifiedToken, VerifiedTokens } from '../core/token'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from '../session/options'
import { Session } from '../session/session'
import type { SessionContext } from '../session/session-context'
import { needsReissue, verdictOn } from '../session/verdict'
import { type Awaitable, isPromise, type SessionRecord } from '../stores/store'
import { deviceOf } from './request-device'
import { ResponseHold } from './response-hold'
import { type PresentedToken, type TokenRequest, TokenTransport } from './transport'

/** The `(req, res, next)` function that Express, Connect and node:http servers call. */
export type SessionMiddleware = (
  req: TokenRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void

type RequestWithSession = TokenRequest & { session?: unknown }

/**
 * Attaches `req.session` to every request: verifies the token from the header or cookie with one
 * store read (which also slides its expiry), and when the handler answers, stores the keys it
 * changed, and only those, before any byte of the response goes out.
 *
 * @example
 * app.use(sessionMiddleware({ secret: process.env.SESSION_SECRET, store: new MemoryStore() }))
 */
export function sessionMiddleware(options: SessionOptions = {}): SessionMiddleware {
  const resolved = resolveOptions(options)
  return middlewareOn(resolved, new TokenSigner(resolved.secret))
}

/** @internal The middleware on options already resolved: `SessionManager.middleware()` shares its own. */
export function middlewareOn(resolved: ResolvedOptions, signer: TokenSigner): SessionMiddleware {
  const tokens = new VerifiedTokens(signer)
  const transport = new TokenTransport(resolved)

  return function sessionMiddleware(req, res, next) {
    const request = req as RequestWithSession
    if (Object.hasOwn(request, 'session')) {
      const owner = request.session instanceof Session ? request.session.origin : undefined
      if (owner === resolved) return next()
      return next(
        new SessionError(
          'SESSION_ERROR',
          `two session middlewares reached this request: ${owner ? `"${owner.name}"` : 'another'} and "${resolved.name}"; mount them on separate routes`,
        ),
      )
    }
    const presented = transport.read(req)
    const context = new RequestContext(resolved, signer, transport, req, res, presented)
    if (presented === undefined) {
      request.session = new Session(context)
      return next()
    }
    const parts = presented.unusable === undefined ? tokens.verify(presented.token) : undefined
    if (!parts) {
      debug('token refused: %s', presented.unusable ?? 'malformed or forged')
      request.session = refused(
        context,
        new SessionError('SESSION_ILLEGAL', 'the session token is malformed or forged'),
      )
      return next()
    }
    let answer: Awaitable<SessionRecord | undefined>
    try {
      answer = resolved.store.get(parts.sessionId)
    } catch (error) {
      return next(storeUnavailable(error))
    }
    if (!isPromise(answer)) return admit(request, context, parts, answer, next)
    answer.then(
      (record) => admit(request, context, parts, record, next),
      (error: unknown) => next(storeUnavailable(error)),
    )
  }
}

/** Attaches the session the record admits, or a refused one with the reason, and goes on. */
function admit(
  request: RequestWithSession,
  context: RequestContext,
  parts: VerifiedToken,
  record: SessionRecord | undefined,
  next: () => void,
): void {
  const verdict = verdictOn(record, parts)
  if (verdict instanceof SessionError || !record) {
    request.session = refused(context, verdict instanceof SessionError ? verdict : undefined)
    return next()
  }
  let token = parts.token
  if (!verdict.graceOnly && needsReissue(record, parts)) {
    token = context.signer.reissue(parts)
    context.deliver(token, cookieAge(record))
  }
  request.session = new Session(context, record, token, true, verdict.graceOnly)
  next()
}

/** A session for a request whose token was refused, with the reason. */
function refused(context: RequestContext, error: SessionError | undefined): Session {
  const session = new Session(context, undefined, undefined, true)
  session.error = error
  return session
}

/** One request's side of its session: where tokens go, and the hold on its response once needed. */
class RequestContext implements SessionContext {
  #hold: ResponseHold | undefined
  #exposes: boolean | undefined

  constructor(
    readonly options: ResolvedOptions,
    readonly signer: TokenSigner,
    readonly transport: TokenTransport,
    readonly req: TokenRequest,
    readonly res: ServerResponse,
    readonly presented: PresentedToken,
  ) {}

  deliver(token: string, cookieAge: number | undefined): void {
    this.#send(() => this.transport.send(this.req, this.res, token, cookieAge, this.exposesToken()))
  }

  canDeliver(): boolean {
    return !this.res.headersSent
  }

  device(): Pick<SessionRecord, 'userAgent' | 'address'> {
    return deviceOf(this.req)
  }

  forget(): void {
    this.#send(() => this.transport.clear(this.req, this.res))
  }

  /** A request that only reads never holds its response; the first write or new token does. */
  dirtied(session: Session): void {
    this.#hold ??= new ResponseHold(this.res, session, { saveOnServerError: this.options.saveOnServerError })
  }

  responseEnded(): boolean {
    return this.#hold ? this.#hold.appEnded : this.res.writableEnded
  }

  exposesToken(): boolean {
    this.#exposes ??= this.transport.exposesToken(this.req, this.presented)
    return this.#exposes
  }

  /** Changes headers that the response waited for, past the hold's guards; refused once Node sent them. */
  #send(change: () => void): void {
    const hold = this.#hold
    if (hold ? !hold.headersOpen : this.res.headersSent)
      throw new SessionError(
        'HEADERS_SENT',
        'the response headers are sent: the token could not reach the client',
      )
    if (hold) hold.unguarded(change)
    else change()
  }
}
