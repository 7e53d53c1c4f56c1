import type { ServerResponse } from 'node:http'
import { debug } from './debug'
import { SessionError, storeUnavailable } from './errors'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options'
import { Session, type SessionContext } from './session'
import type { SessionRecord } from './store'
import { hashMatches, TokenSigner, VerifiedTokens } from './token'
import { MAX_COOKIE_AGE, type TokenRequest, TokenTransport } from './transport'

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
    if (request.session instanceof Session) return next()
    const context = new RequestContext(resolved, signer, transport, req, res)
    const token = transport.read(req)
    if (token === undefined) {
      request.session = new Session(context)
      return next()
    }
    verify(token, resolved, tokens).then(
      ({ record, error }) => {
        const session = new Session(context, record && { record, token }, true)
        session.error = error
        request.session = session
        if (record && record.lifetime === 0 && Date.now() - record.createdAt > (MAX_COOKIE_AGE / 2) * 1000)
          context.deliver(token, MAX_COOKIE_AGE)
        next()
      },
      (error: unknown) => next(storeUnavailable(error)),
    )
  }
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
    flushBeforeEnd(session, this.res)
  }
}

/** The outcome of checking a presented token: the live record, or why it was refused. */
interface Verification {
  record?: SessionRecord
  error?: SessionError
}

async function verify(
  token: string,
  options: ResolvedOptions,
  tokens: VerifiedTokens,
): Promise<Verification> {
  const parts = tokens.verify(token)
  if (!parts)
    return { error: new SessionError('SESSION_ILLEGAL', 'the session token is malformed or forged') }
  const record = await options.store.get(parts.sessionId)
  if (!record)
    return { error: new SessionError('SESSION_NOT_EXIST', 'the session does not exist; log in again') }
  if (record.ended === 'replaced')
    return { error: new SessionError('SESSION_REPLACED', 'the session was replaced by a newer login') }
  if (record.ended === 'expired')
    return { error: new SessionError('SESSION_EXPIRED', 'the session expired; log in again') }
  if (hashMatches(parts.secretHash, record.tokenHash)) return { record }
  const now = Date.now()
  if ((record.previousTokenExpiresAt ?? 0) > now && hashMatches(parts.secretHash, record.previousTokenHash))
    return { record }
  debug('token of session %s was replaced by refresh()', parts.sessionId)
  return { error: new SessionError('SESSION_REPLACED', 'the token was replaced by a newer one') }
}

/**
 * Holds `res.end` until the dirty keys are stored, so the client's next request reads its own
 * writes and nothing is acknowledged that was not stored: a failed flush becomes the error's
 * answer while headers are unsent, and an aborted response once they are.
 */
function flushBeforeEnd(session: Session, res: ServerResponse): void {
  const end = res.end
  let ending = false
  res.end = function endAfterFlush(this: ServerResponse, ...args: unknown[]) {
    if (ending) return this
    if (!session.dirty) return end.apply(this, args as Parameters<typeof end>)
    ending = true
    session.save().then(
      () => end.apply(this, args as Parameters<typeof end>),
      (error: unknown) => {
        const failure = error instanceof SessionError ? error : storeUnavailable(error)
        debug('flush failed, answering %d: %s', failure.status, failure.message)
        if (this.headersSent) return this.destroy(failure)
        for (const header of this.getHeaderNames()) if (header !== 'set-cookie') this.removeHeader(header)
        this.statusCode = failure.status
        this.setHeader('content-type', 'application/json; charset=utf-8')
        end.apply(this, [JSON.stringify(failure)] as unknown as Parameters<typeof end>)
      },
    )
    return this
  } as ServerResponse['end']
}
