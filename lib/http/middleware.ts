import type { ServerResponse } from 'node:http'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import { cookieAge, MAX_COOKIE_AGE } from '../core/expiry'
import { hashMatches, TokenSigner, type VerifiedToken, VerifiedTokens } from '../core/token'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from '../session/options'
import { Session } from '../session/session'
import type { SessionContext } from '../session/session-context'
import { type Awaitable, isPromise, type SessionRecord } from '../stores/store'
import { ResponseHold } from './response-hold'
import { type PresentedToken, type TokenRequest, TokenTransport } from './transport'

/** The `(req, res, next)` function that Express, Connect and node:http servers call. */
export type SessionMiddleware = (
  req: TokenRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void

/** A token older than this is issued again, so the browser's cookie never reaches its 400-day cap. */
const RENEW_COOKIE_AFTER_MS = (MAX_COOKIE_AGE / 2) * 1000

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
  const signer = new TokenSigner(resolved.secret)
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

/**
 * A token signed by an older key is issued again under the first, so the old key can be dropped
 * after one `maxAge`; and one near the browser's cookie cap, so the cookie is renewed once a window.
 */
function needsReissue(record: SessionRecord, parts: VerifiedToken): boolean {
  if (parts.keyIndex > 0) return true
  const outlivesCookie =
    record.lifetime === 0 ||
    record.createdAt + record.lifetime * 1000 > parts.issuedAt + MAX_COOKIE_AGE * 1000
  return outlivesCookie && Date.now() - parts.issuedAt > RENEW_COOKIE_AFTER_MS
}

/**
 * Why the record a verified token names does not admit it, or how it admits it: by its current
 * token, or only by the one `refresh()` replaced, inside the grace window.
 */
function verdictOn(
  record: SessionRecord | undefined,
  parts: VerifiedToken,
): SessionError | { graceOnly: boolean } {
  if (!record) return new SessionError('SESSION_NOT_EXIST', 'the session does not exist; log in again')
  if (record.ended === 'replaced')
    return new SessionError('SESSION_REPLACED', 'the session was replaced by a newer login')
  if (record.ended === 'expired')
    return new SessionError('SESSION_EXPIRED', 'the session expired; log in again')
  if (hashMatches(parts.secretHash, record.tokenHash)) return { graceOnly: false }
  if (
    (record.previousTokenExpiresAt ?? 0) > Date.now() &&
    hashMatches(parts.secretHash, record.previousTokenHash)
  )
    return { graceOnly: true }
  debug('token of session %s was replaced by refresh()', parts.sessionId)
  return new SessionError('SESSION_REPLACED', 'the token was replaced by a newer one')
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

  deliver(token: string, cookieAge: number): void {
    this.#send(() => this.transport.send(this.req, this.res, token, cookieAge, this.exposesToken()))
  }

  canDeliver(): boolean {
    return !this.res.headersSent
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
