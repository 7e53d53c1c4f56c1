/** A session's times (epoch ms) and the expiry policy it was created with (seconds; 0 = off). */
export interface ExpiryPolicy {
  createdAt: number
  lastActiveAt: number
  maxAge: number
  lifetime: number
}

/**
 * When a session ends if nothing touches it again (epoch ms): the earlier of its idle and its
 * absolute deadline, `Infinity` when neither is set. Every store enforces this on read, so a
 * session never outlives its policy even where a TTL or a sweep is late.
 */
export function deadlineOf(record: ExpiryPolicy): number {
  const idle = record.maxAge > 0 ? record.lastActiveAt + record.maxAge * 1000 : Infinity
  const absolute = record.lifetime > 0 ? record.createdAt + record.lifetime * 1000 : Infinity
  return Math.min(idle, absolute)
}

/** The longest a browser keeps a cookie (RFC 6265bis caps Max-Age at 400 days), in seconds. */
export const MAX_COOKIE_AGE = 400 * 24 * 3600

/**
 * Seconds a cookie must last so the browser keeps it as long as the server keeps the session;
 * `undefined` for a session that is not `persistent`, whose cookie ends when the browser closes.
 */
export function cookieAge(record: ExpiryPolicy & { persistent?: false }): number | undefined {
  if (record.persistent === false) return undefined
  if (record.lifetime === 0) return MAX_COOKIE_AGE
  return Math.min(MAX_COOKIE_AGE, Math.ceil((record.createdAt + record.lifetime * 1000 - Date.now()) / 1000))
}
