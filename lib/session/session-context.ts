import type { TokenSigner } from '../core/token'
import type { SessionRecord } from '../stores/store'
import type { ResolvedOptions } from './options'
import type { Session } from './session'

/** What a `Session` needs from the request it belongs to. */
export interface SessionContext {
  readonly options: ResolvedOptions
  readonly signer: TokenSigner
  /** Sends a newly issued token to the client, in a cookie of `cookieAge` seconds (`undefined`: until the browser closes). */
  deliver(token: string, cookieAge: number | undefined): void
  /** Whether a new token could still reach the client: false once the response's headers are sent. */
  canDeliver(): boolean
  /** Tells the client to forget its token. */
  forget(): void
  /** Called when the session first has something the response must wait for: writes, a new token. */
  dirtied(session: Session): void
  /** Whether the response has ended, so that a change could reach neither the store nor the client. */
  responseEnded(): boolean
  /** Where the request comes from, for a new session to record: `User-Agent` and client address. */
  device(): Pick<SessionRecord, 'userAgent' | 'address'>
  /** Whether the token may travel outside the cookie to this client: the response header, `login()`'s body. */
  exposesToken(): boolean
}
