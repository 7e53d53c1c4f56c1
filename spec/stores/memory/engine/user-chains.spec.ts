import fc from 'fast-check'
import { UserChains } from '../../../../lib/stores/memory/engine/user-chains'

/** Chains over `capacity` slots, every slot free. */
function chainsOf(capacity: number): UserChains {
  const chains = new UserChains()
  chains.resize(capacity)
  for (let slot = capacity - 1; slot >= 0; slot--) chains.pushFree(slot)
  return chains
}

describe('UserChains', () => {
  it('counts distinct uids and each uid’s sessions, whatever shares a bucket or a marker', () => {
    // eight slots, so eight buckets: uids of many spellings collide all the time
    const UIDS = ['a', 'b', 'c', 'ü', 'x'.repeat(2000), '']
    type Op = { op: 'add'; uid: string; live: boolean } | { op: 'end'; pick: number }
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), uid: fc.constantFrom(...UIDS), live: fc.boolean() }),
      fc.record({ op: fc.constant('end' as const), pick: fc.nat() }),
    )
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const chains = chainsOf(8)
        const held = new Map<number, { uid: string; live: boolean }>()
        for (const step of ops) {
          if (step.op === 'add') {
            const slot = chains.popFree()
            if (slot === -1) continue
            chains.set(slot, step.uid, step.live)
            held.set(slot, { uid: step.uid, live: step.live })
          } else if (held.size > 0) {
            const slot = [...held.keys()][step.pick % held.size]!
            if (held.get(slot)!.live) chains.unlink(slot)
            chains.clear(slot)
            chains.pushFree(slot)
            held.delete(slot)
          }
          const live = [...held].filter(([, session]) => session.live)
          expect(chains.users).toBe(new Set(live.map(([, session]) => session.uid)).size)
          for (const uid of UIDS)
            expect([...chains.slotsOf(uid)].sort()).toEqual(
              live
                .filter(([, session]) => session.uid === uid)
                .map(([slot]) => slot)
                .sort(),
            )
        }
      }),
      { numRuns: 300 },
    )
  })

  it('names the least recently active session of a uid, and how many it has', () => {
    const chains = chainsOf(16)
    const activity = [50, 10, 30, 5]
    const uids = ['alice', 'alice', 'alice', 'bob']
    for (const uid of uids) chains.set(chains.popFree(), uid, true)
    const before = (a: number, b: number) => activity[a]! < activity[b]!
    expect(chains.census('alice', before)).toEqual({ count: 3, leastRecent: 1 })
    expect(chains.census('bob', before)).toEqual({ count: 1, leastRecent: 3 })
    expect(chains.census('carol', before)).toEqual({ count: 0, leastRecent: -1 })
  })
})
