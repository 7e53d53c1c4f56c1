import type { JsonValue } from '../../../../lib/core/values'
import { ParsedCache } from '../../../../lib/stores/memory/engine/parsed-cache'

const valuesOf = (values: Record<string, JsonValue>) => new Map(Object.entries(values))

describe('ParsedCache', () => {
  it('keeps values of primitives for their slot, and gives up an entry to a slot that maps to it', () => {
    const cache = new ParsedCache(4, 1000)
    const values = valuesOf({ user: 'u1', n: 0, ok: true, none: null })
    cache.keep(1, values, 40)
    expect(cache.get(1)).toBe(values)
    expect(cache.get(5)).toBeUndefined()
    cache.keep(5, valuesOf({ n: 5 }), 7)
    expect([cache.get(1), cache.get(5)?.get('n')]).toEqual([undefined, 5])
  })

  it('keeps no nested value and no number JSON would change', () => {
    const cache = new ParsedCache(4, 1000)
    cache.keep(1, valuesOf({ cart: [1, 2] }), 14)
    cache.keep(2, new Map([['n', Number.NaN]]), 8)
    expect([cache.get(1), cache.get(2)]).toEqual([undefined, undefined])
  })

  it('holds at most its budget of JSON characters, whatever the number of entries', () => {
    const cache = new ParsedCache(8, 100)
    cache.keep(0, valuesOf({ a: 'x' }), 60)
    cache.keep(1, valuesOf({ b: 'y' }), 60)
    expect([cache.get(0) !== undefined, cache.get(1)]).toEqual([true, undefined])
    cache.forget(0)
    cache.keep(1, valuesOf({ b: 'y' }), 60)
    expect(cache.get(1)?.get('b')).toBe('y')
  })
})
