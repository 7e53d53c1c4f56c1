import { EventEmitter } from 'node:events'
import type {
  CreateOptions,
  EvictionReason,
  SessionChange,
  SessionRecord,
  SessionSummary,
  StoreEvents,
  UserSessionStore,
} from '../store'
import { CreationQueue } from './engine/creation-queue'
import { SessionSlab } from './engine/session-slab'
import { encodeValues } from './engine/value-column'

/** What a removal tells listeners: nothing for a marker or a replaced id. */
type RemovalEvent = 'destroyed' | 'expired' | 'evicted' | undefined

/** Options of `new MemoryStore()`. */
export interface MemoryStoreOptions {
  /**
   * Most sessions held. A login into a full store evicts the least recently active session (event
   * `evicted`, reason `'capacity'`), unless the uid logging in holds more than an equal share of
   * the capacity (capacity ÷ uids holding sessions): then it evicts that uid's own least recently
   * active session, so that no uid can push the others out.
   * @default 10240
   */
  capacity?: number
  /**
   * Seconds between sweeps of expired sessions; 0 turns sweeping off (reads still refuse them).
   * @default 10
   */
  heartbeat?: number
  /**
   * Most live sessions of one uid. A login past it ends that uid's least recently active session
   * (event `evicted`, reason `'per-user limit'`), never another uid's; 0 turns the limit off.
   * @default 100
   */
  maxSessionsPerUser?: number
}

/** The longest delay a Node timer takes; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Longest a heartbeat sweep holds the event loop before it yields and goes on in the next turn.
 * Short, because a pause the sweep causes is this plus whatever else stops the process meanwhile:
 * a collection, a compile sharing the CPU, the VM.
 */
const SWEEP_SLICE_MS = 1

/**
 * The embedded store for a single process: bounded by `capacity` with least-recently-active
 * eviction that no one uid can turn against the others, and per uid by `maxSessionsPerUser`;
 * swept every `heartbeat` seconds at a cost that grows with the sessions it removes, in slices of
 * about a millisecond so a mass expiry never stalls requests. Sweeps walk sessions in activity
 * order, so they assume one `maxAge` and one `lifetime` per store (what one middleware gives); a
 * read always enforces each session's own policy. A session's reads and writes cost what its own
 * values do, whatever other sessions hold.
 *
 * @example
 * app.use(sessionMiddleware({ store: new MemoryStore({ capacity: 100_000 }) }))
 */
export class MemoryStore extends EventEmitter<StoreEvents> implements UserSessionStore {
  #size = 0
  readonly #slab = new SessionSlab()
  /** Sessions with a lifetime, in creation order, for the absolute-deadline sweep. */
  readonly #byCreation = new CreationQueue()
  readonly #capacity: number
  readonly #maxSessionsPerUser: number
  readonly #timer: NodeJS.Timeout | undefined
  #sweeping = false

  constructor(options: MemoryStoreOptions = {}) {
    super()
    const { capacity = 10240, heartbeat = 10, maxSessionsPerUser = 100 } = options
    if (!(Number.isInteger(capacity) && capacity > 0))
      throw new TypeError(`option capacity must be a positive whole number, got ${capacity}`)
    if (!(typeof heartbeat === 'number' && heartbeat >= 0 && heartbeat * 1000 <= MAX_TIMER_MS))
      throw new TypeError(
        `option heartbeat must be a number of seconds from 0 to ${Math.floor(MAX_TIMER_MS / 1000)}, got ${heartbeat}`,
      )
    if (!(Number.isInteger(maxSessionsPerUser) && maxSessionsPerUser >= 0))
      throw new TypeError(
        `option maxSessionsPerUser must be a whole number >= 0 (0 for no limit), got ${maxSessionsPerUser}`,
      )
    this.#capacity = capacity
    this.#maxSessionsPerUser = maxSessionsPerUser
    if (heartbeat > 0) {
      this.#timer = setInterval(() => this.#sweepInSlices(), heartbeat * 1000)
      this.#timer.unref()
    }
  }

  /** Number of sessions held, ended markers included. */
  get size(): number {
    return this.#size
  }

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<void> {
    const values = encodeValues(record.values)
    const { id, uid } = record
    if (options.replaceOthers && uid !== undefined) this.#endAll(uid, id, true)
    this.#remove(id, undefined)
    this.#makeRoom(uid, record.ended === undefined)
    const slot = this.#slab.add(record, values)
    this.#size++
    if (record.lifetime > 0) this.#byCreation.push(slot, record.createdAt)
    this.emit('created', { id, uid: uid ?? '' })
  }

  /** Answers synchronously: a read costs the request no promise and no extra turn. */
  get(id: string): SessionRecord | undefined {
    const slab = this.#slab
    const slot = slab.find(id)
    if (slot === undefined) return undefined
    const ended = slab.ended(slot)
    if (ended === undefined) {
      const now = Date.now()
      if (slab.deadline(slot) <= now) {
        const record = slab.toRecord(slot, id, 'expired')
        this.#removeSlot(slot, 'expired')
        return record
      }
      slab.touch(slot, now)
    }
    return slab.toRecord(slot, id, ended)
  }

  /** Answers synchronously, like `get`. */
  update(id: string, change: SessionChange): boolean {
    const slot = this.#slab.find(id)
    if (slot === undefined || this.#slab.ended(slot) !== undefined) return false
    if (this.#slab.deadline(slot) <= Date.now()) {
      this.#removeSlot(slot, 'expired')
      return false
    }
    if (change.token && this.#slab.tokenHash(slot) !== change.token.replaces) return false
    if (change.set?.size || change.unset?.length) this.#slab.updateValues(slot, change)
    if (change.token) this.#slab.rotateToken(slot, change.token)
    return true
  }

  async delete(id: string): Promise<void> {
    this.#remove(id, 'destroyed')
  }

  async list(uid: string): Promise<SessionSummary[]> {
    const now = Date.now()
    const summaries: SessionSummary[] = []
    for (const slot of this.#slab.slotsOf(uid)) {
      const expiresAt = this.#slab.deadline(slot)
      if (expiresAt <= now) continue
      const { clock } = this.#slab
      const [createdAt, lastActiveAt] = [clock.createdAt(slot), clock.lastActiveAt(slot)]
      summaries.push({
        id: this.#slab.id(slot),
        uid,
        createdAt,
        lastActiveAt,
        expiresAt,
        ...this.#slab.device(slot),
      })
    }
    return summaries.sort((a, b) => a.createdAt - b.createdAt)
  }

  async deleteAll(uid: string, options: { except?: string; replaced?: boolean } = {}): Promise<number> {
    return this.#endAll(uid, options.except, options.replaced ?? false)
  }

  /**
   * Removes expired sessions now, all of them; the heartbeat does the same in slices. Walks from
   * the least recently active session and stops at the first live one, so its cost follows what
   * it removes, not what the store holds.
   */
  sweep(): void {
    this.#sweepFor(Infinity)
  }

  /** Stops the heartbeat; the sessions stay readable. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
  }

  #sweepInSlices(): void {
    if (this.#sweeping) return
    this.#sweeping = true
    const slice = () => {
      if (this.#sweepFor(SWEEP_SLICE_MS)) this.#sweeping = false
      else setImmediate(slice).unref()
    }
    slice()
  }

  /** Sweeps for at most `budget` ms; resolves whether it finished. */
  #sweepFor(budget: number): boolean {
    const now = Date.now()
    const stopAt = performance.now() + budget
    let checked = 0
    const outOfTime = () => ++checked % 32 === 0 && performance.now() > stopAt
    const slab = this.#slab
    // always the oldest afresh: an `expired` listener may have removed or touched other sessions
    for (let slot = slab.oldest(); slot !== undefined; slot = slab.oldest()) {
      if (slab.clock.idleDeadline(slot) > now && slab.ended(slot) === undefined) break
      if (slab.deadline(slot) > now) break
      this.#removeSlot(slot, slab.ended(slot) ? undefined : 'expired')
      if (outOfTime()) return false
    }
    const queue = this.#byCreation
    while (queue.size > 0) {
      const slot = queue.oldestSlot()
      // Infinity when the session queued here is gone: its slot is free, or holds a later one
      const deadline =
        slab.createdAt(slot) === queue.oldestCreatedAt() ? slab.clock.absoluteDeadline(slot) : Infinity
      const gone = deadline === Infinity
      if (!gone && deadline > now) break
      if (!gone) this.#removeSlot(slot, slab.ended(slot) ? undefined : 'expired')
      queue.shift()
      if (outOfTime()) return false
    }
    return true
  }

  /**
   * Ends sessions until one more of `uid` fits: its own least recently active past the per-user
   * limit (a `live` session counts towards it; a marker or an anonymous one does not), then, while
   * the store is full, the session `#capacityVictim` picks.
   */
  #makeRoom(uid: string | undefined, live: boolean): void {
    const limit = this.#maxSessionsPerUser
    if (live && limit > 0 && uid !== undefined)
      for (let census = this.#slab.census(uid); census.count >= limit; census = this.#slab.census(uid))
        this.#removeSlot(census.leastRecent, 'evicted', 'per-user limit')
    while (this.#size >= this.#capacity) this.#removeSlot(this.#capacityVictim(uid), 'evicted', 'capacity')
  }

  /**
   * The session a full store gives up for a login of `uid`: that uid's own least recently active
   * one while it holds more than an equal share of the capacity, else the least recently active
   * (for an anonymous session, always).
   */
  #capacityVictim(uid: string | undefined): number {
    if (uid === undefined) return this.#slab.oldest()!
    const { count, leastRecent } = this.#slab.census(uid)
    return count > this.#capacity / Math.max(1, this.#slab.users) ? leastRecent : this.#slab.oldest()!
  }

  #endAll(uid: string, except: string | undefined, replaced: boolean): number {
    const now = Date.now()
    let ended = 0
    for (const slot of [...this.#slab.slotsOf(uid)]) {
      const id = this.#slab.id(slot)
      if (id === except) continue
      const alive = this.#slab.deadline(slot) > now
      if (alive) ended++
      if (replaced && alive) {
        this.#slab.markReplaced(slot)
        this.emit('destroyed', { id, uid })
      } else this.#remove(id, 'destroyed')
    }
    return ended
  }

  #remove(id: string, event: RemovalEvent): void {
    const slot = this.#slab.find(id)
    if (slot !== undefined) this.#removeSlot(slot, event)
  }

  #removeSlot(slot: number, event: RemovalEvent, reason?: EvictionReason): void {
    // A mass expiry would otherwise build an id, a uid and a payload per session for no listener: garbage the GC pays for.
    const told = event !== undefined && this.listenerCount(event) > 0
    const id = told ? this.#slab.id(slot) : ''
    const uid = told ? this.#slab.uid(slot) : ''
    this.#size--
    const live = this.#slab.release(slot)
    if (told && live) this.emit(event, reason ? { id, uid, reason } : { id, uid })
  }
}
