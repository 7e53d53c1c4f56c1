import { hashString } from '../../../core/string-hash'
import type { JsonValue } from '../../../core/values'
import type { SessionRecord, TokenRotation } from '../../store'
import { directMappedSize, HotValues } from './hot-values'
import { IdColumn } from './id-column'
import { TextArena } from './text-arena'

/** What few sessions carry: a token `refresh()` replaced, or the marker of a replaced session. */
interface Extra {
  tokenHash?: string
  previousTokenHash?: string
  previousTokenExpiresAt?: number
  ended?: 'replaced'
}

const NONE = -1
const HASH_BYTES = 32
const CANONICAL_HASH = /^[A-Za-z0-9_-]{43}$/

/**
 * The memory store's sessions laid out column by column, one slot a session: numbers, token hashes
 * and ids in typed arrays, uids and values JSON as bytes in arenas. A million sessions then cost
 * no heap object each instead of a record object with boxed numbers and nested strings, which
 * keeps both the heap and garbage-collection pauses small. The indexes are
 * typed arrays of slots too: a hash table from id to slot, one from uid to its sessions, and a
 * list in activity order. Unlike Maps, they are rebuilt only when the slab doubles, never on
 * delete, and touching or removing a session allocates nothing, so a sweep of a million expired
 * sessions leaves the collector only the sessions' own strings.
 */
export class SessionSlab {
  readonly #ids = new IdColumn()
  /** The uid of each slot in use; a free slot has none. */
  readonly #uids = new TextArena()
  /** The values as one JSON text, which every reader parses afresh. Stale while #hot holds newer ones. */
  readonly #values = new TextArena()
  readonly #hot: HotValues
  /** createdAt, lastActiveAt (epoch ms) per slot. */
  #times = new Float64Array(0)
  /** maxAge, lifetime (seconds) per slot. */
  #policy = new Int32Array(0)
  /** Token hashes, 32 bytes a slot: a Buffer, so a hash reads back as text without a view object. */
  #hashes = Buffer.alloc(0)
  /** Token hashes and uids also kept as strings for recent slots (direct-mapped), so a hot session's read decodes none. */
  readonly #textSlots: Int32Array
  readonly #hashTexts: (string | undefined)[]
  readonly #uidTexts: (string | undefined)[]
  readonly #textMask: number
  /** Chains of slots whose ids share a bucket. */
  #idNext = new Int32Array(0)
  #idBuckets = new Int32Array(0)
  /** Doubly linked chains of slots whose uids share a bucket. */
  #uidNext = new Int32Array(0)
  #uidPrev = new Int32Array(0)
  #buckets = new Int32Array(0)
  /** Every slot in use, least recently active first: links to the next older and newer one. */
  #older = new Int32Array(0)
  #newer = new Int32Array(0)
  #oldest = NONE
  #newest = NONE
  #extras = new Map<number, Extra>()
  /** Freed slots, chained through #uidNext (a free slot is in no uid chain): no array to grow. */
  #freeHead = NONE
  /** What `find` found last: a write looks up the session its request's read just found, unhashed. */
  #foundId: string | undefined
  #foundSlot = NONE
  #capacity = 0
  #used = 0

  /** `hotSlots`: how many recently used sessions keep their values parsed and token hash as text. */
  constructor(hotSlots = 1024) {
    this.#hot = new HotValues(
      (slot) => this.#values.text(slot)!,
      (slot, json) => this.#values.set(slot, json),
      hotSlots,
    )
    const entries = directMappedSize(hotSlots)
    this.#textSlots = new Int32Array(entries).fill(NONE)
    this.#hashTexts = new Array<string | undefined>(entries).fill(undefined)
    this.#uidTexts = new Array<string | undefined>(entries).fill(undefined)
    this.#textMask = entries - 1
  }

  /** Stores a record (values already serialised) as the most recently active; its id must be new. */
  add(record: SessionRecord, values: string): number {
    const slot = this.#freeHead === NONE ? this.#grow() : this.#freeHead
    if (slot === this.#freeHead) this.#freeHead = this.#uidNext[slot]!
    this.#ids.set(slot, record.id)
    this.#uids.set(slot, record.uid)
    this.#values.set(slot, values)
    this.#times[slot * 2] = record.createdAt
    this.#times[slot * 2 + 1] = record.lastActiveAt
    this.#policy[slot * 2] = record.maxAge
    this.#policy[slot * 2 + 1] = record.lifetime
    const extra: Extra = {}
    if (!this.#writeHash(slot, record.tokenHash)) extra.tokenHash = record.tokenHash
    if (record.previousTokenHash !== undefined) {
      extra.previousTokenHash = record.previousTokenHash
      extra.previousTokenExpiresAt = record.previousTokenExpiresAt ?? 0
    }
    if (record.ended === 'replaced') extra.ended = 'replaced'
    if (Object.keys(extra).length > 0) this.#extras.set(slot, extra)
    if (record.ended === undefined) this.#link(slot)
    else this.#uidNext[slot] = this.#uidPrev[slot] = NONE
    this.#linkId(slot)
    this.#append(slot)
    return slot
  }

  /** The slot of session `id`, or `undefined` when the slab has none. */
  find(id: string): number | undefined {
    if (id === this.#foundId) return this.#foundSlot
    if (this.#capacity === 0) return undefined
    const ids = this.#ids
    const bucket = hashString(id) & (this.#idBuckets.length - 1)
    for (let slot = this.#idBuckets[bucket]!; slot !== NONE; slot = this.#idNext[slot]!)
      if (ids.holds(slot, id)) {
        this.#foundId = id
        this.#foundSlot = slot
        return slot
      }
    return undefined
  }

  /** The least recently active slot, `undefined` when empty: where sweeps and eviction start. */
  oldest(): number | undefined {
    return this.#oldest === NONE ? undefined : this.#oldest
  }

  /** Frees a slot; resolves whether it held a live session (not a marker). */
  release(slot: number): boolean {
    const live = this.ended(slot) === undefined
    if (live) this.#unlink(slot)
    this.#unlinkId(slot)
    this.#detach(slot)
    this.#ids.clear(slot)
    if (slot === this.#foundSlot) this.#foundId = undefined
    this.#uids.clear(slot)
    this.#values.clear(slot)
    this.#hot.forget(slot)
    this.#forgetTexts(slot)
    this.#extras.delete(slot)
    this.#uidNext[slot] = this.#freeHead
    this.#freeHead = slot
    return live
  }

  /** The uid of the session in `slot`: built afresh unless the slot is recent, so call it only when the text is needed. */
  uid(slot: number): string {
    const index = this.#recentText(slot)
    const uid = this.#uidTexts[index] ?? this.#uids.text(slot)!
    this.#uidTexts[index] = uid
    return uid
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
    return this.#uids.has(slot) ? this.#times[slot * 2]! : undefined
  }

  times(slot: number): { createdAt: number; lastActiveAt: number } {
    return { createdAt: this.#times[slot * 2]!, lastActiveAt: this.#times[slot * 2 + 1]! }
  }

  /** When the session ends if left idle (epoch ms), `Infinity` for never. */
  deadline(slot: number): number {
    return Math.min(this.idleDeadline(slot), this.absoluteDeadline(slot))
  }

  idleDeadline(slot: number): number {
    const maxAge = this.#policy[slot * 2]!
    return maxAge > 0 ? this.#times[slot * 2 + 1]! + maxAge * 1000 : Infinity
  }

  absoluteDeadline(slot: number): number {
    const lifetime = this.#policy[slot * 2 + 1]!
    return lifetime > 0 ? this.#times[slot * 2]! + lifetime * 1000 : Infinity
  }

  /** Records activity at `now`: the session becomes the most recently active. */
  touch(slot: number, now: number): void {
    this.#times[slot * 2 + 1] = now
    if (slot === this.#newest) return
    this.#detach(slot)
    this.#append(slot)
  }

  /** The values, shared with other readers: never to be changed, copied to make a change. */
  values(slot: number): ReadonlyMap<string, JsonValue> {
    return this.#hot.read(slot)
  }

  /** Replaces the values with `values`, which the slab keeps, unchanged from here on. */
  setValues(slot: number, values: ReadonlyMap<string, JsonValue>): void {
    const json = this.#hot.write(slot, values)
    if (json !== undefined) this.#values.set(slot, json)
  }

  rotateToken(slot: number, rotation: TokenRotation): void {
    const extra = this.#extras.get(slot) ?? {}
    delete extra.tokenHash
    delete extra.previousTokenHash
    delete extra.previousTokenExpiresAt
    if (!this.#writeHash(slot, rotation.tokenHash)) extra.tokenHash = rotation.tokenHash
    if (rotation.previousTokenHash !== undefined) {
      extra.previousTokenHash = rotation.previousTokenHash
      extra.previousTokenExpiresAt = rotation.previousTokenExpiresAt ?? 0
    }
    if (Object.keys(extra).length > 0) this.#extras.set(slot, extra)
    else this.#extras.delete(slot)
  }

  /** Turns a live session into a value-less marker that reads as replaced until its deadline. */
  markReplaced(slot: number): void {
    this.#unlink(slot)
    this.#values.set(slot, '{}')
    this.#hot.forget(slot)
    const extra = this.#extras.get(slot) ?? {}
    delete extra.previousTokenHash
    delete extra.previousTokenExpiresAt
    extra.ended = 'replaced'
    this.#extras.set(slot, extra)
  }

  /** The slots of `uid`'s live sessions. */
  *slotsOf(uid: string): Generator<number> {
    if (this.#capacity === 0) return
    for (let slot = this.#buckets[this.#bucketOf(uid)]!; slot !== NONE; slot = this.#uidNext[slot]!)
      if (this.#uids.holds(slot, uid)) yield slot
  }

  toRecord(slot: number, id: string, ended: 'replaced' | 'expired' | undefined): SessionRecord {
    const extra = this.#extras.get(slot)
    const record: SessionRecord = {
      id,
      uid: this.uid(slot),
      tokenHash: extra?.tokenHash ?? this.#readHash(slot),
      createdAt: this.#times[slot * 2]!,
      lastActiveAt: this.#times[slot * 2 + 1]!,
      maxAge: this.#policy[slot * 2]!,
      lifetime: this.#policy[slot * 2 + 1]!,
      values: this.values(slot),
    }
    if (extra?.previousTokenHash !== undefined) {
      record.previousTokenHash = extra.previousTokenHash
      record.previousTokenExpiresAt = extra.previousTokenExpiresAt ?? 0
    }
    if (ended) record.ended = ended
    return record
  }

  /** Keeps a canonical SHA-256 hash as 32 bytes; resolves false for any other string. */
  #writeHash(slot: number, hash: string): boolean {
    const index = slot & this.#textMask
    if (this.#textSlots[index] === slot) this.#hashTexts[index] = undefined
    if (!CANONICAL_HASH.test(hash)) return false
    const bytes = Buffer.from(hash, 'base64url')
    if (bytes.length !== HASH_BYTES || bytes.toString('base64url') !== hash) return false
    this.#hashes.set(bytes, slot * HASH_BYTES)
    return true
  }

  #readHash(slot: number): string {
    const index = this.#recentText(slot)
    const start = slot * HASH_BYTES
    const hash = this.#hashTexts[index] ?? this.#hashes.toString('base64url', start, start + HASH_BYTES)
    this.#hashTexts[index] = hash
    return hash
  }

  /** The entry of `slot` among the recent texts, taken over (and emptied) when another slot held it. */
  #recentText(slot: number): number {
    const index = slot & this.#textMask
    if (this.#textSlots[index] !== slot) {
      this.#textSlots[index] = slot
      this.#hashTexts[index] = this.#uidTexts[index] = undefined
    }
    return index
  }

  #forgetTexts(slot: number): void {
    const index = slot & this.#textMask
    if (this.#textSlots[index] !== slot) return
    this.#textSlots[index] = NONE
    this.#hashTexts[index] = this.#uidTexts[index] = undefined
  }

  #bucketOf(uid: string): number {
    return hashString(uid) & (this.#buckets.length - 1)
  }

  #uidBucketOf(slot: number): number {
    return this.#uids.hashOf(slot) & (this.#buckets.length - 1)
  }

  #idBucketOf(slot: number): number {
    return this.#ids.hashOf(slot) & (this.#idBuckets.length - 1)
  }

  #linkId(slot: number): void {
    const bucket = this.#idBucketOf(slot)
    this.#idNext[slot] = this.#idBuckets[bucket]!
    this.#idBuckets[bucket] = slot
  }

  #unlinkId(slot: number): void {
    const bucket = this.#idBucketOf(slot)
    let current = this.#idBuckets[bucket]!
    if (current === slot) {
      this.#idBuckets[bucket] = this.#idNext[slot]!
      return
    }
    while (this.#idNext[current] !== slot) current = this.#idNext[current]!
    this.#idNext[current] = this.#idNext[slot]!
  }

  /** Puts a slot at the most recently active end of the activity list. */
  #append(slot: number): void {
    this.#older[slot] = this.#newest
    this.#newer[slot] = NONE
    if (this.#newest === NONE) this.#oldest = slot
    else this.#newer[this.#newest] = slot
    this.#newest = slot
  }

  /** Takes a slot out of the activity list. */
  #detach(slot: number): void {
    const older = this.#older[slot]!
    const newer = this.#newer[slot]!
    if (older === NONE) this.#oldest = newer
    else this.#newer[older] = newer
    if (newer === NONE) this.#newest = older
    else this.#older[newer] = older
  }

  #link(slot: number): void {
    const bucket = this.#uidBucketOf(slot)
    const head = this.#buckets[bucket]!
    this.#uidPrev[slot] = NONE
    this.#uidNext[slot] = head
    if (head !== NONE) this.#uidPrev[head] = slot
    this.#buckets[bucket] = slot
  }

  #unlink(slot: number): void {
    const previous = this.#uidPrev[slot]!
    const next = this.#uidNext[slot]!
    if (previous === NONE) this.#buckets[this.#uidBucketOf(slot)] = next
    else this.#uidNext[previous] = next
    if (next !== NONE) this.#uidPrev[next] = previous
    this.#uidNext[slot] = this.#uidPrev[slot] = NONE
  }

  /** A never-used slot, doubling the columns (and rehashing the id and uid chains) when they are full. */
  #grow(): number {
    if (this.#used === this.#capacity) {
      const capacity = Math.max(64, this.#capacity * 2)
      this.#times = resized(this.#times, capacity * 2)
      this.#policy = resized(this.#policy, capacity * 2)
      const hashes = Buffer.alloc(capacity * HASH_BYTES)
      this.#hashes.copy(hashes)
      this.#hashes = hashes
      this.#ids.resize(capacity)
      this.#uids.resize(capacity)
      this.#values.resize(capacity)
      this.#uidNext = resized(this.#uidNext, capacity)
      this.#uidPrev = resized(this.#uidPrev, capacity)
      this.#older = resized(this.#older, capacity)
      this.#newer = resized(this.#newer, capacity)
      this.#idNext = resized(this.#idNext, capacity)
      this.#buckets = new Int32Array(capacity).fill(NONE)
      this.#idBuckets = new Int32Array(capacity).fill(NONE)
      this.#capacity = capacity
      for (let slot = 0; slot < this.#used; slot++) {
        if (!this.#uids.has(slot)) continue
        this.#linkId(slot)
        if (this.ended(slot) === undefined) this.#link(slot)
      }
    }
    return this.#used++
  }
}

function resized<T extends Float64Array | Int32Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length)
  next.set(array)
  return next
}
