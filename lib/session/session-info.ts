import type { SessionSummary } from '../stores/store'

/** One of a user's live sessions, as `session.sessions()` lists it: never its token. */
export interface SessionInfo {
  id: string
  createdAt: Date
  lastActiveAt: Date
  /** When it ends if left idle; `null` for never. */
  expiresAt: Date | null
  /** Whether it is the session of this request. */
  current: boolean
  /** The `User-Agent` of the login that made it; `undefined` when not recorded (`recordDevice: false`). */
  userAgent: string | undefined
  /** The client address of that login; `undefined` when not recorded. */
  address: string | undefined
}

/** A store's summary as the app sees it: dates instead of epoch ms, and which one is current. */
export function toSessionInfo(summary: SessionSummary, currentId: string): SessionInfo {
  return {
    id: summary.id,
    createdAt: new Date(summary.createdAt),
    lastActiveAt: new Date(summary.lastActiveAt),
    expiresAt: Number.isFinite(summary.expiresAt) ? new Date(summary.expiresAt) : null,
    current: summary.id === currentId,
    userAgent: summary.userAgent,
    address: summary.address,
  }
}
