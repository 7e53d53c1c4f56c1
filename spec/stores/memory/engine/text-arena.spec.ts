import fc from 'fast-check'
import { hashString } from '../../../../lib/core/string-hash'
import { MAX_ARENA_TEXT, TextArena } from '../../../../lib/stores/memory/engine/text-arena'

function arena(capacity = 8): TextArena {
  const texts = new TextArena()
  texts.resize(capacity)
  return texts
}

/** Array-buffer bytes held now; the arena's buffer is the only one these tests grow. */
function arrayBufferBytes(): number {
  return process.memoryUsage().arrayBuffers
}

describe('TextArena', () => {
  it.each([
    ['an ASCII uid', 'u123456'],
    ['values JSON', '{"user":"u1","n":0}'],
    ['latin1 text', 'Grüße, café'],
    ['text beyond latin1', 'sitzung-😀-ā'],
    ['an empty text', ''],
    ['a text of the longest kept as bytes', 'x'.repeat(MAX_ARENA_TEXT)],
    ['a longer text', 'y'.repeat(MAX_ARENA_TEXT + 1)],
    ['NUL and U+00FF', '\0\xff'],
  ])('gives %s back, finds it, and hashes it as hashString does', (_, text) => {
    const texts = arena()
    texts.set(3, text)
    expect(texts.has(3)).toBe(true)
    expect(texts.text(3)).toBe(text)
    expect(texts.holds(3, text)).toBe(true)
    expect(texts.holds(3, `${text}.`)).toBe(false)
    expect(texts.hashOf(3)).toBe(hashString(text))
  })

  it('tells a slot without text from one with an empty text', () => {
    const texts = arena()
    texts.set(1, '')
    expect(texts.has(0)).toBe(false)
    expect(texts.text(0)).toBeUndefined()
    expect(texts.holds(0, '')).toBe(false)
    expect(texts.text(1)).toBe('')
    texts.clear(1)
    expect(texts.has(1)).toBe(false)
  })

  it('tells apart texts that latin1 bytes would confuse', () => {
    const texts = arena()
    texts.set(0, 'Ł') // U+0141: its low byte is 'A'
    texts.set(1, 'A')
    expect(texts.text(0)).toBe('Ł')
    expect(texts.holds(1, 'Ł')).toBe(false)
    expect(texts.holds(0, 'A')).toBe(false)
  })

  it('agrees with a Map of strings over any sequence of sets, clears and resizes', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.string({ minLength: MAX_ARENA_TEXT - 2, maxLength: MAX_ARENA_TEXT + 2 }),
    )
    const step = fc.oneof(
      fc.record({ op: fc.constant('set' as const), slot: fc.nat(15), text }),
      fc.record({ op: fc.constant('clear' as const), slot: fc.nat(15) }),
      fc.record({ op: fc.constant('grow' as const) }),
    )
    fc.assert(
      fc.property(fc.array(step, { maxLength: 120 }), (steps) => {
        let capacity = 16
        const texts = arena(capacity)
        const model = new Map<number, string>()
        for (const action of steps) {
          if (action.op === 'set') {
            texts.set(action.slot, action.text)
            model.set(action.slot, action.text)
          } else if (action.op === 'clear') {
            texts.clear(action.slot)
            model.delete(action.slot)
          } else {
            capacity *= 2
            texts.resize(capacity)
          }
          for (let slot = 0; slot < 16; slot++) {
            const expected = model.get(slot)
            expect(texts.text(slot)).toBe(expected)
            if (expected !== undefined) expect(texts.holds(slot, expected)).toBe(true)
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('reuses freed blocks: churn through one slot at a time holds the buffer at its first size', () => {
    const texts = arena(1_000)
    for (let slot = 0; slot < 1_000; slot++) texts.set(slot, `{"user":"u${slot}","n":0}`)
    const grown = arrayBufferBytes()
    for (let round = 0; round < 20; round++)
      for (let slot = 0; slot < 1_000; slot++) {
        texts.clear(slot)
        texts.set(slot, `{"user":"u${slot}","n":${round}}`)
      }
    // at most: a collection may free other buffers meanwhile, but nothing else allocates one
    expect(arrayBufferBytes()).toBeLessThanOrEqual(grown)
    expect(texts.text(999)).toBe('{"user":"u999","n":19}')
  })

  it('keeps a neighbour intact when a text is rewritten in its block or moved to a larger one', () => {
    const texts = arena()
    texts.set(0, '{"n":1}')
    texts.set(1, 'neighbour')
    texts.set(0, '{"n":22}')
    expect(texts.text(0)).toBe('{"n":22}')
    texts.set(0, '{"n":333333333}')
    expect(texts.text(0)).toBe('{"n":333333333}')
    expect(texts.text(1)).toBe('neighbour')
  })
})
