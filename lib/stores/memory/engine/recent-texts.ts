import { directMappedSize } from './parsed-cache'

const NONE = -1

/**
 * The token hashes and uids of recently used slots, kept as strings (direct-mapped by slot), so a
 * hot session's read decodes neither from the slab's bytes. Holds at most `size` entries.
 */
export class RecentTexts {
  readonly #slots: Int32Array
  readonly #hashes: (string | undefined)[]
  readonly #uids: (string | undefined)[]
  readonly #mask: number

  /** `size` is rounded up to a power of two. */
  constructor(size: number) {
    const entries = directMappedSize(size)
    this.#slots = new Int32Array(entries).fill(NONE)
    this.#hashes = new Array<string | undefined>(entries).fill(undefined)
    this.#uids = new Array<string | undefined>(entries).fill(undefined)
    this.#mask = entries - 1
  }

  /** The kept token hash of `slot`, if any; the slot then holds the entry, for `keepHash`. */
  hash(slot: number): string | undefined {
    return this.#hashes[this.#entry(slot)]
  }

  /** Keeps the token hash of `slot`, right after `hash(slot)` found none. */
  keepHash(slot: number, hash: string): void {
    this.#hashes[slot & this.#mask] = hash
  }

  /** The kept uid of `slot`, if any; the slot then holds the entry, for `keepUid`. */
  uid(slot: number): string | undefined {
    return this.#uids[this.#entry(slot)]
  }

  /** Keeps the uid of `slot`, right after `uid(slot)` found none. */
  keepUid(slot: number, uid: string): void {
    this.#uids[slot & this.#mask] = uid
  }

  /** Drops the kept token hash of `slot`: it was replaced. */
  forgetHash(slot: number): void {
    const index = slot & this.#mask
    if (this.#slots[index] === slot) this.#hashes[index] = undefined
  }

  /** Drops everything kept for `slot`: its session is gone. */
  forget(slot: number): void {
    const index = slot & this.#mask
    if (this.#slots[index] !== slot) return
    this.#slots[index] = NONE
    this.#hashes[index] = this.#uids[index] = undefined
  }

  /** The entry of `slot`, taken over (and emptied) when another slot held it. */
  #entry(slot: number): number {
    const index = slot & this.#mask
    if (this.#slots[index] !== slot) {
      this.#slots[index] = slot
      this.#hashes[index] = this.#uids[index] = undefined
    }
    return index
  }
}
