import { HotValues } from '../lib/hot-values'

/** A HotValues whose write-backs land in `stored`, slot by slot, as the slab's would. */
function withStore(size = 4) {
  const stored = new Map<number, string>()
  const hot = new HotValues((slot, json) => stored.set(slot, json), size)
  return { hot, stored }
}

describe('HotValues', () => {
  it('reuses the parse of primitive-only values, and parses nested values every time', () => {
    const { hot } = withStore()
    const flat = '{"user":"u1","n":0,"ok":true,"none":null}'
    expect(hot.read(3, flat)).toBe(hot.read(3, flat))
    const nested = '{"cart":{"items":[1,2]}}'
    const first = hot.read(2, nested)
    expect(hot.read(2, nested)).not.toBe(first)
    expect(hot.read(2, nested)).toEqual(first)
  })

  it('keeps a written primitive-only value as the newest, without JSON, until evicted', () => {
    const { hot, stored } = withStore()
    const values = { user: 'u1', n: 1 }
    expect(hot.write(1, values)).toBeUndefined()
    expect(hot.read(1, '{"user":"u1","n":0}')).toBe(values)
    expect(stored.size).toBe(0)
    // slot 5 takes slot 1's entry (4 entries): slot 1's newest values are written back first
    expect(hot.read(5, '{"n":5}')).toEqual({ n: 5 })
    expect(stored.get(1)).toBe('{"user":"u1","n":1}')
    expect(hot.read(1, stored.get(1)!)).toEqual(values)
  })

  it('answers the JSON of nested values at once and keeps no entry for them', () => {
    const { hot, stored } = withStore()
    hot.write(1, { n: 1 })
    expect(hot.write(1, { cart: [1, 2] })).toBe('{"cart":[1,2]}')
    expect(hot.read(1, '{"cart":[1,2]}')).toEqual({ cart: [1, 2] })
    hot.read(5, '{}')
    expect(stored.size).toBe(0)
  })

  it('never writes back what it forgot, and reads the stored JSON after', () => {
    const { hot, stored } = withStore()
    hot.write(1, { n: 9 })
    hot.forget(1)
    hot.forget(6)
    expect(hot.read(1, '{"n":0}')).toEqual({ n: 0 })
    hot.read(5, '{}')
    expect(stored.size).toBe(0)
  })

  it('writes back a clean entry never', () => {
    const { hot, stored } = withStore()
    hot.read(1, '{"n":1}')
    hot.read(5, '{"n":5}')
    expect(stored.size).toBe(0)
  })

  it('keeps a __proto__ key as a value, in and out of JSON', () => {
    const { hot, stored } = withStore()
    const values = JSON.parse('{"__proto__":1,"n":2}') as Record<string, number>
    hot.write(1, values)
    const read = hot.read(1, '{}')
    expect(Object.keys(read)).toEqual(['__proto__', 'n'])
    expect(Object.getPrototypeOf(read)).toBe(Object.prototype)
    hot.read(5, '{}')
    expect(stored.get(1)).toBe('{"__proto__":1,"n":2}')
  })

  it('serialises at once values JSON would change or refuse, never later in the read of another slot', () => {
    const { hot, stored } = withStore()
    expect(hot.write(1, { n: Number.NaN, gone: undefined } as never)).toBe('{"n":null}')
    expect(() => hot.write(2, { big: 1n } as never)).toThrow(TypeError)
    hot.read(5, '{}')
    hot.read(6, '{}')
    expect(stored.size).toBe(0)
  })
})
