import { SessionError } from '../core/errors'
import { cookieAge } from '../core/expiry'
import { type JsonValue, type SessionValues, toStoredValue } from '../core/values'
import type { SessionRecord } from '../stores/store'
import { InFlight } from './in-flight'
import type { ResolvedOptions } from './options'
import { checkSize, OwnValues, storedBytes } from './own-values'
import { PendingWrites } from './pending-writes'
import type { SessionContext } from './session-context'
import type { SessionInfo } from './session-info'
import { SessionReads } from './session-reads'
import { createSession, rotateToken } from './token-lifecycle'
import { endAllSessions, endSession, listSessions, revokeSession } from './user-sessions'

/**
 * `req.session`: the session of one request. Reads are synchronous and come from a snapshot
 * taken when the token was verified plus this request's own writes; writes are synchronous and
 * mark keys dirty; the middleware sends only the dirty keys to the store when the response ends.
 * `T` types the values: `req.session.get('count')` is then `T['count'] | undefined`.
 */
export class Session<T extends object = SessionValues> extends SessionReads<T> {
  /** Why the token this request presented was refused; `undefined` when none was presented. */
  error: SessionError | undefined

  readonly #context: SessionContext
  #record: SessionRecord | undefined
  #token: string | undefined
  #presentedToken: boolean
  /** Admitted by the token `refresh()` replaced, inside its grace window: it may read and write only. */
  readonly #graceOnly: boolean
  readonly #inFlight = new InFlight()
  /** What this request changed and the store does not have yet; made at the first write, so reads allocate none. */
  #pending: PendingWrites | undefined
  /** `#record.values` once it is this request's own copy; the store's may be shared with other reads. */
  #ownValues: OwnValues | undefined

  /** @internal Built by the middleware. */
  constructor(
    context: SessionContext,
    record?: SessionRecord,
    token?: string,
    presentedToken = false,
    graceOnly = false,
  ) {
    super()
    this.#context = context
    this.#record = record
    this.#token = token
    this.#presentedToken = presentedToken
    this.#graceOnly = graceOnly
  }

  /** `true` once a token was verified or a session created in this request. */
  get exists(): boolean {
    return this.#record !== undefined
  }

  /** The session's id (seed `id`); `undefined` without a session. */
  get id(): string | undefined {
    return this.#record?.id
  }

  /** The user id given at login (seed `uuid`); `undefined` without a session. */
  get uid(): string | undefined {
    return this.#record?.uid
  }

  /** The token of this request: presented and verified, or issued by `create`/`refresh`. */
  get token(): string | undefined {
    return this.#token
  }

  /** @internal The options of the middleware that made this session. */
  get origin(): ResolvedOptions {
    return this.#context.options
  }

  /** Whether this client may see its token outside the cookie: an API client, never a browser. */
  exposesToken(): boolean {
    return this.#context.exposesToken()
  }

  /** When the session was created; `undefined` without a session. */
  get createdAt(): Date | undefined {
    return this.#record && new Date(this.#record.createdAt)
  }

  protected override currentValues(): ReadonlyMap<string, JsonValue> | undefined {
    return this.#record?.values
  }

  /**
   * Sets `key` (seed `Set`); the value must survive a JSON round trip unchanged, else SESSION_ERROR.
   * Throws SESSION_NOT_CREATED without a session, RESPONSE_ENDED after the response, SESSION_TOO_LARGE.
   */
  set<K extends keyof T & string>(key: K, value: T[K]): this {
    const own = this.#ownedValues('set')
    const stored = toStoredValue(key, value)
    own.set([[key, stored]])
    this.#writes().set(key, stored)
    return this
  }

  /** Sets several keys at once (seed `Update`); all are checked before any is set. */
  update(values: Partial<T>): this {
    const own = this.#ownedValues('update')
    const entries = Object.entries(values).map(([key, value]) => [key, toStoredValue(key, value)] as const)
    own.set(entries)
    for (const [key, stored] of entries) this.#writes().set(key, stored)
    return this
  }

  /** Removes `key`. */
  unset(key: keyof T & string): this {
    this.#ownedValues('unset').delete(key)
    this.#writes().unset(key)
    return this
  }

  /** Whether this request changed something that is not stored yet. */
  get dirty(): boolean {
    return this.#pending?.pending ?? false
  }

  /**
   * Logs in (seed `Create`): a brand-new session with a new id and token, sent to the client. Any
   * session this request carried is destroyed first. Throws HEADERS_SENT (212), changing nothing,
   * once the response's headers are sent; the response waits for a create the app did not await.
   */
  async create(uid: string, values: Partial<T> = {}): Promise<string> {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 512)
      throw new SessionError('SESSION_ERROR', 'uid must be a non-empty string of at most 512 characters')
    const initial = new Map(Object.entries(values).map(([key, value]) => [key, toStoredValue(key, value)]))
    checkSize(storedBytes(initial), this.#context.options.maxSessionBytes)
    return this.#tokenOperation('create', () => this.#create(uid, initial))
  }

  async #create(uid: string, initial: Map<string, JsonValue>): Promise<string> {
    if (this.#record) await this.#destroy()
    const { record, token } = await createSession(this.#context, uid, initial)
    this.#record = record
    this.#ownValues = new OwnValues(initial, this.#context.options.maxSessionBytes)
    record.values = this.#ownValues.map
    this.#token = token
    this.#pending?.discard()
    this.error = undefined
    this.#context.deliver(token, cookieAge(record))
    return token
  }

  /**
   * Issues a new token for this session, data kept (seed `Refresh`); the previous token then
   * fails with SESSION_REPLACED once `refreshGrace` has passed. Call it after any privilege change.
   * Refused with SESSION_REPLACED for a request admitted only by the grace window, or when a
   * concurrent refresh won; with HEADERS_SENT (212), changing nothing, once headers are sent.
   */
  async refresh(): Promise<string> {
    const record = this.#live('refresh')
    this.#refuseGraceOnly('refresh')
    return this.#tokenOperation('refresh', () => this.#refresh(record))
  }

  async #refresh(record: SessionRecord): Promise<string> {
    const token = await rotateToken(this.#context, record)
    if (token === undefined) this.#lost()
    this.#token = token
    this.#context.deliver(token, cookieAge(record))
    return token
  }

  /** Logs out (seed `Delete`): deletes the session from the store and clears the cookie. */
  destroy(): Promise<void> {
    return this.#inFlight.track(this.#destroy())
  }

  async #destroy(): Promise<void> {
    const record = this.#record
    if (record) await endSession(this.#context.options.store, record.id)
    this.#end()
  }

  /**
   * Sends the dirty keys to the store now rather than when the response ends (seed `Release`).
   * Rejects with SESSION_NOT_EXIST when the session ended meanwhile (it is not recreated).
   */
  save(): Promise<void> {
    return this.#writes().save()
  }

  /**
   * @internal What the response waits for before its first byte: the operations under way, then
   * the dirty keys; `undefined` when there is nothing, or the store took it synchronously.
   */
  beforeOutput(): Promise<void> | undefined {
    const running = this.#inFlight.settled()
    if (running === undefined) return this.#pending?.commit()
    return running.then(() => this.#pending?.commit())
  }

  /** @internal How many changes this request made: output knows which came before it. */
  get changes(): number {
    return this.#pending?.changes ?? 0
  }

  /** @internal Forgets what this request wrote: its handler failed. */
  discardWrites(): void {
    this.#pending?.discard()
  }

  /** This user's live sessions, oldest first, without tokens. */
  async sessions(): Promise<SessionInfo[]> {
    return listSessions(this.#context.options.store, this.#live('sessions'))
  }

  /**
   * Ends another session of this user; an id that is not this user's is refused with SESSION_UNKNOWN,
   * and a request admitted only by the grace window with SESSION_REPLACED.
   */
  async revoke(id: string): Promise<void> {
    const record = this.#live('revoke')
    this.#refuseGraceOnly('revoke')
    if (id === record.id) return this.destroy()
    await revokeSession(this.#context.options.store, record, id)
  }

  /** Logs out everywhere: every session of this user, this one included (not from a grace-only request). */
  async destroyAll(): Promise<void> {
    const record = this.#live('destroyAll')
    this.#refuseGraceOnly('destroyAll')
    const store = this.#context.options.store
    await this.#inFlight.track(endAllSessions(store, record.uid).then(() => this.#end()))
  }

  #writes(): PendingWrites {
    this.#pending ??= new PendingWrites(
      () => this.#context.dirtied(this as unknown as Session),
      (change) => {
        const record = this.#record
        return record ? this.#context.options.store.update(record.id, change) : false
      },
      () => this.#lost(),
    )
    return this.#pending
  }

  /** Runs a create or refresh whose token must reach the client: refused before it starts once it cannot. */
  #tokenOperation(operation: string, run: () => Promise<string>): Promise<string> {
    if (!this.#context.canDeliver())
      throw new SessionError(
        'HEADERS_SENT',
        `cannot ${operation}: the response's headers are sent, so a new token could not reach the client`,
      )
    this.#context.dirtied(this as unknown as Session)
    return this.#inFlight.track(run())
  }

  #refuseGraceOnly(operation: string): void {
    if (!this.#graceOnly) return
    throw new SessionError('SESSION_REPLACED', `cannot ${operation} with a token refresh() replaced`)
  }

  /** This request's own copy of the values, to change: made from the store's at the first change. */
  #ownedValues(operation: string): OwnValues {
    if (this.#context.responseEnded())
      throw new SessionError(
        'RESPONSE_ENDED',
        `cannot ${operation} after the response ended: save() or change values before answering`,
      )
    const record = this.#live(operation)
    if (this.#ownValues === undefined) {
      this.#ownValues = new OwnValues(record.values, this.#context.options.maxSessionBytes)
      record.values = this.#ownValues.map
    }
    return this.#ownValues
  }

  #live(operation: string): SessionRecord {
    if (this.#record) return this.#record
    throw new SessionError(
      'SESSION_NOT_CREATED',
      `cannot ${operation}: this request has no session, log in first`,
    )
  }

  /** The session ended elsewhere (logout, expiry, a newer login): what this request wrote is not stored. */
  #lost(): never {
    this.#record = undefined
    this.#token = undefined
    this.#pending?.discard()
    throw new SessionError('SESSION_NOT_EXIST', 'the session ended while this request ran; log in again')
  }

  #end(): void {
    const hadSession = this.#record !== undefined || this.#presentedToken
    this.#record = undefined
    this.#token = undefined
    this.#pending?.discard()
    if (hadSession) this.#context.forget()
  }
}
