import {
  hashMatches,
  hashSecret,
  MAX_TOKEN_LENGTH,
  randomId,
  TokenSigner,
  VerifiedTokens,
} from '../../lib/core/token'

const key = 'test-secret-that-is-long-enough-0123456789'

describe('TokenSigner', () => {
  const signer = new TokenSigner([key])

  it('issues <sessionId>.<secret>.<issued>.<hmac> tokens with 128 random bits of secret', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 4, 12, 0, 30, 500) })
    const { token, tokenHash } = signer.issue(randomId())
    const [sessionId, secret, issued, mac] = token.split('.')
    jest.useRealTimers()
    expect(Number.parseInt(issued!, 36)).toBe(Date.UTC(2026, 11, 4, 12, 0, 30) / 1000)
    expect(signer.verify(token)).toMatchObject({ issuedAt: Date.UTC(2026, 11, 4, 12, 0, 30), keyIndex: 0 })
    expect(Buffer.from(secret!, 'base64url')).toHaveLength(16)
    expect(Buffer.from(sessionId!, 'base64url')).toHaveLength(16)
    expect(Buffer.from(mac!, 'base64url')).toHaveLength(32)
    expect(tokenHash).toBe(hashSecret(secret!))
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH)
  })

  it('never issues the same token twice, even for one session', () => {
    const id = randomId()
    const tokens = new Set(Array.from({ length: 1000 }, () => signer.issue(id).token))
    expect(tokens.size).toBe(1000)
  })

  it('keeps no guessable counter, timestamp or user id in a token', () => {
    const first = signer.issue(randomId()).token
    const second = signer.issue(randomId()).token
    const sharedPrefix = [...first].findIndex((char, index) => char !== second[index])
    expect(sharedPrefix).toBeLessThan(4)
  })

  it('verifies its own tokens and returns their parts', () => {
    const id = randomId()
    const { token } = signer.issue(id)
    expect(signer.verify(token)?.sessionId).toBe(id)
  })

  it.each([
    ['empty', ''],
    ['one part', 'abc'],
    ['four parts', 'a.b.c.d'],
    [
      'non-base64url characters',
      'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%',
    ],
    ['an overlong token', `${'A'.repeat(200)}.${'B'.repeat(22)}.${'C'.repeat(43)}`],
  ])('refuses %s', (_, token) => {
    expect(signer.verify(token)).toBeUndefined()
  })

  it('refuses a token whose any character was changed', () => {
    const { token } = signer.issue(randomId())
    for (let index = 0; index < token.length; index++) {
      if (token[index] === '.') continue
      const changed = token.slice(0, index) + (token[index] === 'A' ? 'B' : 'A') + token.slice(index + 1)
      expect(signer.verify(changed)).toBeUndefined()
    }
  })

  it('refuses every other spelling of a valid signature', () => {
    const { token } = signer.issue(randomId())
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const accepted = [...alphabet].filter((char) => signer.verify(token.slice(0, -1) + char) !== undefined)
    expect(accepted).toEqual([token.at(-1)])
  })

  it('verifies with every key of a rotation, signs with the first', () => {
    const old = new TokenSigner(['old-key-that-is-long-enough-000000000000'])
    const rotated = new TokenSigner([key, 'old-key-that-is-long-enough-000000000000'])
    const oldToken = old.issue(randomId()).token
    const parts = rotated.verify(oldToken)!
    expect(parts.keyIndex).toBe(1)
    expect(old.verify(rotated.issue(randomId()).token)).toBeUndefined()
    const reissued = rotated.verify(rotated.reissue(parts))
    expect(reissued).toMatchObject({ sessionId: parts.sessionId, secret: parts.secret, keyIndex: 0 })
  })
})

describe('hashMatches()', () => {
  it('matches a secret against its stored hash only', () => {
    const presented = hashSecret('secret-part')
    expect(hashMatches(presented, hashSecret('secret-part'))).toBe(true)
    expect(hashMatches(presented, hashSecret('other'))).toBe(false)
    expect(hashMatches(presented, undefined)).toBe(false)
    expect(hashMatches(presented, 'short')).toBe(false)
    expect(hashMatches('not-a-hash', 'not-a-hash')).toBe(true)
    expect(hashMatches('not-a-hash', 'not-a-hasH')).toBe(false)
    // a unit above U+00FF does not compare as its low byte (0x141 is not 0x41, 'A')
    const hash = hashSecret('secret-part')
    const lookalike = String.fromCharCode(hash.charCodeAt(0) + 0x100) + hash.slice(1)
    expect(hashMatches(presented, lookalike)).toBe(false)
    expect(hashMatches(presented, `é${hash.slice(1)}`)).toBe(false)
  })
})

describe('VerifiedTokens', () => {
  const signer = new TokenSigner([key])

  it('remembers a verified token, so its next check needs no HMAC', () => {
    const tokens = new VerifiedTokens(signer, 4)
    const { token, tokenHash } = signer.issue(randomId())
    const first = tokens.verify(token)
    expect(tokens.verify(token)).toBe(first)
    expect(hashMatches(first!.secretHash, tokenHash)).toBe(true)
  })

  it('stays within its capacity and never keeps a forged token', () => {
    const tokens = new VerifiedTokens(signer, 4)
    const { token } = signer.issue(randomId())
    const first = tokens.verify(token)
    for (let index = 0; index < 4; index++) tokens.verify(signer.issue(randomId()).token)
    expect(tokens.verify(token)).not.toBe(first)
    const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')
    expect(tokens.verify(forged)).toBeUndefined()
  })
})
