const NONE = -1

/**
 * The slab's hash table from session id to slot: chains of slots whose ids share a bucket, in two
 * typed arrays, so adding or removing a session allocates nothing. Callers hash the ids (the slab
 * hashes its stored ids without building their text); rebuilt only when the slab doubles.
 */
export class IdIndex {
  #next: Int32Array = new Int32Array(0)
  #buckets: Int32Array = new Int32Array(0)

  /** Room for `capacity` slots, with every chain emptied: link the slots in use again. */
  resize(capacity: number): void {
    const next = new Int32Array(capacity)
    next.set(this.#next)
    this.#next = next
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
    this.#next[slot] = this.#buckets[bucket]!
    this.#buckets[bucket] = slot
  }

  unlink(slot: number, hash: number): void {
    const bucket = hash & (this.#buckets.length - 1)
    let current = this.#buckets[bucket]!
    if (current === slot) {
      this.#buckets[bucket] = this.#next[slot]!
      return
    }
    while (this.#next[current] !== slot) current = this.#next[current]!
    this.#next[current] = this.#next[slot]!
  }
}
