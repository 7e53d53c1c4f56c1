import type { TokenSigner } from '../core/token'
import type { ResolvedOptions } from './options'
import type { Session } from './session'

/** What a `Session` needs from the request it belongs to. */
export interface SessionContext {
  readonly options: ResolvedOptions
  readonly signer: TokenSigner
  /** Sends a newly issued token to the client. */
  deliver(token: string, cookieAge: number): void
  /** Tells the client to forget its token. */
  forget(): void
  /** Called when the session first has something to store, so the middleware holds `res.end`. */
  dirtied(session: Session): void
}
