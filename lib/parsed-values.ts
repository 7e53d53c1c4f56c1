import type { JsonValue } from './values'

interface Entry {
  json: string
  values: Readonly<Record<string, JsonValue>>
}

/**
 * The memory store's recently parsed session values, direct-mapped by slot, so that reading a
 * hot session skips `JSON.parse` (about 3% of a memory read under load, by the paired bench).
 * Only values that are all primitives are kept, because readers copy them one level deep; an
 * entry counts only while its JSON is the session's current JSON, so it is never stale, and the
 * cache holds at most `size` entries whatever the number of sessions.
 */
export class ParsedValues {
  readonly #entries: (Entry | undefined)[]
  readonly #mask: number

  /** `size` is rounded up to a power of two. */
  constructor(size = 1024) {
    const slots = 2 ** Math.ceil(Math.log2(Math.max(size, 1)))
    this.#entries = new Array<Entry | undefined>(slots).fill(undefined)
    this.#mask = slots - 1
  }

  /** The values `json` holds: shared, never to be changed; copy them to change them. */
  parse(slot: number, json: string): Readonly<Record<string, JsonValue>> {
    const entry = this.#entries[slot & this.#mask]
    if (entry !== undefined && entry.json === json) return entry.values
    const values = JSON.parse(json) as Record<string, JsonValue>
    this.remember(slot, json, values)
    return values
  }

  /** Keeps `values`, the parse of `json`, for `slot` when all are primitives; the caller gives them up. */
  remember(slot: number, json: string, values: Readonly<Record<string, JsonValue>>): void {
    for (const key in values) {
      const value = values[key]
      if (typeof value === 'object' && value !== null) return
    }
    this.#entries[slot & this.#mask] = { json, values }
  }
}
