import { createHmac, hash, timingSafeEqual } from 'node:crypto'
import { randomText } from './random-text'
import { hashString } from './string-hash'

/** Longest token header or cookie value looked at; anything longer is refused unread. */
export const MAX_TOKEN_LENGTH = 256

const PART = /^[A-Za-z0-9_-]{16,64}$/
/** When a token was issued: whole seconds since the epoch, base 36. */
const ISSUED = /^[0-9a-z]{1,10}$/

/** A token split into the session id it names, the secret that proves it, and how it was signed. */
export interface TokenParts {
  sessionId: string
  secret: string
  /** When the token was issued (epoch ms, whole seconds): a cookie is renewed from it. */
  issuedAt: number
  /** Which key of `secret` verified it: 0 for the one that signs new tokens. */
  keyIndex: number
}

/** A freshly issued token and the hash of its secret that the store keeps. */
export interface IssuedToken {
  token: string
  tokenHash: string
}

/** 128 random bits, base64url: the default session id. */
export function randomId(): string {
  return randomText(16)
}

/**
 * Signs and verifies tokens of the form `<sessionId>.<secret>.<issued>.<hmac>`. The secret part is
 * 128 random bits; the HMAC-SHA256 over the other parts with the first key proves that this server
 * issued the token, so forged or mangled tokens are refused before any store access. The other
 * keys still verify, so keys can be rotated without logging everyone out; `reissue` then signs
 * the same session and secret under the first key, and renews a cookie near the browser's cap.
 */
export class TokenSigner {
  readonly #keys: readonly string[]

  constructor(keys: readonly string[]) {
    this.#keys = keys
  }

  /** A new token for `sessionId`, and the hash of its secret to store. */
  issue(sessionId: string): IssuedToken {
    const secret = randomText(16)
    return { token: this.#sign(sessionId, secret), tokenHash: hashSecret(secret) }
  }

  /** The same session and secret (so the same stored hash), issued now under the first key. */
  reissue(parts: TokenParts): string {
    return this.#sign(parts.sessionId, parts.secret)
  }

  /** The token's parts when it is well formed and signed by one of the keys, else `undefined`. */
  verify(token: string): TokenParts | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined
    const [sessionId, secret, issued, mac, extra] = token.split('.', 5)
    if (extra !== undefined || !sessionId || !secret || !issued || !mac) return undefined
    if (!PART.test(sessionId) || !PART.test(secret) || !ISSUED.test(issued) || !PART.test(mac))
      return undefined
    // Compared as text, not decoded bytes: base64url leaves spare bits in the last character,
    // and only the one canonical spelling of a signature may verify.
    const presented = Buffer.from(mac)
    const payload = `${sessionId}.${secret}.${issued}`
    for (let keyIndex = 0; keyIndex < this.#keys.length; keyIndex++) {
      const expected = Buffer.from(this.#mac(this.#keys[keyIndex]!, payload))
      if (presented.length === expected.length && timingSafeEqual(presented, expected))
        return { sessionId, secret, issuedAt: Number.parseInt(issued, 36) * 1000, keyIndex }
    }
    return undefined
  }

  #sign(sessionId: string, secret: string): string {
    const payload = `${sessionId}.${secret}.${Math.floor(Date.now() / 1000).toString(36)}`
    return `${payload}.${this.#mac(this.#keys[0]!, payload)}`
  }

  #mac(key: string, payload: string): string {
    return createHmac('sha256', key).update(payload).digest('base64url')
  }
}

/** A token whose signature checked out, with the hash of its secret ready to compare. */
export interface VerifiedToken extends TokenParts {
  /** `hashSecret(secret)`. */
  secretHash: string
  /** The token itself. */
  token: string
}

/**
 * Verifies tokens and remembers up to `capacity` that checked out (about 300 bytes each), so the
 * requests of active sessions skip the HMAC and the SHA-256. They are kept under a hash of the
 * token's last characters (its signature, which only this server can make), not under the token
 * itself: a Map hashes a string key whole, and the token is a new string on every request, so
 * that would cost more than the lookup saves. Only signed tokens are kept, which forged ones
 * cannot displace, and the keys never change while it runs.
 */
export class VerifiedTokens {
  readonly #signer: TokenSigner
  readonly #capacity: number
  readonly #verified = new Map<number, VerifiedToken>()

  constructor(signer: TokenSigner, capacity = 1024) {
    this.#signer = signer
    this.#capacity = capacity
  }

  /** The token's parts when it is well formed and signed, else `undefined`. */
  verify(token: string): VerifiedToken | undefined {
    const key = hashString(token, Math.max(token.length - SIGNATURE_CHARACTERS_HASHED, 0))
    const known = this.#verified.get(key)
    if (known !== undefined && known.token === token) return known
    const parts = this.#signer.verify(token)
    if (!parts) return undefined
    const verified = { ...parts, secretHash: hashSecret(parts.secret), token }
    if (this.#verified.size >= this.#capacity) this.#verified.clear()
    this.#verified.set(key, verified)
    return verified
  }
}

/** How many of a token's last characters (its signature's) key it in `VerifiedTokens`. */
const SIGNATURE_CHARACTERS_HASHED = 8

/**
 * Whether a presented secret's hash equals a stored hash, in a time that depends only on their
 * length: every UTF-16 unit is compared, with no early exit. (`timingSafeEqual` would need both as
 * Buffers, written afresh on every request.)
 */
export function hashMatches(secretHash: string, storedHash: string | undefined): boolean {
  if (storedHash === undefined || storedHash.length !== secretHash.length) return false
  let difference = 0
  for (let index = 0; index < secretHash.length; index++)
    difference |= secretHash.charCodeAt(index) ^ storedHash.charCodeAt(index)
  return difference === 0
}

/**
 * SHA-256 of a token secret, base64url: what a store keeps instead of the token. One-shot `hash`
 * creates no native Hash object for the collector to finalise.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'base64url')
}
