import { FNV_OFFSET, fnvStep, hashString } from '../../../core/string-hash'

const NONE = -1
/** Marks a slot whose text is kept as a string, in `#others`. */
const OTHER = -2
/** Blocks come in multiples of this many bytes; a freed block is reused by a text of its size class. */
const GRANULE = 8
/** Longest text kept as bytes; a longer one is kept as its string. */
export const MAX_ARENA_TEXT = 1024
const LATIN1 = /^[\0-\xff]*$/

/**
 * One text per slot, kept as latin1 bytes in a single growing buffer instead of a string each: the
 * memory store's uids and values JSON. A million sessions then hold no heap object for either, so
 * a burst of logins gives the young-generation collector nothing of theirs to copy and promote,
 * and a major collection has a million fewer objects to mark. Texts are stored in blocks of whole granules; a freed block goes on the free
 * list of its size and is reused by the next text of that size, so the buffer grows only with the
 * most texts of each size held at once, and never shrinks. A text with a character above U+00FF,
 * or longer than `MAX_ARENA_TEXT`, is kept as its string.
 */
export class TextArena {
  #bytes = Buffer.alloc(0)
  /** Where each slot's block starts, NONE for no text, OTHER for a text kept as a string. */
  #starts = new Int32Array(0)
  #lengths = new Int32Array(0)
  /** The first free block of each size class (in granules), chained through their first 4 bytes. */
  readonly #free = new Int32Array(MAX_ARENA_TEXT / GRANULE + 1).fill(NONE)
  /** Where the unused end of the buffer starts. */
  #top = 0
  readonly #others = new Map<number, string>()

  /** Room for `capacity` slots, the texts held so far kept. */
  resize(capacity: number): void {
    const starts = new Int32Array(capacity).fill(NONE)
    starts.set(this.#starts.subarray(0, Math.min(capacity, this.#starts.length)))
    const lengths = new Int32Array(capacity)
    lengths.set(this.#lengths.subarray(0, Math.min(capacity, this.#lengths.length)))
    this.#starts = starts
    this.#lengths = lengths
  }

  /** Keeps `text` as the text of `slot`, in the block it has when the size class is the same. */
  set(slot: number, text: string): void {
    const length = text.length
    if (length > MAX_ARENA_TEXT || !LATIN1.test(text)) {
      this.clear(slot)
      this.#starts[slot] = OTHER
      this.#others.set(slot, text)
      return
    }
    let start = this.#starts[slot]!
    if (start < 0 || classOf(this.#lengths[slot]!) !== classOf(length)) {
      this.clear(slot)
      start = this.#allocate(classOf(length))
      this.#starts[slot] = start
    }
    this.#lengths[slot] = length
    this.#bytes.write(text, start, length, 'latin1')
  }

  /** Forgets the text of `slot`; its block is free for the next text of its size. */
  clear(slot: number): void {
    const start = this.#starts[slot]!
    if (start === NONE) return
    this.#starts[slot] = NONE
    if (start === OTHER) {
      this.#others.delete(slot)
      return
    }
    const sizeClass = classOf(this.#lengths[slot]!)
    this.#bytes.writeInt32LE(this.#free[sizeClass]!, start)
    this.#free[sizeClass] = start
  }

  /** Whether `slot` holds a text. */
  has(slot: number): boolean {
    return this.#starts[slot] !== NONE
  }

  /** The text of `slot`, built afresh from its bytes; `undefined` for none. */
  text(slot: number): string | undefined {
    const start = this.#starts[slot]!
    if (start === NONE) return undefined
    if (start === OTHER) return this.#others.get(slot)
    return this.#bytes.toString('latin1', start, start + this.#lengths[slot]!)
  }

  /** `hashString` of the text of `slot` (0 for none), without building the text. */
  hashOf(slot: number): number {
    const start = this.#starts[slot]!
    if (start === NONE) return 0
    if (start === OTHER) return hashString(this.#others.get(slot)!)
    const bytes = this.#bytes
    let hash = FNV_OFFSET
    for (let at = start, end = start + this.#lengths[slot]!; at < end; at++) hash = fnvStep(hash, bytes[at]!)
    return hash >>> 0
  }

  /** Whether `slot` holds `text`. */
  holds(slot: number, text: string): boolean {
    const start = this.#starts[slot]!
    if (start === NONE) return false
    if (start === OTHER) return this.#others.get(slot) === text
    if (text.length !== this.#lengths[slot]) return false
    const bytes = this.#bytes
    for (let index = 0; index < text.length; index++)
      if (text.charCodeAt(index) !== bytes[start + index]) return false
    return true
  }

  /** Whether slots `a` and `b` hold the same text, compared without building either. */
  equal(a: number, b: number): boolean {
    const start = this.#starts[a]!
    const other = this.#starts[b]!
    if (start === NONE || other === NONE) return false
    if (start === OTHER || other === OTHER) return this.text(a) === this.text(b)
    const length = this.#lengths[a]!
    if (length !== this.#lengths[b]) return false
    return this.#bytes.compare(this.#bytes, other, other + length, start, start + length) === 0
  }

  /** A block of `sizeClass` granules: a freed one, else one from the end of the buffer. */
  #allocate(sizeClass: number): number {
    const freed = this.#free[sizeClass]!
    if (freed !== NONE) {
      this.#free[sizeClass] = this.#bytes.readInt32LE(freed)
      return freed
    }
    const size = sizeClass * GRANULE
    if (this.#top + size > this.#bytes.length) {
      const bytes = Buffer.alloc(Math.max(this.#bytes.length * 2, this.#top + size, 4096))
      this.#bytes.copy(bytes, 0, 0, this.#top)
      this.#bytes = bytes
    }
    const start = this.#top
    this.#top += size
    return start
  }
}

/** Granules a text of `length` characters takes: at least one, which holds a freed block's link. */
function classOf(length: number): number {
  return Math.max(1, Math.ceil(length / GRANULE))
}
