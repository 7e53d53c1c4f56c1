import type { JsonValue } from '../../../core/values'
import { isPrimitive, ParsedCache } from './parsed-cache'
import { MAX_ARENA_TEXT, TextArena } from './text-arena'

type Values = ReadonlyMap<string, JsonValue>

/**
 * Longest values JSON a session keeps as one text, rewritten whole on each change (a few
 * microseconds at this size). A session past it keeps each key's JSON apart, so that a change
 * serialises only the keys it sets.
 */
export const WHOLE_LIMIT = MAX_ARENA_TEXT

/** Most characters of JSON, over all sessions, whose parse the memory store keeps. */
const CACHE_BUDGET = 8 * 1024 * 1024

/** The values of a session past `WHOLE_LIMIT`: each key's JSON, and their length as one object's JSON. */
export interface KeyedJson {
  json: Map<string, string>
  length: number
}

/**
 * The memory store's session values, one slot a session, each session paying only for its own.
 * A small session keeps its values as one JSON text, as latin1 bytes in an arena (no heap object
 * each, as in the rest of the slab); a larger one keeps each key's JSON in a Map of its own. Reads
 * of recently read sessions share one parsed Map (`ParsedCache`). No read or write of one session
 * ever serialises or parses another's: the cache holds copies of what is stored, never newer, so
 * giving up an entry costs nothing.
 */
export class ValueColumn {
  readonly #whole = new TextArena()
  readonly #keyed = new Map<number, KeyedJson>()
  readonly #cache: ParsedCache

  /** `cacheSize`: how many recently read sessions keep their values parsed. */
  constructor(cacheSize: number) {
    this.#cache = new ParsedCache(cacheSize, CACHE_BUDGET)
  }

  /** Room for `capacity` slots, the values held so far kept. */
  resize(capacity: number): void {
    this.#whole.resize(capacity)
  }

  /** Stores values `encodeValues` made as those of `slot`. */
  set(slot: number, encoded: EncodedValues): void {
    this.clear(slot)
    if (typeof encoded === 'string') this.#whole.set(slot, encoded)
    else this.#keyed.set(slot, encoded)
  }

  /** The values of `slot`: shared with other readers, never to be changed. */
  read(slot: number): Values {
    const cached = this.#cache.get(slot)
    if (cached !== undefined) return cached
    const keyed = this.#keyed.get(slot)
    if (keyed !== undefined) {
      const values = new Map<string, JsonValue>()
      for (const [key, json] of keyed.json) values.set(key, JSON.parse(json) as JsonValue)
      this.#cache.keep(slot, values, keyed.length)
      return values
    }
    const json = this.#whole.text(slot) ?? '{}'
    const values = parseWhole(json)
    this.#cache.keep(slot, values, json.length)
    return values
  }

  /**
   * Sets and unsets keys of `slot`. A small session is rewritten whole; a large one serialises
   * the keys set and nothing else. Throws, changing nothing, for a value JSON refuses.
   */
  update(slot: number, set: Values | undefined, unset: readonly string[] | undefined): void {
    const keyed = this.#keyed.get(slot)
    if (keyed === undefined) {
      const next = new Map(this.read(slot))
      for (const key of unset ?? []) next.delete(key)
      for (const [key, value] of set ?? []) next.set(key, value)
      const encoded = encodeValues(next)
      this.set(slot, encoded)
      this.#cache.keep(slot, next, typeof encoded === 'string' ? encoded.length : encoded.length)
      return
    }
    const written: [string, string | undefined][] = []
    for (const [key, value] of set ?? []) written.push([key, JSON.stringify(value)])
    const cached = this.#cache.get(slot)
    const copy = cached && allSetPrimitive(set) ? new Map(cached) : undefined
    for (const key of unset ?? []) {
      removeKey(keyed, key)
      copy?.delete(key)
    }
    for (const [key, json] of written) {
      removeKey(keyed, key)
      if (json === undefined) continue
      keyed.json.set(key, json)
      keyed.length += pairLength(key, json)
    }
    for (const [key, value] of set ?? []) copy?.set(key, value)
    if (keyed.length <= WHOLE_LIMIT / 2) {
      this.#whole.set(slot, wholeJson(keyed.json))
      this.#keyed.delete(slot)
    }
    if (copy === undefined) this.#cache.forget(slot)
    else this.#cache.keep(slot, copy, keyed.length)
  }

  /** Forgets the values of `slot`. */
  clear(slot: number): void {
    this.#whole.clear(slot)
    this.#keyed.delete(slot)
    this.#cache.forget(slot)
  }
}

/** A session's values serialised for `ValueColumn.set`: one JSON text, or each key's JSON. */
export type EncodedValues = string | KeyedJson

/**
 * Serialises values for `ValueColumn.set`, before anything is stored: throws for a value JSON
 * refuses (a bigint, from a caller that bypassed `Session`'s checks).
 */
export function encodeValues(values: Values): EncodedValues {
  if (values.size > 64) {
    const keyed = keyedJson(values)
    return keyed.length <= WHOLE_LIMIT ? wholeJson(keyed.json) : keyed
  }
  const json = JSON.stringify(Object.fromEntries(values))
  return json.length <= WHOLE_LIMIT ? json : keyedJson(values)
}

/** Whether each value set is one the parsed copy can take as it is. */
function allSetPrimitive(set: Values | undefined): boolean {
  for (const value of set?.values() ?? []) if (!isPrimitive(value)) return false
  return true
}

/** Each key's JSON, or throws for a value JSON refuses; keys whose value JSON drops are left out. */
function keyedJson(values: Values): KeyedJson {
  const keyed: KeyedJson = { json: new Map(), length: 2 }
  for (const [key, value] of values) {
    const json = JSON.stringify(value) as string | undefined
    if (json === undefined) continue
    keyed.json.set(key, json)
    keyed.length += pairLength(key, json)
  }
  return keyed
}

function removeKey(keyed: KeyedJson, key: string): void {
  const json = keyed.json.get(key)
  if (json === undefined) return
  keyed.json.delete(key)
  keyed.length -= pairLength(key, json)
}

/** Characters `"key":json,` adds to an object's JSON. */
function pairLength(key: string, json: string): number {
  return JSON.stringify(key).length + json.length + 2
}

/** One object's JSON from each key's JSON. */
function wholeJson(json: ReadonlyMap<string, string>): string {
  const pairs: string[] = []
  for (const [key, value] of json) pairs.push(`${JSON.stringify(key)}:${value}`)
  return `{${pairs.join(',')}}`
}

/** The values of one object's JSON, every key its own (`__proto__` included). */
function parseWhole(json: string): Map<string, JsonValue> {
  const parsed = JSON.parse(json) as Record<string, JsonValue>
  const values = new Map<string, JsonValue>()
  for (const key in parsed) if (Object.hasOwn(parsed, key)) values.set(key, parsed[key]!)
  return values
}
