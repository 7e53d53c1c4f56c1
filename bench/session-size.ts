/**
 * The session sizes of the size scenarios: the values a login stores besides `user` and `n`.
 * Every size keeps `user` and `n`, so the read and write routes are the same at every size and
 * only what the store holds grows. The filler keys are named `filler.<i>` and their values start
 * with `~filler~`: neither can occur in a base64url id or token, so finding one in the bytes a
 * write sends to Redis proves that an unchanged key went along.
 */
import type { JsonValue } from '../lib/index'

export const SESSION_SIZES = ['keys2', 'keys100', 'kB64'] as const
export type SessionSize = (typeof SESSION_SIZES)[number]

/**
 * The per-session size limit of the bounds issue, by default 64 kB of stored JSON. A session of
 * size `kB64` is filled to just under it, and kept under 64,000 bytes so that it fits whether the
 * limit counts a kB as 1,000 or 1,024 bytes. The limit is not passed as an option: the bench keeps
 * the middleware's defaults.
 */
export const SIZE_LIMIT_BYTES = 64_000

/** Room left under the limit for `n` to grow digits and for longer uids. */
const HEADROOM = 32

export const SIZE_LABELS: Record<SessionSize, string> = {
  keys2: '2 keys',
  keys100: '100 keys',
  kB64: '64 kB',
}

/** The marker the filler keys and values carry (see above). */
export const FILLER_MARK = 'filler.'

/** The values a login of `uid` stores for a session of `size`. */
export function sessionValues(size: SessionSize, uid: string): Record<string, JsonValue> {
  const values: Record<string, JsonValue> = { user: uid, n: 0 }
  if (size === 'keys100')
    for (let index = 0; index < 98; index++) values[`filler.${index}`] = `~filler~${index}`
  if (size === 'kB64') {
    // 1 kB values until the JSON reaches the limit, the last one cut to land just under it
    for (let index = 0; JSON.stringify(values).length < SIZE_LIMIT_BYTES - HEADROOM; index++)
      values[`filler.${index}`] = `~filler~${'x'.repeat(1000)}`
    const keys = Object.keys(values)
    const last = keys[keys.length - 1]!
    const over = JSON.stringify(values).length - (SIZE_LIMIT_BYTES - HEADROOM)
    if (over > 0) values[last] = (values[last] as string).slice(0, -over)
  }
  return values
}

/** Keys and bytes of JSON (`JSON.stringify` of the values as an object) a session of `size` stores. */
export function storedSize(size: SessionSize): { keys: number; jsonBytes: number } {
  const values = sessionValues(size, 'u1')
  return { keys: Object.keys(values).length, jsonBytes: Buffer.byteLength(JSON.stringify(values)) }
}
