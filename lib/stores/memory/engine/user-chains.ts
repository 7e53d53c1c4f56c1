import { hashString } from '../../../core/string-hash'
import { TextArena } from './text-arena'
import { UidIndex } from './uid-index'

const NONE = -1

/** What `census` finds of one uid's live sessions. */
export interface UserCensus {
  count: number
  /** The slot of the first in the order asked for (the least recently active), -1 for none. */
  leastRecent: number
}

/**
 * The uid of each slot in use (latin1 bytes in an arena, so no heap object each) and the chains
 * from a uid to the slots of its live sessions, with the number of distinct uids that hold one:
 * what the per-user operations, the per-user limit and the capacity's fair share read. A chain
 * holds the slots of the uids whose hash shares its bucket, so walking it costs about what that uid
 * holds itself. The same links chain the free slots.
 */
export class UserChains {
  readonly #uids = new TextArena()
  readonly #index = new UidIndex()
  #users = 0

  /** Distinct uids with a live session. */
  get users(): number {
    return this.#users
  }

  /** Room for `capacity` slots, every chain emptied (the free chain kept): `relink` the live slots again. */
  resize(capacity: number): void {
    this.#uids.resize(capacity)
    this.#index.resize(capacity)
  }

  /** Gives `slot` the uid `uid`, in its uid's chain when `live` (a marker of an ended session stays out). */
  set(slot: number, uid: string, live: boolean): void {
    this.#uids.set(slot, uid)
    if (!live) return this.#index.detach(slot)
    const hash = this.#uids.hashOf(slot)
    if (!this.#hasOther(slot, hash)) this.#users++
    this.#index.link(slot, hash)
  }

  /** Links a live slot into its chain again after `resize`. */
  relink(slot: number): void {
    this.#index.link(slot, this.#uids.hashOf(slot))
  }

  /** Takes a live slot out of its uid's chain: its session ended, or became a marker. */
  unlink(slot: number): void {
    const hash = this.#uids.hashOf(slot)
    this.#index.unlink(slot, hash)
    if (!this.#hasOther(slot, hash)) this.#users--
  }

  /** Forgets the uid of a slot that is out of every chain. */
  clear(slot: number): void {
    this.#uids.clear(slot)
  }

  /** Whether `slot` is in use (has a uid). */
  has(slot: number): boolean {
    return this.#uids.has(slot)
  }

  /** Whether `slot` holds `uid`, compared without building its text. */
  holds(slot: number, uid: string): boolean {
    return this.#uids.holds(slot, uid)
  }

  /** The uid of `slot`, built afresh. */
  text(slot: number): string | undefined {
    return this.#uids.text(slot)
  }

  /** The slots of `uid`'s live sessions, newest first. */
  *slotsOf(uid: string): Generator<number> {
    const index = this.#index
    for (let slot = index.first(hashString(uid)); slot !== NONE; slot = index.next(slot))
      if (this.#uids.holds(slot, uid)) yield slot
  }

  /** How many live sessions `uid` has, and the first of them in the order `before` gives. */
  census(uid: string, before: (a: number, b: number) => boolean): UserCensus {
    let count = 0
    let leastRecent = NONE
    for (const slot of this.slotsOf(uid)) {
      count++
      if (leastRecent === NONE || before(slot, leastRecent)) leastRecent = slot
    }
    return { count, leastRecent }
  }

  /** Chains a freed slot (in no uid chain) for reuse. */
  pushFree(slot: number): void {
    this.#index.pushFree(slot)
  }

  /** A freed slot to reuse, or -1 for none. */
  popFree(): number {
    return this.#index.popFree()
  }

  /** Whether another slot of `slot`'s chain holds the same uid. */
  #hasOther(slot: number, hash: number): boolean {
    const index = this.#index
    for (let other = index.first(hash); other !== NONE; other = index.next(other))
      if (other !== slot && this.#uids.equal(other, slot)) return true
    return false
  }
}
