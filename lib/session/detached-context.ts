import type { TokenSigner } from '../core/token'
import type { ResolvedOptions } from './options'
import type { Session } from './session'
import type { SessionContext } from './session-context'

/**
 * The side of a session that no response holds: one from `SessionManager.verify()` or
 * `create()`, on a socket or in a job. A token it issues is the caller's to pass on, and what it
 * writes is stored at the end of the current tick, through `autosave`, in the order written.
 */
export class DetachedContext implements SessionContext {
  constructor(
    readonly options: ResolvedOptions,
    readonly signer: TokenSigner,
    readonly autosave: (session: Session) => void,
    readonly exposes: boolean,
  ) {}

  /** The token goes back to the caller (`create()` answers it), not to a response. */
  deliver(): void {}

  canDeliver(): boolean {
    return true
  }

  forget(): void {}

  /** No request: a session made here records no device. */
  device(): Record<string, never> {
    return {}
  }

  dirtied(session: Session): void {
    process.nextTick(this.autosave, session)
  }

  responseEnded(): boolean {
    return false
  }

  exposesToken(): boolean {
    return this.exposes
  }
}
