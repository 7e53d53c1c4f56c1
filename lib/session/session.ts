import { SessionError } from '../core/errors'
import { cookieAge } from '../core/expiry'
import { type JsonValue, type SessionValues, toStoredValue } from '../core/values'
import type { SessionRecord } from '../stores/store'
import { type CreateSessionOptions, checkPersistent, keptValues } from './create-options'
import { checkValueKey, flashKey } from './flash'
import type { ResolvedOptions } from './options'
import { checkSize, storedBytes } from './own-values'
import type { SessionContext } from './session-context'
import type { SessionInfo } from './session-info'
import { SessionReads } from './session-reads'
import { SessionState } from './session-state'
import { issueSession, rotateToken, storeSession } from './token-lifecycle'
import { endAllSessions, endSession, listSessions, revokeSession } from './user-sessions'

/**
 * `req.session`: the session of one request. Reads are synchronous and come from a snapshot
 * taken when the token was verified plus this request's own writes; writes are synchronous and
 * mark keys dirty; the middleware sends only the dirty keys to the store when the response ends.
 * `T` types the values: `req.session.get('count')` is then `T['count'] | undefined`. A write
 * without a session starts an anonymous one (no uid), stored with the request's writes.
 */
export class Session<T extends object = SessionValues> extends SessionReads<T> {
  /** Why the token this request presented was refused; `undefined` when none was presented. */
  error: SessionError | undefined

  readonly #state: SessionState

  /** @internal Built by the middleware. */
  constructor(
    context: SessionContext,
    record?: SessionRecord,
    token?: string,
    presentedToken = false,
    graceOnly = false,
  ) {
    super()
    this.#state = new SessionState(
      this as unknown as Session,
      context,
      record,
      token,
      presentedToken,
      graceOnly,
    )
  }

  /** `true` once a token was verified or a session created in this request (an anonymous one too). */
  get exists(): boolean {
    return this.#state.record !== undefined
  }

  /** The session's id (seed `id`); `undefined` without a session. */
  get id(): string | undefined {
    return this.#state.record?.id
  }

  /** The user id given at login (seed `uuid`); `undefined` without a session, or for an anonymous one. */
  get uid(): string | undefined {
    return this.#state.record?.uid
  }

  /** `true` for a session started by a write before any login: it exists, but has no uid. */
  get anonymous(): boolean {
    const record = this.#state.record
    return record !== undefined && record.uid === undefined
  }

  /** The token of this request: presented and verified, or issued by `create`/`refresh` or a first write. */
  get token(): string | undefined {
    return this.#state.token
  }

  /** @internal The options of the middleware that made this session. */
  get origin(): ResolvedOptions {
    return this.#state.context.options
  }

  /** Whether this client may see its token outside the cookie: an API client, never a browser. */
  exposesToken(): boolean {
    return this.#state.context.exposesToken()
  }

  /** When the session was created; `undefined` without a session. */
  get createdAt(): Date | undefined {
    const record = this.#state.record
    return record && new Date(record.createdAt)
  }

  protected override currentValues(): ReadonlyMap<string, JsonValue> | undefined {
    return this.#state.record?.values
  }

  /**
   * Sets `key` (seed `Set`); the value must survive a JSON round trip unchanged, else SESSION_ERROR.
   * Without a session it starts an anonymous one. Throws RESPONSE_ENDED after the response,
   * SESSION_TOO_LARGE past `maxSessionBytes`.
   */
  set<K extends keyof T & string>(key: K, value: T[K]): this {
    checkValueKey(key)
    this.#state.setStored(key, toStoredValue(key, value), 'set')
    return this
  }

  /** Sets several keys at once (seed `Update`); all are checked before any is set. */
  update(values: Partial<T>): this {
    const entries = Object.entries(values).map(([key, value]) => {
      checkValueKey(key)
      return [key, toStoredValue(key, value)] as const
    })
    this.#state.ownedValues('update').set(entries)
    for (const [key, stored] of entries) this.#state.writes().set(key, stored)
    return this
  }

  /** Removes `key`. */
  unset(key: keyof T & string): this {
    checkValueKey(key)
    this.#state.ownedValues('unset').delete(key)
    this.#state.writes().unset(key)
    return this
  }

  /**
   * Keeps `value` for the next request to read once with `takeFlash(key)`: a notice after a
   * redirect. Stored with the request's other writes; without a session it starts an anonymous one.
   */
  flash<K extends keyof T & string>(key: K, value: T[K]): this {
    this.#state.setStored(flashKey(key), toStoredValue(key, value), 'flash')
    return this
  }

  /** The value `flash(key)` kept, once: taking it removes it, stored with the request's other writes. */
  takeFlash<K extends keyof T & string>(key: K): T[K] | undefined {
    const stored = flashKey(key)
    const value = this.#state.record?.values.get(stored)
    if (value === undefined) return undefined
    this.#state.ownedValues('takeFlash').delete(stored)
    this.#state.writes().unset(stored)
    return value as T[K]
  }

  /** Whether this request changed something that is not stored yet. */
  get dirty(): boolean {
    return this.#state.pending?.pending ?? false
  }

  /**
   * Logs in (seed `Create`): a brand-new session with a new id and token, sent to the client. The
   * session this request carried (an anonymous one, say) is destroyed first, its values kept only
   * as `options.keep` names. Throws HEADERS_SENT (212), changing nothing, once the response's
   * headers are sent; the response waits for a create the app did not await.
   */
  async create(uid: string, values: Partial<T> = {}, options: CreateSessionOptions = {}): Promise<string> {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 512)
      throw new SessionError('SESSION_ERROR', 'uid must be a non-empty string of at most 512 characters')
    const state = this.#state
    const given = Object.entries(values).map(([key, value]) => [key, toStoredValue(key, value)] as const)
    const initial = new Map([...keptValues(state.record?.values, options.keep), ...given])
    checkSize(storedBytes(initial), state.context.options.maxSessionBytes)
    const persistent = checkPersistent(options.persistent) ?? state.context.options.persistent
    return state.tokenOperation('create', () => this.#create(uid, initial, persistent))
  }

  async #create(uid: string, initial: Map<string, JsonValue>, persistent: boolean): Promise<string> {
    const state = this.#state
    if (state.record) await this.#destroy()
    const { record, token } = issueSession(state.context, uid, initial, { persistent })
    await storeSession(state.context, record)
    state.adopt(record, token, initial)
    this.error = undefined
    return token
  }

  /**
   * Issues a new token for this session, data kept (seed `Refresh`); the previous token then
   * fails with SESSION_REPLACED once `refreshGrace` has passed. Call it after any privilege change.
   * Refused with SESSION_REPLACED for a request admitted only by the grace window, or when a
   * concurrent refresh won; with HEADERS_SENT (212), changing nothing, once headers are sent.
   */
  async refresh(): Promise<string> {
    const record = this.#state.live('refresh')
    this.#state.refuseGraceOnly('refresh')
    return this.#state.tokenOperation('refresh', () => this.#refresh(record))
  }

  async #refresh(record: SessionRecord): Promise<string> {
    const state = this.#state
    if (state.unstored) await this.save()
    const token = await rotateToken(state.context, record)
    if (token === undefined) return state.lost()
    state.token = token
    state.context.deliver(token, cookieAge(record))
    return token
  }

  /** Logs out (seed `Delete`): deletes the session from the store and clears the cookie. */
  destroy(): Promise<void> {
    return this.#state.inFlight.track(this.#destroy())
  }

  async #destroy(): Promise<void> {
    const state = this.#state
    const record = state.record
    if (record && !state.unstored) await endSession(state.context.options.store, record.id)
    state.end()
  }

  /**
   * Sends the dirty keys to the store now rather than when the response ends (seed `Release`).
   * Rejects with SESSION_NOT_EXIST when the session ended meanwhile (it is not recreated).
   */
  save(): Promise<void> {
    return this.#state.writes().save()
  }

  /**
   * @internal What the response waits for before its first byte: the operations under way, then
   * the dirty keys; `undefined` when there is nothing, or the store took it synchronously.
   */
  beforeOutput(): Promise<void> | undefined {
    const state = this.#state
    const running = state.inFlight.settled()
    if (running === undefined) return state.pending?.commit()
    return running.then(() => state.pending?.commit())
  }

  /** @internal How many changes this request made: output knows which came before it. */
  get changes(): number {
    return this.#state.pending?.changes ?? 0
  }

  /** @internal Forgets what this request wrote: its handler failed. */
  discardWrites(): void {
    this.#state.pending?.discard()
  }

  /** This user's live sessions, oldest first, without tokens; refused for an anonymous session. */
  async sessions(): Promise<SessionInfo[]> {
    return listSessions(this.#state.context.options.store, this.#state.user('sessions'))
  }

  /**
   * Ends another session of this user; an id that is not this user's is refused with SESSION_UNKNOWN,
   * a request admitted only by the grace window with SESSION_REPLACED, an anonymous session with
   * SESSION_NOT_CREATED.
   */
  async revoke(id: string): Promise<void> {
    const record = this.#state.user('revoke')
    this.#state.refuseGraceOnly('revoke')
    if (id === record.id) return this.destroy()
    await revokeSession(this.#state.context.options.store, record, id)
  }

  /** Logs out everywhere: every session of this user, this one included (not from a grace-only or anonymous request). */
  async destroyAll(): Promise<void> {
    const state = this.#state
    const { uid } = state.user('destroyAll')
    state.refuseGraceOnly('destroyAll')
    await state.inFlight.track(endAllSessions(state.context.options.store, uid).then(() => state.end()))
  }
}
