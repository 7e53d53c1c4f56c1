import { EventEmitter } from 'node:events'
import { deadlineOf } from './expiry'
import type {
  CreateOptions,
  SessionChange,
  SessionRecord,
  SessionSummary,
  StoreEvents,
  UserSessionStore,
} from './store'
import type { JsonValue } from './values'

/** Options of `new MemoryStore()`. */
export interface MemoryStoreOptions {
  /**
   * Most sessions held; past it the least recently active one is evicted (event `evicted`).
   * @default 10240
   */
  capacity?: number
  /**
   * Seconds between sweeps of expired sessions; 0 turns sweeping off (reads still refuse them).
   * @default 10
   */
  heartbeat?: number
}

/**
 * One held session. Values are kept as one JSON string: immutable, so a request's snapshot is
 * never changed under it (the seed's copy-on-write), and reads come back exactly as from Redis.
 */
class Entry {
  constructor(
    public uid: string,
    public tokenHash: string,
    public values: string,
    public createdAt: number,
    public lastActiveAt: number,
    public maxAge: number,
    public lifetime: number,
    public previousToken: { hash: string; expiresAt: number } | undefined,
    public ended: 'replaced' | undefined,
  ) {}
}

/**
 * The embedded store for a single process: bounded by `capacity` with least-recently-active
 * eviction, swept every `heartbeat` seconds at a cost that grows with the sessions it removes.
 * Sweeps walk sessions in activity order, so they assume one `maxAge` and one `lifetime` per
 * store (what one middleware gives); a read always enforces each session's own policy.
 *
 * @example
 * app.use(sessionMiddleware({ store: new MemoryStore({ capacity: 100_000 }) }))
 */
export class MemoryStore extends EventEmitter<StoreEvents> implements UserSessionStore {
  /** Map order is activity order: the least recently active session comes first. */
  readonly #sessions = new Map<string, Entry>()
  /** uid → its session ids; a lone id is kept bare, which halves the cost of the common case. */
  readonly #byUid = new Map<string, string | Set<string>>()
  /** Ids of sessions with a lifetime, in creation order, for the absolute-deadline sweep. */
  #byCreation: string[] = []
  #byCreationHead = 0
  readonly #capacity: number
  readonly #timer: NodeJS.Timeout | undefined

  constructor(options: MemoryStoreOptions = {}) {
    super()
    const { capacity = 10240, heartbeat = 10 } = options
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new TypeError(`option capacity must be a positive whole number, got ${capacity}`)
    if (!(Number.isFinite(heartbeat) && heartbeat >= 0))
      throw new TypeError(`option heartbeat must be a number of seconds >= 0, got ${heartbeat}`)
    this.#capacity = capacity
    if (heartbeat > 0) {
      this.#timer = setInterval(() => this.sweep(), heartbeat * 1000)
      this.#timer.unref()
    }
  }

  /** Number of sessions held, ended markers included. */
  get size(): number {
    return this.#sessions.size
  }

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<void> {
    if (options.replaceOthers) this.#endAll(record.uid, record.id, true)
    this.#remove(record.id, undefined)
    while (this.#sessions.size >= this.#capacity) {
      const oldest = this.#sessions.keys().next().value as string
      this.#remove(oldest, 'evicted')
    }
    const previous = record.previousTokenHash
      ? { hash: record.previousTokenHash, expiresAt: record.previousTokenExpiresAt ?? 0 }
      : undefined
    const entry = new Entry(
      record.uid,
      record.tokenHash,
      JSON.stringify(Object.fromEntries(record.values)),
      record.createdAt,
      record.lastActiveAt,
      record.maxAge,
      record.lifetime,
      previous,
      record.ended === 'replaced' ? 'replaced' : undefined,
    )
    this.#sessions.set(record.id, entry)
    this.#index(record.uid, record.id)
    if (record.lifetime > 0) this.#byCreation.push(record.id)
    this.emit('created', { id: record.id, uid: record.uid })
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const entry = this.#sessions.get(id)
    if (entry === undefined) return undefined
    const now = Date.now()
    if (entry.ended === undefined && deadlineOf(entry) <= now) {
      this.#remove(id, 'expired')
      return toRecord(id, entry, 'expired')
    }
    if (entry.ended === undefined) {
      entry.lastActiveAt = now
      this.#sessions.delete(id)
      this.#sessions.set(id, entry)
    }
    return toRecord(id, entry, entry.ended)
  }

  async update(id: string, change: SessionChange): Promise<boolean> {
    const entry = this.#sessions.get(id)
    if (entry === undefined || entry.ended !== undefined) return false
    if (deadlineOf(entry) <= Date.now()) {
      this.#remove(id, 'expired')
      return false
    }
    if (change.set?.size || change.unset?.length) {
      const values = new Map(Object.entries(JSON.parse(entry.values) as Record<string, JsonValue>))
      for (const key of change.unset ?? []) values.delete(key)
      for (const [key, value] of change.set ?? []) values.set(key, value)
      entry.values = JSON.stringify(Object.fromEntries(values))
    }
    if (change.token) {
      const { tokenHash, previousTokenHash, previousTokenExpiresAt } = change.token
      entry.tokenHash = tokenHash
      entry.previousToken = previousTokenHash
        ? { hash: previousTokenHash, expiresAt: previousTokenExpiresAt ?? 0 }
        : undefined
    }
    return true
  }

  async delete(id: string): Promise<void> {
    this.#remove(id, 'destroyed')
  }

  async list(uid: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const summaries: SessionSummary[] = []
    for (const id of this.#idsOf(uid)) {
      const entry = this.#sessions.get(id)
      if (entry === undefined || entry.ended !== undefined) continue
      const expiresAt = deadlineOf(entry)
      if (expiresAt <= now) continue
      summaries.push({ id, uid, createdAt: entry.createdAt, lastActiveAt: entry.lastActiveAt, expiresAt })
    }
    return summaries.sort((a, b) => a.createdAt - b.createdAt)
  }

  async deleteAll(uid: string, options: { except?: string; replaced?: boolean } = {}): Promise<number> {
    return this.#endAll(uid, options.except, options.replaced ?? false)
  }

  /**
   * Removes expired sessions now; the heartbeat calls it. Walks from the least recently active
   * session and stops at the first live one, so its cost follows what it removes.
   */
  sweep(): void {
    const now = Date.now()
    for (const [id, entry] of this.#sessions) {
      const idleDeadline = entry.maxAge > 0 ? entry.lastActiveAt + entry.maxAge * 1000 : Infinity
      if (idleDeadline > now && entry.ended === undefined) break
      if (deadlineOf(entry) <= now) this.#remove(id, entry.ended ? undefined : 'expired')
      else break
    }
    while (this.#byCreationHead < this.#byCreation.length) {
      const id = this.#byCreation[this.#byCreationHead]!
      const entry = this.#sessions.get(id)
      if (entry !== undefined && entry.lifetime > 0 && entry.createdAt + entry.lifetime * 1000 > now) break
      if (entry !== undefined) this.#remove(id, entry.ended ? undefined : 'expired')
      this.#byCreationHead++
    }
    if (this.#byCreationHead > 1024 && this.#byCreationHead * 2 > this.#byCreation.length) {
      this.#byCreation = this.#byCreation.slice(this.#byCreationHead)
      this.#byCreationHead = 0
    }
  }

  /** Stops the heartbeat; the sessions stay readable. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
  }

  #endAll(uid: string, except: string | undefined, replaced: boolean): number {
    let ended = 0
    for (const id of [...this.#idsOf(uid)]) {
      if (id === except) continue
      const entry = this.#sessions.get(id)
      if (entry === undefined) continue
      if (entry.ended === undefined && deadlineOf(entry) > Date.now()) ended++
      this.#remove(id, 'destroyed')
      if (replaced) this.#keepReplacedMarker(id, entry)
    }
    return ended
  }

  /** Keeps a value-less marker until the session would have expired, so its token reads REPLACED. */
  #keepReplacedMarker(id: string, entry: Entry): void {
    if (deadlineOf(entry) <= Date.now()) return
    entry.values = '{}'
    entry.ended = 'replaced'
    entry.previousToken = undefined
    this.#sessions.set(id, entry)
    if (entry.lifetime > 0) this.#byCreation.push(id)
  }

  #idsOf(uid: string): Iterable<string> {
    const ids = this.#byUid.get(uid)
    if (ids === undefined) return []
    return typeof ids === 'string' ? [ids] : ids
  }

  #index(uid: string, id: string): void {
    const ids = this.#byUid.get(uid)
    if (ids === undefined) this.#byUid.set(uid, id)
    else if (typeof ids === 'string') this.#byUid.set(uid, new Set([ids, id]))
    else ids.add(id)
  }

  #unindex(uid: string, id: string): void {
    const ids = this.#byUid.get(uid)
    if (ids === id) this.#byUid.delete(uid)
    else if (typeof ids === 'object') {
      ids.delete(id)
      if (ids.size === 1) this.#byUid.set(uid, ids.values().next().value as string)
    }
  }

  #remove(id: string, event: 'destroyed' | 'expired' | 'evicted' | undefined): void {
    const entry = this.#sessions.get(id)
    if (entry === undefined) return
    this.#sessions.delete(id)
    if (entry.ended !== undefined) return
    this.#unindex(entry.uid, id)
    if (event) this.emit(event, { id, uid: entry.uid })
  }
}

function toRecord(id: string, entry: Entry, ended: 'replaced' | 'expired' | undefined): SessionRecord {
  const record: SessionRecord = {
    id,
    uid: entry.uid,
    tokenHash: entry.tokenHash,
    createdAt: entry.createdAt,
    lastActiveAt: entry.lastActiveAt,
    maxAge: entry.maxAge,
    lifetime: entry.lifetime,
    values: new Map(Object.entries(JSON.parse(entry.values) as Record<string, JsonValue>)),
  }
  if (entry.previousToken) {
    record.previousTokenHash = entry.previousToken.hash
    record.previousTokenExpiresAt = entry.previousToken.expiresAt
  }
  if (ended) record.ended = ended
  return record
}
