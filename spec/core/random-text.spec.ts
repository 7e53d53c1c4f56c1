import { createHash } from 'node:crypto'
import { randomText } from '../../lib/core/random-text'
import { hashSecret, randomId } from '../../lib/core/token'

describe('randomText()', () => {
  it('answers base64url text of the asked number of bytes', () => {
    expect(randomText(16)).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(randomText(32)).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(randomText(5), 'base64url')).toHaveLength(5)
  })

  it('never hands out the same bytes twice, across many refills of its pool', () => {
    const seen = new Set(Array.from({ length: 5_000 }, () => randomId()))
    expect(seen.size).toBe(5_000)
  })

  it('spreads its bytes evenly, so ids and secrets keep their 128 bits', () => {
    const counts = new Array<number>(256).fill(0)
    for (let index = 0; index < 4_000; index++)
      for (const byte of Buffer.from(randomText(16), 'base64url')) counts[byte]!++
    // 64,000 bytes, 250 expected per value; a fixed or repeating pool would leave most at 0
    expect(Math.min(...counts)).toBeGreaterThan(150)
    expect(Math.max(...counts)).toBeLessThan(350)
  })

  it('refuses a size outside 1 to 256 bytes with a RangeError', () => {
    for (const bytes of [0, -1, 1.5, 257, Number.NaN]) expect(() => randomText(bytes)).toThrow(RangeError)
  })
})

describe('hashSecret()', () => {
  it('is the SHA-256 of the secret, base64url', () => {
    expect(hashSecret('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0')
    const secret = randomId()
    expect(hashSecret(secret)).toBe(createHash('sha256').update(secret).digest('base64url'))
  })
})
