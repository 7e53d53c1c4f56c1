import fc from 'fast-check'
import { hashSecret } from '../../../../lib/core/token'
import type { JsonValue } from '../../../../lib/core/values'
import { SessionSlab } from '../../../../lib/stores/memory/engine/session-slab'
import { encodeValues } from '../../../../lib/stores/memory/engine/value-column'
import type { SessionRecord } from '../../../../lib/stores/store'

// ids kept as bytes (22 base64url characters, no spare bits) and as text, among them pairs that
// Buffer's lenient decoder reads as the same bytes
const IDS = [
  'id-a',
  'id-b',
  'AAAAAAAAAAAAAAAAAAAAAA',
  'AAAAAAAAAAAAAAAAAAAAAB',
  'q83vEjRWeJq83vEjRWeJqw',
  'q83vEjRWeJq83vEjRWeJqx',
] as const
const HASHES = [hashSecret('one'), hashSecret('two'), hashSecret('three'), 'not-canonical']

type Values = Record<string, JsonValue>
type Op =
  | { op: 'add'; id: string; values: Values; hash: string }
  | { op: 'release'; id: string }
  | { op: 'set'; id: string; values: Values }
  | { op: 'rotate'; id: string; hash: string }
  | { op: 'replace'; id: string }
  | { op: 'read'; id: string }

const idArb = fc.constantFrom(...IDS)
const hashArb = fc.constantFrom(...HASHES)
// primitive-only values are kept parsed for hot slots as well; nested ones are parsed on every read
const valuesArb: fc.Arbitrary<Values> = fc.oneof(
  fc.record({ n: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ n: fc.integer({ min: 0, max: 9 }), user: fc.constantFrom('u1', 'u2') }),
  fc.record({ cart: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }) }),
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), id: idArb, values: valuesArb, hash: hashArb }),
  fc.record({ op: fc.constant('release' as const), id: idArb }),
  fc.record({ op: fc.constant('set' as const), id: idArb, values: valuesArb }),
  fc.record({ op: fc.constant('rotate' as const), id: idArb, hash: hashArb }),
  fc.record({ op: fc.constant('replace' as const), id: idArb }),
  fc.record({ op: fc.constant('read' as const), id: idArb }),
)

interface Modelled {
  values: Values
  tokenHash: string
  replaced: boolean
}

function recordOf(id: string, values: Values, tokenHash: string): SessionRecord {
  return {
    id,
    uid: `uid-${id}`,
    tokenHash,
    createdAt: 1,
    lastActiveAt: 1,
    maxAge: 60,
    lifetime: 0,
    values: new Map(Object.entries(values)),
  }
}

describe('SessionSlab', () => {
  it('answers every session its own newest values and token hash, with two sessions kept parsed', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 80 }), (ops) => {
        // two hot slots for six sessions: entries are taken and dropped all the time
        const slab = new SessionSlab(2)
        const model = new Map<string, Modelled>()
        const check = (id: string) => {
          const slot = slab.find(id)
          const expected = model.get(id)
          expect(slot === undefined).toBe(expected === undefined)
          if (slot === undefined || !expected) return
          expect(slab.id(slot)).toBe(id)
          const record = slab.toRecord(slot, id, slab.ended(slot))
          expect(Object.fromEntries(record.values)).toEqual(expected.values)
          expect(record.tokenHash).toBe(expected.tokenHash)
          expect(record.ended).toBe(expected.replaced ? 'replaced' : undefined)
        }
        for (const step of ops) {
          const slot = slab.find(step.id)
          const live = slot !== undefined && !model.get(step.id)!.replaced
          if (step.op === 'add' && slot === undefined) {
            const record = recordOf(step.id, step.values, step.hash)
            slab.add(record, encodeValues(record.values))
            model.set(step.id, { values: { ...step.values }, tokenHash: step.hash, replaced: false })
          } else if (step.op === 'release' && slot !== undefined) {
            slab.release(slot)
            model.delete(step.id)
          } else if (step.op === 'set' && live) {
            slab.updateValues(slot, { set: new Map(Object.entries(structuredClone(step.values))) })
            Object.assign(model.get(step.id)!.values, step.values)
          } else if (step.op === 'rotate' && live) {
            slab.rotateToken(slot, { tokenHash: step.hash, replaces: slab.tokenHash(slot) })
            model.get(step.id)!.tokenHash = step.hash
          } else if (step.op === 'replace' && live) {
            slab.markReplaced(slot)
            Object.assign(model.get(step.id)!, { values: {}, replaced: true })
          } else if (step.op === 'read') check(step.id)
        }
        for (const id of IDS) check(id)
      }),
      { numRuns: 500 },
    )
  })
})
