import type { SessionRecord } from './store'

/**
 * When a session ends if nothing touches it again (epoch ms): the earlier of its idle and its
 * absolute deadline, `Infinity` when neither is set. Every store enforces this on read, so a
 * session never outlives its policy even where a TTL or a sweep is late.
 */
export function deadlineOf(
  record: Pick<SessionRecord, 'createdAt' | 'lastActiveAt' | 'maxAge' | 'lifetime'>,
): number {
  const idle = record.maxAge > 0 ? record.lastActiveAt + record.maxAge * 1000 : Infinity
  const absolute = record.lifetime > 0 ? record.createdAt + record.lifetime * 1000 : Infinity
  return Math.min(idle, absolute)
}
