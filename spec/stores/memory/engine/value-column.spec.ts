import fc from 'fast-check'
import type { JsonValue } from '../../../../lib/core/values'
import { encodeValues, ValueColumn, WHOLE_LIMIT } from '../../../../lib/stores/memory/engine/value-column'

type Values = Record<string, JsonValue>

/** A column of `slots` slots that keeps `cacheSize` of them parsed. */
function columnOf(slots: number, cacheSize: number): ValueColumn {
  const column = new ValueColumn(cacheSize)
  column.resize(slots)
  return column
}

const keyArb = fc.constantFrom('a', 'b', 'c', '__proto__', '', '1', 'ü')
// short and long strings, so that sessions cross WHOLE_LIMIT both ways
const valueArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.integer(),
  fc.constantFrom('x', 'y'.repeat(WHOLE_LIMIT), null, true),
  fc.record({ nested: fc.array(fc.integer(), { maxLength: 3 }) }),
)
const valuesArb = fc.dictionary(keyArb, valueArb, { maxKeys: 5 })

type Op =
  | { op: 'set'; slot: number; values: Values }
  | { op: 'update'; slot: number; set: Values; unset: string[] }
  | { op: 'read'; slot: number }
  | { op: 'clear'; slot: number }

const slotArb = fc.integer({ min: 0, max: 5 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), slot: slotArb, values: valuesArb }),
  fc.record({
    op: fc.constant('update' as const),
    slot: slotArb,
    set: valuesArb,
    unset: fc.array(keyArb, { maxLength: 3 }),
  }),
  fc.record({ op: fc.constant('read' as const), slot: slotArb }),
  fc.record({ op: fc.constant('clear' as const), slot: slotArb }),
)

const entriesOf = (values: Values) => new Map(Object.entries(values))

describe('ValueColumn', () => {
  it('answers each slot its own newest values, whether kept whole, key by key or parsed, and never changes one it answered', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        // two cache entries for six slots: entries are taken and dropped all the time
        const column = columnOf(8, 2)
        const model = new Map<number, Map<string, JsonValue>>()
        const answered: [ReadonlyMap<string, JsonValue>, Values][] = []
        for (const step of ops) {
          if (step.op === 'set') {
            column.set(step.slot, encodeValues(entriesOf(step.values)))
            model.set(step.slot, entriesOf(structuredClone(step.values)))
          } else if (step.op === 'update' && model.has(step.slot)) {
            column.update(step.slot, entriesOf(step.set), step.unset)
            const values = model.get(step.slot)!
            for (const key of step.unset) values.delete(key)
            for (const [key, value] of Object.entries(structuredClone(step.set))) values.set(key, value)
          } else if (step.op === 'read' && model.has(step.slot)) {
            const values = column.read(step.slot)
            expect(Object.fromEntries(values)).toEqual(Object.fromEntries(model.get(step.slot)!))
            answered.push([values, structuredClone(Object.fromEntries(values))])
          } else if (step.op === 'clear') {
            column.clear(step.slot)
            model.delete(step.slot)
          }
        }
        for (const [slot, values] of model)
          expect(Object.fromEntries(column.read(slot))).toEqual(Object.fromEntries(values))
        for (const [values, then] of answered) expect(Object.fromEntries(values)).toEqual(then)
      }),
      { numRuns: 500 },
    )
  })

  it('shares one parsed Map among the reads of a hot session of primitives, and parses nested values afresh', () => {
    const column = columnOf(4, 4)
    column.set(0, encodeValues(entriesOf({ user: 'u1', n: 1 })))
    column.set(1, encodeValues(entriesOf({ cart: [1, 2] })))
    expect(column.read(0)).toBe(column.read(0))
    expect(column.read(1)).not.toBe(column.read(1))
    expect(column.read(1)).toEqual(column.read(1))
  })

  it('never changes the Map a read answered: an update answers a new one', () => {
    const column = columnOf(4, 4)
    column.set(0, encodeValues(entriesOf({ n: 0, user: 'u' })))
    const before = column.read(0)
    column.update(0, entriesOf({ n: 1 }), ['user'])
    expect(Object.fromEntries(before)).toEqual({ n: 0, user: 'u' })
    expect(Object.fromEntries(column.read(0))).toEqual({ n: 1 })
  })

  it('refuses, changing nothing, a value JSON cannot hold', () => {
    const column = columnOf(4, 4)
    const large = entriesOf(
      Object.fromEntries(Array.from({ length: 100 }, (_, index) => [`k${index}`, index])),
    )
    column.set(0, encodeValues(large))
    column.set(1, encodeValues(entriesOf({ n: 1 })))
    const bigint = new Map([['big', 1n as unknown as JsonValue]])
    for (const slot of [0, 1]) {
      const before = Object.fromEntries(column.read(slot))
      expect(() => column.update(slot, new Map([['n', 2], ...bigint]), ['k0'])).toThrow(TypeError)
      expect(Object.fromEntries(column.read(slot))).toEqual(before)
    }
    expect(() => encodeValues(bigint)).toThrow(TypeError)
  })

  it('keeps a __proto__ key as a value, whole and key by key', () => {
    const column = columnOf(4, 0)
    const long = 'z'.repeat(WHOLE_LIMIT)
    column.set(0, encodeValues(new Map<string, JsonValue>([['__proto__', 1]])))
    column.set(1, encodeValues(new Map<string, JsonValue>([['__proto__', long]])))
    expect([...column.read(0)]).toEqual([['__proto__', 1]])
    expect([...column.read(1)]).toEqual([['__proto__', long]])
    expect(({} as { length?: number }).length).toBeUndefined()
  })
})
