import { randomFillSync } from 'node:crypto'

/** Bytes taken from the system's CSPRNG at a time: one fill serves 256 ids or token secrets. */
const POOL_BYTES = 4096
const pool = Buffer.allocUnsafeSlow(POOL_BYTES)
let used = POOL_BYTES

/**
 * `bytes` (at most 256) random bytes from the system's CSPRNG, as base64url: session ids and
 * token secrets. They come from a pool filled 4 KB at a time, as Node's own `randomUUID` does,
 * because each `randomBytes` call creates a native job object that the collector must finalise,
 * which at a high login rate lengthens its pauses. Every byte is handed out once.
 */
export function randomText(bytes: number): string {
  if (!(Number.isInteger(bytes) && bytes > 0 && bytes <= 256))
    throw new RangeError(`randomText takes 1 to 256 bytes, got ${bytes}`)
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool)
    used = 0
  }
  const text = pool.toString('base64url', used, used + bytes)
  used += bytes
  return text
}
