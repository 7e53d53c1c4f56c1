const NONE = -1

/**
 * The slab's index from uid to its live sessions' slots: doubly linked chains of slots whose uids
 * share a bucket, in typed arrays, so adding or removing a session allocates nothing. A free slot
 * is in no uid chain, so the same links also chain the free slots, and the slab needs no array of
 * its own for them. Callers hash the uids; rebuilt only when the slab doubles.
 */
export class UidIndex {
  #next: Int32Array = new Int32Array(0)
  #previous: Int32Array = new Int32Array(0)
  #buckets: Int32Array = new Int32Array(0)
  #freeHead = NONE

  /** Room for `capacity` slots, with every uid chain emptied (the free chain kept): link the live slots again. */
  resize(capacity: number): void {
    this.#next = resized(this.#next, capacity)
    this.#previous = resized(this.#previous, capacity)
    this.#buckets = new Int32Array(capacity).fill(NONE)
  }

  /** The first slot of the chain for `hash`, or -1 for none. */
  first(hash: number): number {
    return this.#buckets.length === 0 ? NONE : this.#buckets[hash & (this.#buckets.length - 1)]!
  }

  /** The slot after `slot` in its chain, or -1 at its end. */
  next(slot: number): number {
    return this.#next[slot]!
  }

  link(slot: number, hash: number): void {
    const bucket = hash & (this.#buckets.length - 1)
    const head = this.#buckets[bucket]!
    this.#previous[slot] = NONE
    this.#next[slot] = head
    if (head !== NONE) this.#previous[head] = slot
    this.#buckets[bucket] = slot
  }

  unlink(slot: number, hash: number): void {
    const previous = this.#previous[slot]!
    const next = this.#next[slot]!
    if (previous === NONE) this.#buckets[hash & (this.#buckets.length - 1)] = next
    else this.#next[previous] = next
    if (next !== NONE) this.#previous[next] = previous
    this.detach(slot)
  }

  /** Marks `slot` as in no chain: a session kept without a uid entry (an ended marker). */
  detach(slot: number): void {
    this.#next[slot] = this.#previous[slot] = NONE
  }

  /** Chains a freed slot (in no uid chain) for reuse. */
  pushFree(slot: number): void {
    this.#next[slot] = this.#freeHead
    this.#freeHead = slot
  }

  /** A freed slot to reuse, or -1 for none. */
  popFree(): number {
    const slot = this.#freeHead
    if (slot !== NONE) this.#freeHead = this.#next[slot]!
    return slot
  }
}

function resized(array: Int32Array, length: number): Int32Array {
  const next = new Int32Array(length)
  next.set(array)
  return next
}
