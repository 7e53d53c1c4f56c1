import type { JsonValue } from '../../../core/values'

type Values = ReadonlyMap<string, JsonValue>

const NONE = -1

/**
 * The parsed values of recently read sessions, direct-mapped by slot, so a hot session's read
 * parses nothing and every reader shares one Map. An entry is only ever a copy of what the slot
 * stores, never newer: taking an entry's place drops a reference and costs the slot that held it
 * nothing. It keeps values that are all JSON primitives only (no reader can reach a nested value
 * that another reader changes), at most `size` entries and at most `budget` characters of their
 * JSON in all, so a few large sessions cannot hold much memory here.
 */
export class ParsedCache {
  readonly #slots: Int32Array
  readonly #values: (Values | undefined)[]
  /** The JSON length each entry stands for, counted against the budget. */
  readonly #lengths: Int32Array
  readonly #mask: number
  readonly #budget: number
  #held = 0

  /** `size` is rounded up to a power of two; `budget` is in characters of JSON. */
  constructor(size: number, budget: number) {
    const entries = directMappedSize(size)
    this.#slots = new Int32Array(entries).fill(NONE)
    this.#values = new Array<Values | undefined>(entries).fill(undefined)
    this.#lengths = new Int32Array(entries)
    this.#mask = entries - 1
    this.#budget = budget
  }

  /** The kept values of `slot`, shared with every other reader; `undefined` when none are kept. */
  get(slot: number): Values | undefined {
    const index = slot & this.#mask
    return this.#slots[index] === slot ? this.#values[index] : undefined
  }

  /** Keeps `values` (whose JSON is `length` characters) for `slot`, when they are all primitives and fit. */
  keep(slot: number, values: Values, length: number): void {
    const index = slot & this.#mask
    this.#drop(index)
    if (!allPrimitive(values) || this.#held + length > this.#budget) return
    this.#slots[index] = slot
    this.#values[index] = values
    this.#lengths[index] = length
    this.#held += length
  }

  /** Drops the entry of `slot`: its values changed in a way a copy cannot follow, or it ended. */
  forget(slot: number): void {
    const index = slot & this.#mask
    if (this.#slots[index] === slot) this.#drop(index)
  }

  #drop(index: number): void {
    if (this.#slots[index] === NONE) return
    this.#held -= this.#lengths[index]!
    this.#slots[index] = NONE
    this.#values[index] = undefined
  }
}

/**
 * Whether every value is a JSON primitive that a JSON round trip keeps as it is: then the parse
 * of the stored JSON equals these values, and readers may share them.
 */
export function allPrimitive(values: Values): boolean {
  for (const value of values.values()) if (!isPrimitive(value)) return false
  return true
}

/** Whether `value` is a string, a finite number, a boolean or null. */
export function isPrimitive(value: unknown): boolean {
  return typeof value === 'number'
    ? Number.isFinite(value)
    : typeof value === 'string' || typeof value === 'boolean' || value === null
}

/** The number of entries of a direct-mapped table of at least `size`: a power of two, so a slot maps by mask. */
export function directMappedSize(size: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(size, 1)))
}
