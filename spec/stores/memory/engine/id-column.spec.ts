import fc from 'fast-check'
import { hashString } from '../../../../lib/core/string-hash'
import { randomId } from '../../../../lib/core/token'
import { IdColumn } from '../../../../lib/stores/memory/engine/id-column'

const CANONICAL = 'q83vEjRWeJq83vEjRWeJqw'
/** Decodes to CANONICAL's bytes under Buffer's lenient base64url, but is another id. */
const SPARE_BITS = 'q83vEjRWeJq83vEjRWeJqx'

function column(capacity = 8): IdColumn {
  const ids = new IdColumn()
  ids.resize(capacity)
  return ids
}

describe('IdColumn', () => {
  it.each([
    ['a randomId()', randomId()],
    ['a canonical id', CANONICAL],
    ['an id with spare bits set', SPARE_BITS],
    ['a short id', 'id-a'],
    ['a 22-character id outside base64url', 'q83vEjRWeJq83vEjRWeJ+w'],
    ['a long id', 'x'.repeat(300)],
    ['a non-ASCII id', 'sitzung-ü-😀'],
    ['an empty id', ''],
  ])('gives %s back as text, finds it, and hashes it as hashString does', (_, id) => {
    const ids = column()
    ids.set(3, id)
    expect(ids.text(3)).toBe(id)
    expect(ids.holds(3, id)).toBe(true)
    expect(ids.hashOf(3)).toBe(hashString(id))
  })

  it('spells any 16 bytes as Buffer does, and tells that spelling from every other', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.nat(21),
        fc.integer({ min: 1, max: 63 }),
        (bytes, position, change) => {
          const id = Buffer.from(bytes).toString('base64url')
          const ids = column(4)
          ids.set(2, id)
          ids.set(3, Buffer.alloc(16, 0xff).toString('base64url'))
          expect(ids.holds(2, id)).toBe(true)
          expect(ids.holds(2, `${id}A`)).toBe(false)
          expect(ids.hashOf(2)).toBe(hashString(id))
          expect(ids.text(2)).toBe(id)
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
          const other = alphabet[(alphabet.indexOf(id[position]!) + change) % 64]!
          expect(ids.holds(2, id.slice(0, position) + other + id.slice(position + 1))).toBe(false)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('tells apart two ids that decode to the same bytes, whichever is kept', () => {
    const ids = column()
    ids.set(0, CANONICAL)
    ids.set(1, SPARE_BITS)
    expect([ids.holds(0, SPARE_BITS), ids.holds(1, SPARE_BITS)]).toEqual([false, true])
    expect([ids.holds(0, CANONICAL), ids.holds(1, CANONICAL)]).toEqual([true, false])
  })

  it('does not find an id in a slot that held it as text and now holds another as bytes', () => {
    const ids = column()
    ids.set(2, 'id-a')
    ids.clear(2)
    ids.set(2, CANONICAL)
    expect(ids.holds(2, 'id-a')).toBe(false)
    expect(ids.text(2)).toBe(CANONICAL)
  })

  it('does not find an id as bytes in a slot that held it and now holds another as text', () => {
    const ids = column()
    ids.set(2, CANONICAL)
    ids.clear(2)
    ids.set(2, 'id-a')
    expect(ids.holds(2, CANONICAL)).toBe(false)
    expect(ids.text(2)).toBe('id-a')
  })

  it('keeps every id across a resize', () => {
    const ids = column(2)
    const kept = [randomId(), 'id-b']
    for (const [slot, id] of kept.entries()) ids.set(slot, id)
    ids.resize(64)
    ids.set(40, randomId())
    for (const [slot, id] of kept.entries()) {
      expect(ids.text(slot)).toBe(id)
      expect(ids.holds(slot, id)).toBe(true)
    }
  })
})
