import { SessionError } from '../core/errors'
import type { JsonValue } from '../core/values'

type Entry = readonly [string, JsonValue]

/** Bytes one value takes in the session's stored JSON: its key and value, quoted and separated. */
function entryBytes(key: string, value: JsonValue): number {
  return Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(value)) + 4
}

/** Bytes of `values` as one stored JSON object. */
export function storedBytes(values: ReadonlyMap<string, JsonValue>): number {
  let bytes = 2
  for (const [key, value] of values) bytes += entryBytes(key, value)
  return bytes
}

/** Throws SESSION_TOO_LARGE (215) when `bytes` pass `limit` (0: no limit). */
export function checkSize(bytes: number, limit: number): void {
  if (limit > 0 && bytes > limit)
    throw new SessionError(
      'SESSION_TOO_LARGE',
      `the session's values would take ${bytes} bytes of JSON, over the limit of ${limit} (option maxSessionBytes)`,
    )
}

/**
 * A request's own copy of its session's values, made at its first change (the store's may be
 * shared with other reads), kept within the size limit: a change that would pass it throws
 * SESSION_TOO_LARGE and changes nothing. The size is counted once, then by what each change adds.
 */
export class OwnValues {
  readonly map: Map<string, JsonValue>
  readonly #limit: number
  #bytes: number | undefined

  constructor(values: ReadonlyMap<string, JsonValue>, limit: number) {
    this.map = new Map(values)
    this.#limit = limit
  }

  /** Sets every entry, or none when together they would pass the limit. */
  set(entries: readonly Entry[]): void {
    if (this.#limit > 0) {
      let bytes = this.#bytes ?? storedBytes(this.map)
      for (const [key, value] of entries) {
        const old = this.map.get(key)
        bytes += entryBytes(key, value) - (old === undefined ? 0 : entryBytes(key, old))
      }
      checkSize(bytes, this.#limit)
      this.#bytes = bytes
    }
    for (const [key, value] of entries) this.map.set(key, value)
  }

  delete(key: string): void {
    const old = this.map.get(key)
    if (old !== undefined && this.#bytes !== undefined) this.#bytes -= entryBytes(key, old)
    this.map.delete(key)
  }
}
