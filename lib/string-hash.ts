/**
 * FNV-1a over the string's UTF-16 units from `start` on: a fast, well-spread 32-bit hash for the
 * in-memory indexes. V8 hashes a string itself only when it is a Map key, and a string made for
 * one request (an id or token cut from a header) would be hashed whole on every lookup.
 */
export function hashString(text: string, start = 0): number {
  let hash = 0x811c9dc5
  for (let index = start; index < text.length; index++)
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193)
  return hash >>> 0
}
