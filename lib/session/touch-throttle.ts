/**
 * When each session's expiry was last slid (by `verify()` or a `touch()` that wrote), so that
 * `touch()` writes at most once an interval. Holds only the sessions slid within the last
 * interval that have not ended: an older entry throttles nothing, so each slide drops those,
 * and an end drops its own. A socket server's memory then follows its live traffic, not every
 * session it ever saw.
 */
export class TouchThrottle {
  readonly #intervalMs: number
  /** Oldest slide first: every slide moves its session to the end. */
  readonly #slidAt = new Map<string, number>()

  constructor(intervalSeconds: number) {
    this.#intervalMs = intervalSeconds * 1000
  }

  /** Whether session `id` was slid less than an interval before `now`: a touch then need not write. */
  isRecent(id: string, now: number): boolean {
    return (this.#slidAt.get(id) ?? -Infinity) > now - this.#intervalMs
  }

  /** Notes that session `id` was slid at `now`, and drops the entries an interval old. */
  slid(id: string, now: number): void {
    this.#slidAt.delete(id)
    this.#slidAt.set(id, now)
    for (const [other, at] of this.#slidAt) {
      if (at > now - this.#intervalMs) break
      this.#slidAt.delete(other)
    }
  }

  /** Drops session `id`: it ended. */
  forget(id: string): void {
    this.#slidAt.delete(id)
  }

  /** How many sessions it holds. */
  get size(): number {
    return this.#slidAt.size
  }
}
