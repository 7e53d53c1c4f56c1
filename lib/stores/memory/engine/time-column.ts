import type { ExpiryPolicy } from '../../../core/expiry'

/**
 * Each session's times (createdAt, lastActiveAt: epoch ms) and expiry policy (maxAge, lifetime:
 * seconds) in two typed arrays, two entries a slot, so that a million sessions hold no boxed
 * number each; and the deadlines they give.
 */
export class TimeColumn {
  #times = new Float64Array(0)
  #policy = new Int32Array(0)

  /** Room for `capacity` slots, what is held kept. */
  resize(capacity: number): void {
    this.#times = resized(this.#times, capacity * 2)
    this.#policy = resized(this.#policy, capacity * 2)
  }

  set(slot: number, record: ExpiryPolicy): void {
    this.#times[slot * 2] = record.createdAt
    this.#times[slot * 2 + 1] = record.lastActiveAt
    this.#policy[slot * 2] = record.maxAge
    this.#policy[slot * 2 + 1] = record.lifetime
  }

  createdAt(slot: number): number {
    return this.#times[slot * 2]!
  }

  lastActiveAt(slot: number): number {
    return this.#times[slot * 2 + 1]!
  }

  maxAge(slot: number): number {
    return this.#policy[slot * 2]!
  }

  lifetime(slot: number): number {
    return this.#policy[slot * 2 + 1]!
  }

  /** Records activity at `now`. */
  touch(slot: number, now: number): void {
    this.#times[slot * 2 + 1] = now
  }

  /** Whether `a` was active less recently than `b` (of equals, whether it is older). */
  before(a: number, b: number): boolean {
    const times = this.#times
    return (times[a * 2 + 1]! - times[b * 2 + 1]! || times[a * 2]! - times[b * 2]!) < 0
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
}

function resized<T extends Float64Array | Int32Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length)
  next.set(array)
  return next
}
