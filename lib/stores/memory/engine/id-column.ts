import { FNV_OFFSET, fnvStep, hashString } from '../../../core/string-hash'

const ID_BYTES = 16
const ID_CHARACTERS = 22
/** 22 base64url characters whose last one carries no spare bits: the one spelling of 128 bits. */
const CANONICAL_ID = /^[A-Za-z0-9_-]{21}[AQgw]$/
const BASE64URL = Uint8Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  (character) => character.charCodeAt(0),
)

/**
 * The session ids of a slab, one per slot. An id `randomId()` made (128 bits as 22 base64url
 * characters) is kept as its 16 bytes in one buffer for all slots, and any other id as its string.
 * A million sessions then hold no id string each, and a burst of logins gives the young-generation
 * collector no id strings to copy.
 *
 * A lookup compares the id it was given with the bytes character by character, as base64url spells
 * them, and hashes them the same way: it needs no decoding call and builds no string.
 */
export class IdColumn {
  #bytes = Buffer.alloc(0)
  /** The ids that are not canonical, by slot. */
  readonly #others = new Map<number, string>()

  /** Room for `capacity` slots, the ids held so far kept. */
  resize(capacity: number): void {
    const bytes = Buffer.alloc(capacity * ID_BYTES)
    this.#bytes.copy(bytes)
    this.#bytes = bytes
  }

  /** Keeps `id` as the id of `slot`. */
  set(slot: number, id: string): void {
    if (CANONICAL_ID.test(id)) {
      this.#others.delete(slot)
      this.#bytes.write(id, slot * ID_BYTES, ID_BYTES, 'base64url')
    } else this.#others.set(slot, id)
  }

  /** Forgets the id of `slot`. */
  clear(slot: number): void {
    this.#others.delete(slot)
  }

  /** The id of `slot` as text. */
  text(slot: number): string {
    return this.#other(slot) ?? this.#bytes.toString('base64url', slot * ID_BYTES, (slot + 1) * ID_BYTES)
  }

  /** `hashString` of the id of `slot`, without building its text. */
  hashOf(slot: number): number {
    const other = this.#other(slot)
    if (other !== undefined) return hashString(other)
    let hash = FNV_OFFSET
    for (let index = 0; index < ID_CHARACTERS; index++)
      hash = fnvStep(hash, characterAt(this.#bytes, slot * ID_BYTES, index))
    return hash >>> 0
  }

  /** Whether `slot` holds `id`. */
  holds(slot: number, id: string): boolean {
    const other = this.#other(slot)
    if (other !== undefined) return other === id
    if (id.length !== ID_CHARACTERS) return false
    for (let index = 0; index < ID_CHARACTERS; index++)
      if (id.charCodeAt(index) !== characterAt(this.#bytes, slot * ID_BYTES, index)) return false
    return true
  }

  #other(slot: number): string | undefined {
    return this.#others.size === 0 ? undefined : this.#others.get(slot)
  }
}

/** The character code of the `index`th base64url character that spells the 16 bytes from `at`. */
function characterAt(bytes: Uint8Array, at: number, index: number): number {
  const bit = index * 6
  const byte = at + (bit >>> 3)
  const pair = (bytes[byte]! << 8) | (bit < 120 ? bytes[byte + 1]! : 0)
  return BASE64URL[(pair >>> (10 - (bit & 7))) & 63]!
}
