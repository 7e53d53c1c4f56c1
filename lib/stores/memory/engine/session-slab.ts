import { hashString } from '../../../core/string-hash'
import type { JsonValue } from '../../../core/values'
import type { SessionChange, SessionRecord, TokenRotation } from '../../store'
import { ActivityList } from './activity-list'
import { HashColumn } from './hash-column'
import { IdColumn } from './id-column'
import { IdIndex } from './id-index'
import { OriginColumn } from './origin-column'
import { RecentTexts } from './recent-texts'
import { TimeColumn } from './time-column'
import { type UserCensus, UserChains } from './user-chains'
import { type EncodedValues, ValueColumn } from './value-column'

/** What few sessions carry: a token `refresh()` replaced, or the marker of a replaced session. */
interface Extra {
  tokenHash?: string
  previousTokenHash?: string
  previousTokenExpiresAt?: number
  ended?: 'replaced'
}

const NONE = -1
const NO_VALUES = '{}'

/**
 * The memory store's sessions laid out column by column, one slot a session: numbers, token hashes
 * and ids in typed arrays, uids and (for all but large sessions) values JSON as bytes in arenas.
 * A million sessions then cost no heap object each instead of a record object with boxed numbers
 * and nested strings, which keeps both the heap and garbage-collection pauses small. The indexes
 * are typed arrays of slots too: a hash table from id to slot, one from uid to its sessions, and a
 * list in activity order. Unlike Maps, they are rebuilt only when the slab doubles, never on
 * delete, and touching or removing a session allocates nothing, so a sweep of a million expired
 * sessions leaves the collector only the sessions' own strings.
 */
export class SessionSlab {
  readonly #ids = new IdColumn()
  /** The uid of each slot in use (a free slot has none), and from uid to its live sessions' slots. */
  readonly #users = new UserChains()
  /** Each session's values, as its own JSON. */
  readonly #values: ValueColumn
  /** Each session's times, expiry policy and deadlines. */
  readonly clock = new TimeColumn()
  /** Token hashes, 32 bytes a slot. */
  readonly #hashes = new HashColumn()
  /** Whether each cookie persists, and the device each session was made on. */
  readonly #origins = new OriginColumn()
  /** Token hashes and uids also kept as strings for recent slots, so a hot session's read decodes none. */
  readonly #recent: RecentTexts
  /** From id to slot. */
  readonly #idIndex = new IdIndex()
  /** Every slot in use, least recently active first. */
  readonly #activity = new ActivityList()
  #extras = new Map<number, Extra>()
  /** What `find` found last: a write looks up the session its request's read just found, unhashed. */
  #foundId: string | undefined
  #foundSlot = NONE
  #capacity = 0
  #used = 0

  /** `hotSlots`: how many recently used sessions keep their values parsed and token hash as text. */
  constructor(hotSlots = 1024) {
    this.#values = new ValueColumn(hotSlots)
    this.#recent = new RecentTexts(hotSlots)
  }

  /** Distinct uids with a live session. */
  get users(): number {
    return this.#users.users
  }

  /** Stores a record (its values already encoded) as the most recently active; its id must be new. */
  add(record: SessionRecord, values: EncodedValues): number {
    const freed = this.#users.popFree()
    const slot = freed === NONE ? this.#grow() : freed
    this.#ids.set(slot, record.id)
    this.#values.set(slot, values)
    this.clock.set(slot, record)
    const extra: Extra = {}
    if (!this.#writeHash(slot, record.tokenHash)) extra.tokenHash = record.tokenHash
    if (record.previousTokenHash !== undefined) {
      extra.previousTokenHash = record.previousTokenHash
      extra.previousTokenExpiresAt = record.previousTokenExpiresAt ?? 0
    }
    if (record.ended === 'replaced') extra.ended = 'replaced'
    if (Object.keys(extra).length > 0) this.#extras.set(slot, extra)
    this.#origins.set(slot, record)
    // an anonymous session's uid is '' (a login's is never empty): kept, but in no uid's chain
    this.#users.set(slot, record.uid ?? '', record.ended === undefined && record.uid !== undefined)
    this.#idIndex.link(slot, this.#ids.hashOf(slot))
    this.#activity.append(slot)
    return slot
  }

  /** The slot of session `id`, or `undefined` when the slab has none. */
  find(id: string): number | undefined {
    if (id === this.#foundId) return this.#foundSlot
    if (this.#capacity === 0) return undefined
    const ids = this.#ids
    const index = this.#idIndex
    for (let slot = index.first(hashString(id)); slot !== NONE; slot = index.next(slot))
      if (ids.holds(slot, id)) {
        this.#foundId = id
        this.#foundSlot = slot
        return slot
      }
    return undefined
  }

  /** The least recently active slot, `undefined` when empty: where sweeps and eviction start. */
  oldest(): number | undefined {
    return this.#activity.oldest()
  }

  /** Frees a slot; resolves whether it held a live session (not a marker). */
  release(slot: number): boolean {
    const live = this.ended(slot) === undefined
    if (live && !this.anonymous(slot)) this.#users.unlink(slot)
    this.#idIndex.unlink(slot, this.#ids.hashOf(slot))
    this.#activity.detach(slot)
    this.#ids.clear(slot)
    if (slot === this.#foundSlot) this.#foundId = undefined
    this.#users.clear(slot)
    this.#values.clear(slot)
    this.#origins.clear(slot)
    this.#recent.forget(slot)
    this.#extras.delete(slot)
    this.#users.pushFree(slot)
    return live
  }

  /** The uid of the session in `slot`: built afresh unless the slot is recent, so call it only when the text is needed. */
  uid(slot: number): string {
    const kept = this.#recent.uid(slot)
    if (kept !== undefined) return kept
    const uid = this.#users.text(slot)!
    this.#recent.keepUid(slot, uid)
    return uid
  }

  /** Whether the session in `slot` is anonymous: started before a login, so in no uid's chain. */
  anonymous(slot: number): boolean {
    return this.#users.holds(slot, '')
  }

  /** The device the session in `slot` was made on, as its record gave it. */
  device(slot: number): Pick<SessionRecord, 'userAgent' | 'address'> {
    return this.#origins.device(slot)
  }

  /** The id of `slot`, as text: built afresh for most ids, so call it only when the text is needed. */
  id(slot: number): string {
    return this.#ids.text(slot)
  }

  ended(slot: number): 'replaced' | undefined {
    return this.#extras.get(slot)?.ended
  }

  /** When the session in `slot` was created (epoch ms); `undefined` for a free slot. */
  createdAt(slot: number): number | undefined {
    return this.#users.has(slot) ? this.clock.createdAt(slot) : undefined
  }

  /** When the session in `slot` ends if left idle (epoch ms), `Infinity` for never. */
  deadline(slot: number): number {
    return this.clock.deadline(slot)
  }

  /** Records activity at `now`: the session becomes the most recently active. */
  touch(slot: number, now: number): void {
    this.clock.touch(slot, now)
    if (this.#activity.isNewest(slot)) return
    this.#activity.detach(slot)
    this.#activity.append(slot)
  }

  /** The values, shared with other readers: never to be changed. */
  values(slot: number): ReadonlyMap<string, JsonValue> {
    return this.#values.read(slot)
  }

  /**
   * Sets and unsets keys, at a cost that follows the session's own values (and for a large
   * session, the keys set); throws, changing nothing, for a value JSON refuses.
   */
  updateValues(slot: number, { set, unset }: SessionChange): void {
    this.#values.update(slot, set, unset)
  }

  /** The current token hash of the session in `slot`. */
  tokenHash(slot: number): string {
    return this.#extras.get(slot)?.tokenHash ?? this.#readHash(slot)
  }

  /** Replaces the token hash, keeping the one it replaces while the rotation asks for it. */
  rotateToken(slot: number, rotation: TokenRotation): void {
    const replaced = this.tokenHash(slot)
    const extra = this.#extras.get(slot) ?? {}
    delete extra.tokenHash
    delete extra.previousTokenHash
    delete extra.previousTokenExpiresAt
    if (!this.#writeHash(slot, rotation.tokenHash)) extra.tokenHash = rotation.tokenHash
    if (rotation.previousTokenExpiresAt !== undefined) {
      extra.previousTokenHash = replaced
      extra.previousTokenExpiresAt = rotation.previousTokenExpiresAt
    }
    if (Object.keys(extra).length > 0) this.#extras.set(slot, extra)
    else this.#extras.delete(slot)
  }

  /** Turns a live session into a value-less marker that reads as replaced until its deadline. */
  markReplaced(slot: number): void {
    this.#users.unlink(slot)
    this.#values.set(slot, NO_VALUES)
    const extra = this.#extras.get(slot) ?? {}
    delete extra.previousTokenHash
    delete extra.previousTokenExpiresAt
    extra.ended = 'replaced'
    this.#extras.set(slot, extra)
  }

  /** The slots of `uid`'s live sessions, newest first. */
  slotsOf(uid: string): Iterable<number> {
    return this.#capacity === 0 ? [] : this.#users.slotsOf(uid)
  }

  /** How many live sessions `uid` has, and its least recently active one (of equals, the oldest). */
  census(uid: string): UserCensus {
    return this.#users.census(uid, (a, b) => this.clock.before(a, b))
  }

  toRecord(slot: number, id: string, ended: 'replaced' | 'expired' | undefined): SessionRecord {
    const extra = this.#extras.get(slot)
    const record: SessionRecord = {
      id,
      tokenHash: this.tokenHash(slot),
      createdAt: this.clock.createdAt(slot),
      lastActiveAt: this.clock.lastActiveAt(slot),
      maxAge: this.clock.maxAge(slot),
      lifetime: this.clock.lifetime(slot),
      values: this.values(slot),
    }
    if (extra?.previousTokenHash !== undefined) {
      record.previousTokenHash = extra.previousTokenHash
      record.previousTokenExpiresAt = extra.previousTokenExpiresAt ?? 0
    }
    if (ended) record.ended = ended
    if (!this.anonymous(slot)) record.uid = this.uid(slot)
    if (!this.#origins.persistent(slot)) record.persistent = false
    return record
  }

  /** Keeps a canonical SHA-256 hash as 32 bytes; resolves false for any other string. */
  #writeHash(slot: number, hash: string): boolean {
    this.#recent.forgetHash(slot)
    return this.#hashes.write(slot, hash)
  }

  #readHash(slot: number): string {
    const kept = this.#recent.hash(slot)
    if (kept !== undefined) return kept
    const hash = this.#hashes.read(slot)
    this.#recent.keepHash(slot, hash)
    return hash
  }

  /** A never-used slot, doubling the columns (and rehashing the id and uid chains) when they are full. */
  #grow(): number {
    if (this.#used === this.#capacity) {
      const capacity = Math.max(64, this.#capacity * 2)
      this.clock.resize(capacity)
      this.#hashes.resize(capacity)
      this.#ids.resize(capacity)
      this.#users.resize(capacity)
      this.#values.resize(capacity)
      this.#origins.resize(capacity)
      this.#activity.resize(capacity)
      this.#idIndex.resize(capacity)
      this.#capacity = capacity
      for (let slot = 0; slot < this.#used; slot++) {
        if (!this.#users.has(slot)) continue
        this.#idIndex.link(slot, this.#ids.hashOf(slot))
        if (this.ended(slot) === undefined && !this.anonymous(slot)) this.#users.relink(slot)
      }
    }
    return this.#used++
  }
}
