import type { JsonValue } from '../../../../lib/core/values'
import { HotValues } from '../../../../lib/stores/memory/engine/hot-values'

const valuesOf = (values: Record<string, JsonValue>) => new Map(Object.entries(values))

/**
 * A HotValues over `stored`, the slots' JSON as the slab keeps it; its write-backs land there too
 * and are listed in `writtenBack`. `read(slot, json)` reads a slot whose stored JSON is `json`.
 */
function withStore(size = 4) {
  const stored = new Map<number, string>()
  const writtenBack: number[] = []
  const jsonAsked: number[] = []
  const hot = new HotValues(
    (slot) => {
      jsonAsked.push(slot)
      return stored.get(slot)!
    },
    (slot, json) => {
      writtenBack.push(slot)
      stored.set(slot, json)
    },
    size,
  )
  const read = (slot: number, json: string) => {
    stored.set(slot, json)
    return hot.read(slot)
  }
  return { hot, stored, read, writtenBack, jsonAsked }
}

describe('HotValues', () => {
  it('reuses the parse of primitive-only values, and parses nested values every time', () => {
    const { read, jsonAsked } = withStore()
    const flat = '{"user":"u1","n":0,"ok":true,"none":null}'
    expect(read(3, flat)).toBe(read(3, flat))
    expect(jsonAsked).toEqual([3])
    const nested = '{"cart":{"items":[1,2]}}'
    const first = read(2, nested)
    expect(read(2, nested)).not.toBe(first)
    expect(read(2, nested)).toEqual(first)
  })

  it('keeps a written primitive-only value as the newest, without JSON, until evicted', () => {
    const { hot, stored, read, writtenBack } = withStore()
    const values = new Map<string, JsonValue>([
      ['user', 'u1'],
      ['n', 1],
    ])
    expect(hot.write(1, values)).toBeUndefined()
    expect(read(1, '{"user":"u1","n":0}')).toBe(values)
    expect(writtenBack).toEqual([])
    // slot 5 takes slot 1's entry (4 entries): slot 1's newest values are written back first
    expect(read(5, '{"n":5}')).toEqual(new Map([['n', 5]]))
    expect(stored.get(1)).toBe('{"user":"u1","n":1}')
    expect(read(1, stored.get(1)!)).toEqual(values)
  })

  it('answers the JSON of nested values at once and keeps no entry for them', () => {
    const { hot, read, writtenBack } = withStore()
    hot.write(1, valuesOf({ n: 1 }))
    expect(hot.write(1, valuesOf({ cart: [1, 2] }))).toBe('{"cart":[1,2]}')
    expect(read(1, '{"cart":[1,2]}')).toEqual(valuesOf({ cart: [1, 2] }))
    read(5, '{}')
    expect(writtenBack).toEqual([])
  })

  it('never writes back what it forgot, and reads the stored JSON after', () => {
    const { hot, read, writtenBack } = withStore()
    hot.write(1, valuesOf({ n: 9 }))
    hot.forget(1)
    hot.forget(6)
    expect(read(1, '{"n":0}')).toEqual(valuesOf({ n: 0 }))
    read(5, '{}')
    expect(writtenBack).toEqual([])
  })

  it('writes back a clean entry never', () => {
    const { read, writtenBack } = withStore()
    read(1, '{"n":1}')
    read(5, '{"n":5}')
    expect(writtenBack).toEqual([])
  })

  it('keeps a __proto__ key as a value, in and out of JSON', () => {
    const { hot, stored, read } = withStore()
    hot.write(
      1,
      new Map([
        ['__proto__', 1],
        ['n', 2],
      ]),
    )
    read(5, '{}')
    expect(stored.get(1)).toBe('{"__proto__":1,"n":2}')
    expect([...read(1, stored.get(1)!)]).toEqual([
      ['__proto__', 1],
      ['n', 2],
    ])
    expect(({} as { n?: number }).n).toBeUndefined()
  })

  it('serialises at once values JSON would change or refuse, never later in the read of another slot', () => {
    const { hot, read, writtenBack } = withStore()
    expect(hot.write(1, valuesOf({ n: Number.NaN, gone: undefined } as never))).toBe('{"n":null}')
    expect(() => hot.write(2, valuesOf({ big: 1n } as never))).toThrow(TypeError)
    read(5, '{}')
    read(6, '{}')
    expect(writtenBack).toEqual([])
  })
})
