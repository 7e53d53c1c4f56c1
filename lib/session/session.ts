import { SessionError } from '../core/errors'
import { MAX_COOKIE_AGE } from '../core/expiry'
import { randomId } from '../core/token'
import { type JsonValue, type SessionValues, toStoredValue } from '../core/values'
import type { SessionRecord } from '../stores/store'
import { PendingWrites } from './pending-writes'
import type { SessionContext } from './session-context'
import { type SessionInfo, toSessionInfo } from './session-info'
import { storeCall, userStoreOf } from './store-calls'

/**
 * `req.session`: the session of one request. Reads are synchronous and come from a snapshot
 * taken when the token was verified plus this request's own writes; writes are synchronous and
 * mark keys dirty; the middleware sends only the dirty keys to the store when the response ends.
 * `T` types the values: `req.session.get('count')` is then `T['count'] | undefined`.
 */
export class Session<T extends object = SessionValues> {
  /** Why the token this request presented was refused; `undefined` when none was presented. */
  error: SessionError | undefined

  readonly #context: SessionContext
  #record: SessionRecord | undefined
  #token: string | undefined
  #presentedToken: boolean
  /** What this request changed and the store does not have yet; made at the first write, so reads allocate none. */
  #pending: PendingWrites | undefined
  /** `#record.values` once it is this request's own copy; the store's may be shared with other reads. */
  #ownValues: Map<string, JsonValue> | undefined

  /** @internal Built by the middleware. */
  constructor(context: SessionContext, record?: SessionRecord, token?: string, presentedToken = false) {
    this.#context = context
    this.#record = record
    this.#token = token
    this.#presentedToken = presentedToken
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

  /** When the session was created; `undefined` without a session. */
  get createdAt(): Date | undefined {
    return this.#record && new Date(this.#record.createdAt)
  }

  /** The value of `key`, or `undefined` when absent (seed `Get`). */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.#record?.values.get(key) as T[K] | undefined
  }

  /** The value of `key` when it is a string, else `''` (seed `GetString`); nothing is converted. */
  getString(key: keyof T & string): string {
    const value = this.#record?.values.get(key)
    return typeof value === 'string' ? value : ''
  }

  /** The value of `key` when it is a number, else `0` (seed `GetInt*`, `GetFloat64`); nothing is converted. */
  getNumber(key: keyof T & string): number {
    const value = this.#record?.values.get(key)
    return typeof value === 'number' ? value : 0
  }

  /** The value of `key` when it is a boolean, else `false`; nothing is converted. */
  getBoolean(key: keyof T & string): boolean {
    const value = this.#record?.values.get(key)
    return typeof value === 'boolean' ? value : false
  }

  /** Whether `key` holds a value. */
  has(key: keyof T & string): boolean {
    return this.#record?.values.has(key) ?? false
  }

  /** A copy of all values, for `res.json(req.session)`. */
  toJSON(): Partial<T> {
    return Object.fromEntries(this.#record?.values ?? []) as Partial<T>
  }

  /**
   * Sets `key` (seed `Set`). The value must survive a JSON round trip unchanged, else this throws
   * SESSION_ERROR (201) at once; without a session it throws SESSION_NOT_CREATED (204).
   */
  set<K extends keyof T & string>(key: K, value: T[K]): this {
    const values = this.#ownedValues('set')
    const stored = toStoredValue(key, value)
    values.set(key, stored)
    this.#writes().set(key, stored)
    return this
  }

  /** Sets several keys at once (seed `Update`); all are checked before any is set. */
  update(values: Partial<T>): this {
    const current = this.#ownedValues('update')
    const entries = Object.entries(values).map(([key, value]) => [key, toStoredValue(key, value)] as const)
    for (const [key, stored] of entries) {
      current.set(key, stored)
      this.#writes().set(key, stored)
    }
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
   * Logs in (seed `Create`): a brand-new session with a new id and token, sent as `Set-Cookie`
   * and as the response header. Any session this request carried is destroyed first.
   */
  async create(uid: string, values: Partial<T> = {}): Promise<string> {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > 512)
      throw new SessionError('SESSION_ERROR', 'uid must be a non-empty string of at most 512 characters')
    const initial = new Map(Object.entries(values).map(([key, value]) => [key, toStoredValue(key, value)]))
    if (this.#record) await this.destroy()
    const { options, signer } = this.#context
    const id = options.store.createId?.(uid) ?? randomId()
    const issued = signer.issue(id)
    const now = Date.now()
    const record: SessionRecord = {
      id,
      uid,
      tokenHash: issued.tokenHash,
      createdAt: now,
      lastActiveAt: now,
      maxAge: options.maxAge,
      lifetime: options.lifetime,
      values: initial,
    }
    await storeCall(() =>
      options.store.create(copyForStore(record), { replaceOthers: options.singleSession }),
    )
    this.#record = record
    this.#ownValues = initial
    this.#token = issued.token
    this.#pending?.discard()
    this.error = undefined
    this.#context.deliver(issued.token, this.cookieAge())
    return issued.token
  }

  /**
   * Issues a new token for this session, data kept (seed `Refresh`); the previous token then
   * fails with SESSION_REPLACED once `refreshGrace` has passed. Call it after any privilege change.
   */
  async refresh(): Promise<string> {
    const record = this.#live('refresh')
    const { options, signer } = this.#context
    const issued = signer.issue(record.id)
    const grace = options.refreshGrace
    const token = {
      tokenHash: issued.tokenHash,
      replaces: record.tokenHash,
      ...(grace > 0 ? { previousTokenExpiresAt: Date.now() + grace * 1000 } : {}),
    }
    if (!(await storeCall(() => options.store.update(record.id, { token })))) await this.#lostRotation()
    record.tokenHash = issued.tokenHash
    this.#token = issued.token
    this.#context.deliver(issued.token, this.cookieAge())
    return issued.token
  }

  /** Logs out (seed `Delete`): deletes the session from the store and clears the cookie. */
  async destroy(): Promise<void> {
    const record = this.#record
    if (record) await storeCall(() => this.#context.options.store.delete(record.id))
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
   * @internal What the middleware calls when the response ends: like `save()`, but answers
   * `undefined` when the store took the change synchronously, so the response need not wait a turn.
   */
  commit(): Promise<void> | undefined {
    return this.#pending?.commit()
  }

  /** This user's live sessions, oldest first, without tokens. */
  async sessions(): Promise<SessionInfo[]> {
    const record = this.#live('sessions')
    const summaries = await storeCall(() => userStoreOf(this.#context.options.store).list(record.uid))
    return summaries.map((summary) => toSessionInfo(summary, record.id))
  }

  /** Ends another session of this user; an id that is not this user's is refused with SESSION_UNKNOWN. */
  async revoke(id: string): Promise<void> {
    const record = this.#live('revoke')
    if (id === record.id) return this.destroy()
    const summaries = await storeCall(() => userStoreOf(this.#context.options.store).list(record.uid))
    if (!summaries.some((summary) => summary.id === id))
      throw new SessionError('SESSION_UNKNOWN', 'no session of this user has that id')
    await storeCall(() => this.#context.options.store.delete(id))
  }

  /** Logs out everywhere: every session of this user, this one included. */
  async destroyAll(): Promise<void> {
    const record = this.#live('destroyAll')
    await storeCall(() => userStoreOf(this.#context.options.store).deleteAll(record.uid))
    this.#end()
  }

  /** @internal Seconds the cookie must last so the browser keeps it as long as the server does. */
  cookieAge(): number {
    const record = this.#record
    if (!record || record.lifetime === 0) return MAX_COOKIE_AGE
    return Math.ceil((record.createdAt + record.lifetime * 1000 - Date.now()) / 1000)
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

  /** This request's own copy of the values, to change: made from the store's at the first change. */
  #ownedValues(operation: string): Map<string, JsonValue> {
    const record = this.#live(operation)
    if (this.#ownValues === undefined) record.values = this.#ownValues = new Map(record.values)
    return this.#ownValues
  }

  #live(operation: string): SessionRecord {
    if (!this.#record)
      throw new SessionError(
        'SESSION_NOT_CREATED',
        `cannot ${operation}: this request has no session, log in first`,
      )
    return this.#record
  }

  /** The store refused a rotation: a concurrent refresh won while the session lives on, or it ended. */
  async #lostRotation(): Promise<never> {
    const current = await storeCall(() => this.#context.options.store.get(this.#record!.id))
    if (current !== undefined && current.ended === undefined)
      throw new SessionError(
        'SESSION_REPLACED',
        'another request refreshed this session first; use its token',
      )
    this.#lost()
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

/** The store gets its own copy, so this request's later writes stay dirty until flushed. */
function copyForStore(record: SessionRecord): SessionRecord {
  return { ...record, values: new Map(record.values) }
}
