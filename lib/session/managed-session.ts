import type { SessionValues } from '../core/values'
import type { SessionRecord } from '../stores/store'
import { Session } from './session'
import type { SessionContext } from './session-context'

/** How a manager slides a session's expiry: answers whether the session is still live. */
export type Toucher = (session: Session) => Promise<boolean>

/**
 * A session from `SessionManager.verify()`, `verifyRequest()` or `create()`: a `Session` with
 * the same reads, writes and errors as `req.session`, whose writes are stored at the end of the
 * current tick without a response, and which a socket keeps alive with `touch()`.
 */
export class ManagedSession<T extends object = SessionValues> extends Session<T> {
  readonly #toucher: Toucher

  /** @internal Built by a `SessionManager`. */
  constructor(
    toucher: Toucher,
    context: SessionContext,
    record?: SessionRecord,
    token?: string,
    graceOnly = false,
  ) {
    super(context, record, token, token !== undefined, graceOnly)
    this.#toucher = toucher
  }

  /**
   * Slides the expiry for traffic that reaches no HTTP request (socket messages): at most one
   * store write a session per `touchInterval`, however often it is called. Resolves whether the
   * session is still live (an ended one is told as `ended` on the manager); rejects only with
   * STORE_UNAVAILABLE (210).
   */
  touch(): Promise<boolean> {
    if (!this.exists) return Promise.resolve(false)
    return this.#toucher(this as unknown as Session)
  }
}
