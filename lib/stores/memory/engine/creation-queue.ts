/**
 * The memory store's sessions that have a lifetime, oldest creation first, for the sweep of
 * absolute deadlines: each entry is a slot and the creation time of the session it was queued for,
 * which tells that session apart from a later one in the same slot. Typed arrays, so a million
 * entries hold no heap object each (the session's id would be a string of 40 bytes).
 */
export class CreationQueue {
  #slots = new Int32Array(64)
  #createdAt = new Float64Array(64)
  /** Index of the oldest entry and of the next free place; the entries between are in use. */
  #head = 0
  #tail = 0

  get size(): number {
    return this.#tail - this.#head
  }

  push(slot: number, createdAt: number): void {
    if (this.#tail === this.#slots.length) this.#makeRoom()
    this.#slots[this.#tail] = slot
    this.#createdAt[this.#tail] = createdAt
    this.#tail++
  }

  /** The slot of the oldest entry; only when `size > 0`. */
  oldestSlot(): number {
    return this.#slots[this.#head]!
  }

  /** The creation time the oldest entry was queued with; only when `size > 0`. */
  oldestCreatedAt(): number {
    return this.#createdAt[this.#head]!
  }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.#head < this.#tail) this.#head++
  }

  /** Moves the entries to the front, or into arrays twice as long when they fill more than half. */
  #makeRoom(): void {
    const size = this.size
    const grow = size * 2 > this.#slots.length
    const slots = grow ? new Int32Array(this.#slots.length * 2) : this.#slots
    const createdAt = grow ? new Float64Array(this.#slots.length * 2) : this.#createdAt
    slots.set(this.#slots.subarray(this.#head, this.#tail))
    createdAt.set(this.#createdAt.subarray(this.#head, this.#tail))
    this.#slots = slots
    this.#createdAt = createdAt
    this.#head = 0
    this.#tail = size
  }
}
