const NONE = -1

/**
 * The slab's slots in use, least recently active first, as links in two typed arrays: moving a
 * session to the most recent end, or taking it out, allocates nothing. Sweeps and eviction start
 * from the oldest.
 */
export class ActivityList {
  /** Links to the next older and newer slot. */
  #older: Int32Array = new Int32Array(0)
  #newer: Int32Array = new Int32Array(0)
  #oldest = NONE
  #newest = NONE

  /** Room for `capacity` slots, the links held so far kept. */
  resize(capacity: number): void {
    this.#older = resized(this.#older, capacity)
    this.#newer = resized(this.#newer, capacity)
  }

  /** The least recently active slot, `undefined` when empty. */
  oldest(): number | undefined {
    return this.#oldest === NONE ? undefined : this.#oldest
  }

  /** Whether `slot` is the most recently active. */
  isNewest(slot: number): boolean {
    return slot === this.#newest
  }

  /** Puts a slot at the most recently active end. */
  append(slot: number): void {
    this.#older[slot] = this.#newest
    this.#newer[slot] = NONE
    if (this.#newest === NONE) this.#oldest = slot
    else this.#newer[this.#newest] = slot
    this.#newest = slot
  }

  /** Takes a slot out of the list. */
  detach(slot: number): void {
    const older = this.#older[slot]!
    const newer = this.#newer[slot]!
    if (older === NONE) this.#oldest = newer
    else this.#newer[older] = newer
    if (newer === NONE) this.#newest = older
    else this.#older[newer] = older
  }
}

function resized(array: Int32Array, length: number): Int32Array {
  const next = new Int32Array(length)
  next.set(array)
  return next
}
