import fc from 'fast-check'
import { CreationQueue } from '../../../../lib/stores/memory/engine/creation-queue'

describe('CreationQueue', () => {
  it('gives back its entries first in, first out, across growth and compaction', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.nat(1000), fc.constant(-1)), { maxLength: 600 }), (steps) => {
        const queue = new CreationQueue()
        const model: [number, number][] = []
        for (const step of steps) {
          if (step === -1) {
            queue.shift()
            model.shift()
          } else {
            queue.push(step, step * 1000.5)
            model.push([step, step * 1000.5])
          }
          expect(queue.size).toBe(model.length)
          if (model.length > 0) expect([queue.oldestSlot(), queue.oldestCreatedAt()]).toEqual(model[0])
        }
      }),
      { numRuns: 200 },
    )
  })
})
