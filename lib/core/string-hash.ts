/** Where an FNV-1a hash starts. */
export const FNV_OFFSET = 0x811c9dc5

/** One FNV-1a step: folds one UTF-16 unit (or any number below 2^16) into `hash`. */
export function fnvStep(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, 0x01000193)
}

/**
 * FNV-1a over the string's UTF-16 units from `start` on: a fast, well-spread 32-bit hash for the
 * in-memory indexes. V8 hashes a string itself only when it is a Map key, and a string made for
 * one request (an id or token cut from a header) would be hashed whole on every lookup.
 */
export function hashString(text: string, start = 0): number {
  let hash = FNV_OFFSET
  for (let index = start; index < text.length; index++) hash = fnvStep(hash, text.charCodeAt(index))
  return hash >>> 0
}
