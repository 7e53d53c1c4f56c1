import { serialize } from 'cookie'

/**
 * The checks `resolveOptions` runs at setup: each throws a `TypeError` that names the option and
 * the value, so bad configuration fails at start-up instead of on the first request.
 */

/** The longest duration a store and a timer can hold, in seconds (a signed 32-bit count). */
export const MAX_SECONDS = 2 ** 31 - 1

/** An HTTP token: what a cookie name and a header name may be made of (RFC 9110). */
const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Refuses keys of `input` that are not options, naming the known ones: a typo fails loudly. */
export function checkKnownKeys(input: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(input))
    if (!known.includes(key))
      throw new TypeError(`unknown ${where} ${JSON.stringify(key)}; the known ones are ${known.join(', ')}`)
}

/** A name the cookie or a header can carry: an HTTP token. */
export function checkToken(option: string, value: unknown): string {
  if (typeof value !== 'string' || !TOKEN_CHARS.test(value))
    throw new TypeError(
      `option ${option} must be a cookie and header name (letters, digits, !#$%&'*+-.^_\`|~), got ${describe(value)}`,
    )
  return value
}

/** A whole number of seconds that stores and timers can hold. */
export function checkSeconds(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SECONDS))
    throw new TypeError(
      `option ${option} must be a whole number of seconds from 0 to ${MAX_SECONDS}, got ${describe(value)}`,
    )
  return value
}

/** A whole number from 0 to 2^31 − 1. */
export function checkWhole(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SECONDS))
    throw new TypeError(
      `option ${option} must be a whole number from 0 to ${MAX_SECONDS}, got ${describe(value)}`,
    )
  return value
}

export function checkBoolean(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean')
    throw new TypeError(`option ${option} must be true or false, got ${describe(value)}`)
  return value
}

/** `value` when it is one of `allowed`. */
export function checkOneOf<T extends string | boolean>(
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T))
    throw new TypeError(
      `option ${option} must be ${allowed.map((one) => JSON.stringify(one)).join(' or ')}, got ${describe(value)}`,
    )
  return value as T
}

/** A cookie attribute the `cookie` package can write: it throws on a bad one, here at setup. */
export function checkCookieAttribute(name: string, attribute: 'domain' | 'path', value: unknown): void {
  if (value === undefined) return
  try {
    if (typeof value !== 'string') throw new TypeError('not a string')
    serialize(name, 'x', { [attribute]: value })
  } catch {
    throw new TypeError(`option cookie.${attribute} is not a valid cookie ${attribute}: ${describe(value)}`)
  }
}

/** Signing keys long and varied enough to resist guessing: no whitespace-only or one-character key. */
export function checkSecretKeys(keys: readonly unknown[], minLength: number): readonly string[] {
  if (keys.length === 0) throw new TypeError('option secret must name at least one key')
  for (const key of keys) {
    if (typeof key !== 'string' || key.length < minLength)
      throw new TypeError(`option secret: every key must be a string of at least ${minLength} characters`)
    if (key.trim() === '' || new Set(key).size === 1)
      throw new TypeError('option secret: a key must not be whitespace or one repeated character')
  }
  return Object.freeze(keys as string[])
}

/** A value as an option's error message quotes it. */
export function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
