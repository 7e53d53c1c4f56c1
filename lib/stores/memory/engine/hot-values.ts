import type { JsonValue } from '../../../core/values'

type Values = ReadonlyMap<string, JsonValue>

const NONE = -1

/**
 * The memory store's recently used session values, parsed into Maps and direct-mapped by slot.
 * Reading a hot session skips `JSON.parse` and allocates nothing: every reader shares the entry's
 * Map, and copies it before a change. Writing one skips `JSON.stringify` too, because the entry
 * then holds values newer than the slot's JSON and gives them to `writeBack` as JSON only when
 * another slot takes its place (`JSON.stringify` is most of what a write costs the store
 * otherwise). Only values that are all JSON primitives are kept, so no reader can reach a nested
 * value that another reader changes. It holds at most `size` entries, whatever the number of sessions.
 */
export class HotValues {
  readonly #slots: Int32Array
  readonly #values: (Values | undefined)[]
  /** 1 where the entry is newer than its slot's JSON. */
  readonly #newer: Uint8Array
  readonly #mask: number
  readonly #jsonOf: (slot: number) => string
  readonly #writeBack: (slot: number, json: string) => void

  /**
   * `jsonOf` gives a slot's stored JSON, asked for only on a miss; `writeBack` receives the JSON
   * of evicted newer values; `size` is rounded up to a power of two.
   */
  constructor(
    jsonOf: (slot: number) => string,
    writeBack: (slot: number, json: string) => void,
    size = 1024,
  ) {
    const entries = directMappedSize(size)
    this.#slots = new Int32Array(entries).fill(NONE)
    this.#values = new Array<Values | undefined>(entries).fill(undefined)
    this.#newer = new Uint8Array(entries)
    this.#mask = entries - 1
    this.#jsonOf = jsonOf
    this.#writeBack = writeBack
  }

  /** The values of `slot`, from its stored JSON unless a write here is newer: shared, never to be changed. */
  read(slot: number): Values {
    const index = slot & this.#mask
    if (this.#slots[index] === slot) return this.#values[index]!
    const values = parseValues(this.#jsonOf(slot))
    if (allPrimitive(values)) this.#keep(index, slot, values, false)
    return values
  }

  /**
   * Takes new values for `slot` (which the caller gives up): answers the JSON to store now, or
   * `undefined` when the entry keeps them and the JSON waits until the entry is evicted.
   */
  write(slot: number, values: Values): string | undefined {
    if (allPrimitive(values)) {
      this.#keep(slot & this.#mask, slot, values, true)
      return undefined
    }
    this.forget(slot)
    return valuesJson(values)
  }

  /** Drops the entry of `slot`, newer values included: the session ended or its values were replaced. */
  forget(slot: number): void {
    const index = slot & this.#mask
    if (this.#slots[index] !== slot) return
    this.#slots[index] = NONE
    this.#values[index] = undefined
    this.#newer[index] = 0
  }

  #keep(index: number, slot: number, values: Values, newer: boolean): void {
    const previous = this.#slots[index]!
    if (previous !== slot && previous !== NONE && this.#newer[index] === 1)
      this.#writeBack(previous, valuesJson(this.#values[index]!))
    this.#slots[index] = slot
    this.#values[index] = values
    this.#newer[index] = newer ? 1 : 0
  }
}

/**
 * Whether every value is a JSON primitive, so readers may share them and their JSON can wait: a
 * value JSON would change or refuse (NaN, undefined, a bigint, from a caller of `update` that
 * bypassed `Session`'s checks) is serialised at once, as before, never later in another's read.
 */
function allPrimitive(values: Values): boolean {
  for (const value of values.values() as Iterable<unknown>) {
    if (
      typeof value === 'number'
        ? !Number.isFinite(value)
        : !(typeof value === 'string' || typeof value === 'boolean' || value === null)
    )
      return false
  }
  return true
}

/** Values as a store's JSON keeps them: one object, whose keys (`__proto__` included) are its own. */
export function valuesJson(values: Values): string {
  return JSON.stringify(Object.fromEntries(values))
}

/** The values of a store's JSON. */
function parseValues(json: string): Map<string, JsonValue> {
  const parsed = JSON.parse(json) as Record<string, JsonValue>
  const values = new Map<string, JsonValue>()
  for (const key in parsed) if (Object.hasOwn(parsed, key)) values.set(key, parsed[key]!)
  return values
}

/** The number of entries of a direct-mapped table of at least `size`: a power of two, so a slot maps by mask. */
export function directMappedSize(size: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(size, 1)))
}
