import { ParsedValues } from '../lib/parsed-values'

describe('ParsedValues', () => {
  it('answers the parse of the JSON it is given, never an entry for other JSON', () => {
    const cache = new ParsedValues(4)
    expect(cache.parse(1, '{"n":1}')).toEqual({ n: 1 })
    expect(cache.parse(1, '{"n":2}')).toEqual({ n: 2 })
    // slot 5 shares slot 1's entry (4 entries): the JSON still decides
    expect(cache.parse(5, '{"n":3}')).toEqual({ n: 3 })
    expect(cache.parse(1, '{"n":2}')).toEqual({ n: 2 })
  })

  it('reuses the parse of primitive-only values, and parses nested values every time', () => {
    const cache = new ParsedValues()
    const flat = '{"user":"u1","n":0,"ok":true,"none":null}'
    expect(cache.parse(7, flat)).toBe(cache.parse(7, flat))
    const nested = '{"cart":{"items":[1,2]}}'
    const first = cache.parse(8, nested)
    expect(cache.parse(8, nested)).not.toBe(first)
    expect(cache.parse(8, nested)).toEqual(first)
  })

  it('keeps what remember() is given, and a __proto__ key as a value', () => {
    const cache = new ParsedValues()
    const values = JSON.parse('{"__proto__":1,"n":2}') as Record<string, number>
    cache.remember(3, '{"__proto__":1,"n":2}', values)
    const parsed = cache.parse(3, '{"__proto__":1,"n":2}')
    expect(parsed).toBe(values)
    expect(Object.keys(parsed)).toEqual(['__proto__', 'n'])
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
  })
})
