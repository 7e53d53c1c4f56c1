const HASH_BYTES = 32
const CANONICAL_HASH = /^[A-Za-z0-9_-]{43}$/

/**
 * The token hashes of a slab, one per slot: a canonical SHA-256 hash (43 base64url characters) is
 * kept as its 32 bytes in one buffer for all slots, so a million sessions hold no hash string each.
 * Any other text is refused, for the slab to keep as a string.
 */
export class HashColumn {
  #bytes = Buffer.alloc(0)

  /** Room for `capacity` slots, the hashes held so far kept. */
  resize(capacity: number): void {
    const bytes = Buffer.alloc(capacity * HASH_BYTES)
    this.#bytes.copy(bytes)
    this.#bytes = bytes
  }

  /** Keeps a canonical hash as the hash of `slot`; answers `false`, keeping nothing, for any other text. */
  write(slot: number, hash: string): boolean {
    if (!CANONICAL_HASH.test(hash)) return false
    const bytes = Buffer.from(hash, 'base64url')
    if (bytes.length !== HASH_BYTES || bytes.toString('base64url') !== hash) return false
    this.#bytes.set(bytes, slot * HASH_BYTES)
    return true
  }

  /** The hash of `slot` as text, built afresh. */
  read(slot: number): string {
    const start = slot * HASH_BYTES
    return this.#bytes.toString('base64url', start, start + HASH_BYTES)
  }
}
