import type { IncomingMessage, ServerResponse } from 'node:http'
import { SessionError } from '../core/errors'
import type { CreateSessionOptions } from '../session/create-options'
import { Session } from '../session/session'
import { forwardErrors, type NextFunction, redirect, sendJson, sendSessionError } from './answers'
import type { AppSessionValues } from './augment'

/** A request that went through `sessionMiddleware()`. */
export type RequestWithSession<T extends object = AppSessionValues> = IncomingMessage & {
  session?: Session<T>
}

/**
 * The request `authenticate` receives by default: `body` is whatever a body parser such as
 * `express.json()` put there, as Express types it.
 */
// biome-ignore lint/suspicious/noExplicitAny: the body parser's output is untyped, as in Express
export type LoginRequest = IncomingMessage & { body?: any }

/** What `authenticate` resolves for a user who may log in: `session.create()`'s arguments. */
export interface LoginResult<T extends object = AppSessionValues> extends CreateSessionOptions {
  uid: string
  values?: Partial<T>
}

/** Options of `login()`. */
export interface LoginOptions {
  /** Redirect here (303) after a login instead of answering `200 { uid }`. @default undefined */
  successRedirect?: string
  /** Redirect here (303) after a refused login instead of answering 401. @default undefined */
  failureRedirect?: string
}

/** Options of `logout()`. */
export interface LogoutOptions {
  /** Redirect here (303) instead of answering 204. @default undefined */
  redirect?: string
}

/** Options of `requireSession()`. */
export interface RequireSessionOptions {
  /** Redirect here (303) instead of answering 401, for pages a browser opens. @default undefined */
  redirect?: string
}

/**
 * A login route: `authenticate(req)` resolves `{ uid, values }` for a user who may log in, or
 * `null`. On success it creates a new session (new id, new token: no fixation) and answers
 * `200 { uid }`, with `token` beside it only for a client that reads tokens outside the cookie
 * (an API client: never a browser); on `null`, `401` LOGIN_FAILED (211). Errors go to `next(error)`.
 *
 * @example
 * app.post('/login', express.json(), login(async (req) => checkPassword(req.body) ? { uid: req.body.user } : null))
 */
export function login<Req extends IncomingMessage = LoginRequest, T extends object = AppSessionValues>(
  authenticate: (
    req: Req,
  ) => LoginResult<NoInfer<T>> | null | undefined | Promise<LoginResult<NoInfer<T>> | null | undefined>,
  options: LoginOptions = {},
): (req: Req, res: ServerResponse, next: NextFunction) => void {
  return forwardErrors(async function login(req: Req, res: ServerResponse) {
    const session = sessionOf(req)
    const user = await authenticate(req)
    if (!user) {
      if (options.failureRedirect) return redirect(res, options.failureRedirect)
      return sendSessionError(res, new SessionError('LOGIN_FAILED', 'wrong user name or password'))
    }
    const { uid, values = {}, ...createOptions } = user
    const token = await (session as Session<T>).create(uid, values, createOptions)
    if (options.successRedirect) return redirect(res, options.successRedirect)
    sendJson(res, 200, session.exposesToken() ? { token, uid } : { uid })
  })
}

/**
 * A logout route: destroys the session, clears the cookie and answers 204.
 *
 * @example
 * app.post('/logout', logout())
 */
export function logout(
  options: LogoutOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  return forwardErrors(async function logout(req: IncomingMessage, res: ServerResponse) {
    await sessionOf(req).destroy()
    if (options.redirect) return redirect(res, options.redirect)
    res.statusCode = 204
    res.end()
  })
}

/**
 * Lets logged-in requests through; answers the rest `401 { code, error, message }` with the reason
 * the token was refused (TOKEN_EMPTY when none was presented, SESSION_NOT_CREATED for an
 * anonymous session), or redirects.
 *
 * @example
 * app.get('/me', requireSession(), (req, res) => res.json(req.session))
 */
export function requireSession(
  options: RequireSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void {
  return function requireSession(req, res, next) {
    let session: Session
    try {
      session = sessionOf(req)
    } catch (error) {
      return next(error)
    }
    if (session.uid !== undefined) return next()
    if (options.redirect) return redirect(res, options.redirect)
    sendSessionError(res, refusal(session))
  }
}

/** Why a request without a logged-in session is refused. */
function refusal(session: Session): SessionError {
  if (session.anonymous) return new SessionError('SESSION_NOT_CREATED', 'this session is anonymous; log in')
  return session.error ?? new SessionError('TOKEN_EMPTY', 'no session token was presented; log in')
}

function sessionOf(req: IncomingMessage): Session {
  const session = (req as RequestWithSession).session
  if (!(session instanceof Session))
    throw new SessionError(
      'SESSION_ERROR',
      'req.session is missing: mount sessionMiddleware() before this route',
    )
  return session
}
