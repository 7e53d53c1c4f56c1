import type { ServerResponse } from 'node:http'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import { MAX_COOKIE_AGE } from '../core/expiry'
import { hashMatches, TokenSigner, type VerifiedToken, VerifiedTokens } from '../core/token'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from '../session/options'
import { Session } from '../session/session'
import type { SessionContext } from '../session/session-context'
import { type Awaitable, isPromise, type SessionRecord } from '../stores/store'
import { toDictionaryModeIfExpress } from './dictionary-mode'
import { holdEnd } from './end-hold'
import { type TokenRequest, TokenTransport } from './transport'

/** The `(req, res, next)` function that Express, Connect and node:http servers call. */
export type SessionMiddleware = (
  req: TokenRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void

/**
 * Attaches `req.session` to every request: verifies the token from the header or cookie with one
 * store read (which also slides its expiry), and when the handler ends the response, stores the
 * keys it changed, and only those, before the response completes.
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
    const request = req as TokenRequest & { session?: Session }
    // hasOwn, not a read: reading an absent property of an Express request misses every inline cache
    if (Object.hasOwn(request, 'session') && request.session instanceof Session) return next()
    toDictionaryModeIfExpress(req)
    toDictionaryModeIfExpress(res)
    const context = new RequestContext(resolved, signer, transport, req, res)
    const token = transport.read(req)
    if (token === undefined) {
      request.session = new Session(context)
      return next()
    }
    const parts = tokens.verify(token)
    if (!parts) {
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
    if (!isPromise(answer)) return admit(request, context, token, parts, answer, next)
    answer.then(
      (record) => admit(request, context, token, parts, record, next),
      (error: unknown) => next(storeUnavailable(error)),
    )
  }
}

/** Attaches the session the record admits, or a refused one with the reason, and goes on. */
function admit(
  request: TokenRequest & { session?: Session },
  context: RequestContext,
  token: string,
  parts: VerifiedToken,
  record: SessionRecord | undefined,
  next: () => void,
): void {
  const error = refusal(record, parts)
  if (error || !record) request.session = refused(context, error)
  else {
    request.session = new Session(context, record, token, true)
    // a cookie nearing the browser's cap is renewed; the read just slid lastActiveAt to now
    if (record.lifetime === 0 && record.lastActiveAt - record.createdAt > (MAX_COOKIE_AGE / 2) * 1000)
      context.deliver(token, MAX_COOKIE_AGE)
  }
  next()
}

/** One request's side of its session: where tokens go, and the hold on `res.end` once it is dirty. */
class RequestContext implements SessionContext {
  #holdingEnd = false

  constructor(
    readonly options: ResolvedOptions,
    readonly signer: TokenSigner,
    readonly transport: TokenTransport,
    readonly req: TokenRequest,
    readonly res: ServerResponse,
  ) {}

  deliver(token: string, cookieAge: number): void {
    this.transport.send(this.req, this.res, token, cookieAge)
  }

  forget(): void {
    this.transport.clear(this.req, this.res)
  }

  /** A request that only reads never wraps `res.end`; the first write does. */
  dirtied(session: Session): void {
    if (this.#holdingEnd) return
    this.#holdingEnd = true
    holdEnd(session, this.res)
  }
}

/** A session for a request whose token was refused, with the reason. */
function refused(context: RequestContext, error: SessionError | undefined): Session {
  const session = new Session(context, undefined, undefined, true)
  session.error = error
  return session
}

/** Why the record a verified token names does not admit it, or `undefined` when it does. */
function refusal(record: SessionRecord | undefined, parts: VerifiedToken): SessionError | undefined {
  if (!record) return new SessionError('SESSION_NOT_EXIST', 'the session does not exist; log in again')
  if (record.ended === 'replaced')
    return new SessionError('SESSION_REPLACED', 'the session was replaced by a newer login')
  if (record.ended === 'expired')
    return new SessionError('SESSION_EXPIRED', 'the session expired; log in again')
  if (hashMatches(parts.secretHash, record.tokenHash)) return undefined
  if (
    (record.previousTokenExpiresAt ?? 0) > Date.now() &&
    hashMatches(parts.secretHash, record.previousTokenHash)
  )
    return undefined
  debug('token of session %s was replaced by refresh()', parts.sessionId)
  return new SessionError('SESSION_REPLACED', 'the token was replaced by a newer one')
}
