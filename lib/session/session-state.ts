import { SessionError } from '../core/errors'
import { cookieAge } from '../core/expiry'
import type { JsonValue } from '../core/values'
import type { SessionChange, SessionRecord } from '../stores/store'
import { InFlight } from './in-flight'
import { OwnValues } from './own-values'
import { PendingWrites } from './pending-writes'
import type { Session } from './session'
import type { SessionContext } from './session-context'
import { issueSession, storeSession } from './token-lifecycle'

/** A logged-in session's record: it has a uid. */
export type UserRecord = SessionRecord & { uid: string }

/**
 * What one `Session` holds and what its request did to it: the record and token, this request's
 * own copy of the values and the writes the store does not have yet, the operations in flight,
 * and whether the record is an anonymous session the store does not have yet. `Session` is the
 * API over it; this is where the rules of each change live.
 */
export class SessionState {
  record: SessionRecord | undefined
  token: string | undefined
  readonly inFlight = new InFlight()
  /** What this request changed and the store does not have yet; made at the first write, so reads allocate none. */
  pending: PendingWrites | undefined
  /** `record.values` once it is this request's own copy; the store's may be shared with other reads. */
  #ownValues: OwnValues | undefined
  /** The record is an anonymous session this request started, which the store does not have yet. */
  #unstored = false

  constructor(
    readonly session: Session,
    readonly context: SessionContext,
    record: SessionRecord | undefined,
    token: string | undefined,
    readonly presentedToken: boolean,
    /** Admitted by the token `refresh()` replaced, inside its grace window: it may read and write only. */
    readonly graceOnly: boolean,
  ) {
    this.record = record
    this.token = token
  }

  /** Whether the record is an anonymous session that no write has stored yet. */
  get unstored(): boolean {
    return this.#unstored
  }

  /** The dirty keys and their flushes, made at the first write. */
  writes(): PendingWrites {
    this.pending ??= new PendingWrites(
      () => this.context.dirtied(this.session),
      (change) => {
        const record = this.record
        if (!record) return false
        return this.#unstored
          ? this.#storeAnonymous(record, change)
          : this.context.options.store.update(record.id, change)
      },
      () => this.lost(),
    )
    return this.pending
  }

  /** Sets one stored key in this request's copy and marks it dirty. */
  setStored(key: string, stored: JsonValue, operation: string): void {
    this.ownedValues(operation).set([[key, stored]])
    this.writes().set(key, stored)
  }

  /** This request's own copy of the values, to change: made from the store's at the first change. */
  ownedValues(operation: string): OwnValues {
    if (this.context.responseEnded())
      throw new SessionError(
        'RESPONSE_ENDED',
        `cannot ${operation} after the response ended: save() or change values before answering`,
      )
    const record = this.record ?? this.#startAnonymous(operation)
    if (this.#ownValues === undefined) {
      this.#ownValues = new OwnValues(record.values, this.context.options.maxSessionBytes)
      record.values = this.#ownValues.map
    }
    return this.#ownValues
  }

  /** Takes a session a login created as this request's, its values this request's own copy. */
  adopt(record: SessionRecord, token: string, values: Map<string, JsonValue>): void {
    this.record = record
    this.#ownValues = new OwnValues(values, this.context.options.maxSessionBytes)
    record.values = this.#ownValues.map
    this.token = token
    this.pending?.discard()
    this.context.deliver(token, cookieAge(record))
  }

  /** Runs a create or refresh whose token must reach the client: refused before it starts once it cannot. */
  tokenOperation(operation: string, run: () => Promise<string>): Promise<string> {
    if (!this.context.canDeliver())
      throw new SessionError(
        'HEADERS_SENT',
        `cannot ${operation}: the response's headers are sent, so a new token could not reach the client`,
      )
    this.context.dirtied(this.session)
    return this.inFlight.track(run())
  }

  refuseGraceOnly(operation: string): void {
    if (!this.graceOnly) return
    throw new SessionError('SESSION_REPLACED', `cannot ${operation} with a token refresh() replaced`)
  }

  /** The record, or SESSION_NOT_CREATED (204) without a session. */
  live(operation: string): SessionRecord {
    if (this.record) return this.record
    throw new SessionError(
      'SESSION_NOT_CREATED',
      `cannot ${operation}: this request has no session, log in first`,
    )
  }

  /** The record of a logged-in session, for the operations on its user's sessions; SESSION_NOT_CREATED for an anonymous one. */
  user(operation: string): UserRecord {
    const record = this.live(operation)
    if (record.uid !== undefined) return record as UserRecord
    throw new SessionError(
      'SESSION_NOT_CREATED',
      `cannot ${operation}: this session is anonymous, log in first`,
    )
  }

  /** The session ended elsewhere (logout, expiry, a newer login): what this request wrote is not stored. */
  lost(): never {
    this.#forgetRecord()
    throw new SessionError('SESSION_NOT_EXIST', 'the session ended while this request ran; log in again')
  }

  /** The session ended here: the client forgets its token, if it had one. */
  end(): void {
    const hadSession = (this.record !== undefined && !this.#unstored) || this.presentedToken
    this.#forgetRecord()
    if (hadSession) this.context.forget()
  }

  #forgetRecord(): void {
    this.record = undefined
    this.token = undefined
    this.#unstored = false
    this.pending?.discard()
  }

  /** A session for a write that found none: anonymous, stored (and its cookie sent) with the writes. */
  #startAnonymous(operation: string): SessionRecord {
    if (!this.context.canDeliver())
      throw new SessionError(
        'HEADERS_SENT',
        `cannot ${operation} without a session once the response's headers are sent: a new session's token could not reach the client`,
      )
    const persistent = this.context.options.persistent
    const { record, token } = issueSession(this.context, undefined, new Map(), { persistent })
    this.record = record
    this.token = token
    this.#unstored = true
    return record
  }

  /** The first write of an anonymous session creates it in the store, with the values, and sends its token. */
  async #storeAnonymous(record: SessionRecord, change: SessionChange): Promise<boolean> {
    this.context.deliver(this.token!, cookieAge(record))
    await storeSession(this.context, { ...record, values: new Map(change.set ?? []) })
    if (this.record === record) this.#unstored = false
    return true
  }
}
