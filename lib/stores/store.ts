import type { JsonValue } from '../core/values'

/**
 * One session as a store keeps it. Times are epoch milliseconds; `maxAge` and `lifetime` are
 * the policy the session was created with, so any store can slide and enforce expiry alone.
 */
export interface SessionRecord {
  /** Random id chosen at creation; never reused. */
  id: string
  /** The user id given at login; absent for an anonymous session (one started by a write before login). */
  uid?: string
  /** SHA-256 of the token's secret part (base64url): never anything that authenticates alone. */
  tokenHash: string
  /** The hash that `refresh()` replaced, still accepted until `previousTokenExpiresAt`. */
  previousTokenHash?: string
  previousTokenExpiresAt?: number
  createdAt: number
  lastActiveAt: number
  /** Seconds of inactivity after which the session ends; 0 = never. */
  maxAge: number
  /** Seconds after creation at which the session ends whatever its activity; 0 = never. */
  lifetime: number
  /**
   * The session's values, one entry a key (a `Map`, so no key can reach a prototype). Never
   * changed once handed over, either way: a store may give the same Map to many reads.
   */
  values: ReadonlyMap<string, JsonValue>
  /**
   * Set on a marker a store keeps in place of an ended session, so that its token fails with
   * the right error: `'replaced'` by a newer login (`singleSession`), `'expired'` by time.
   */
  ended?: 'replaced' | 'expired'
  /**
   * `false` for a session whose cookie the browser drops when it closes (a login without "remember
   * me"); absent, the cookie lasts as long as the session can. Set at creation, never changed.
   */
  persistent?: false
  /**
   * Where the session was made, for the user's list of devices: the `User-Agent` (at most
   * `MAX_USER_AGENT` characters) and the client address. Set at creation, never changed; `get`
   * may leave them out, `list` must give them.
   */
  userAgent?: string
  address?: string
}

/** Most characters of a `User-Agent` a session keeps. */
export const MAX_USER_AGENT = 256

/** What one request changed: keys set, keys unset, and a rotated token. */
export interface SessionChange {
  set?: ReadonlyMap<string, JsonValue>
  unset?: readonly string[]
  token?: TokenRotation
}

/**
 * A new token hash in place of `replaces`, compared and swapped in one atomic step: a store rotates
 * only while the session's current hash is `replaces`, and answers `false` otherwise (changing
 * nothing), so of two concurrent refreshes one wins and the other learns it lost.
 */
export interface TokenRotation {
  tokenHash: string
  /** The hash the rotation replaces: the session's current one, as the request read it. */
  replaces: string
  /** Keep the replaced hash verifiable until then (epoch ms); absent, it stops verifying at once. */
  previousTokenExpiresAt?: number
}

/** Options of `Store.create`. */
export interface CreateOptions {
  /** End the uid's other sessions in the same step, leaving `ended: 'replaced'` markers. */
  replaceOthers?: boolean
}

/** A live session of a user, as `session.sessions()` lists it: never its token. */
export interface SessionSummary {
  id: string
  uid: string
  createdAt: number
  lastActiveAt: number
  /** When the session ends if nothing touches it again (epoch ms); `Infinity` for never. */
  expiresAt: number
  /** The record's `userAgent` and `address`, when it has them. */
  userAgent?: string
  address?: string
}

/**
 * A value, or a promise of it. `get` and `update` run on every request: a store that answers
 * from process memory returns the value itself, and the request goes on in the same turn of the
 * event loop instead of paying a promise and a microtask each way.
 */
export type Awaitable<T> = T | Promise<T>

/**
 * Persists sessions. "Not found" is a value (`undefined`, or `false` from `update`); a rejection
 * (or, from a store that answers synchronously, a throw) means the backend failed, which the
 * middleware reports as STORE_UNAVAILABLE (210).
 */
export interface Store {
  /**
   * Saves a brand-new session. One without a `uid` (anonymous) counts like any other against the
   * store's bounds, but enters no per-uid index: `list` and `deleteAll` never see it.
   */
  create(record: SessionRecord, options?: CreateOptions): Promise<void>
  /**
   * Reads a session and slides its activity (`lastActiveAt`, idle expiry) in the same step.
   * Resolves `undefined` for an unknown id, and a record with `ended` set for one whose end the
   * store still remembers; such a record is not slid. May answer synchronously.
   */
  get(id: string): Awaitable<SessionRecord | undefined>
  /**
   * Applies the dirty keys (and a token rotation) of one request to a live session. Resolves
   * `false`, changing nothing, when the session no longer exists: a destroyed session never
   * comes back through a late write. May answer synchronously.
   */
  update(id: string, change: SessionChange): Awaitable<boolean>
  /** Ends a session. Deleting an unknown id is a no-op, not an error. */
  delete(id: string): Promise<void>
  /**
   * Optional: picks the id of a new session of `uid`, for stores whose layout wants it (the
   * Redis store puts a cluster hash tag in it). The default is 128 random bits.
   */
  createId?(uid: string): string
  /** Optional: releases what the store opened (timers, connections). */
  close?(): Promise<void>
}

/**
 * The per-user half of a store: lists and ends all sessions of one uid. `singleSession`,
 * `session.sessions()`, `revoke()` and `destroyAll()` need it.
 */
export interface UserSessionStore extends Store {
  /** The uid's live sessions, oldest first. */
  list(uid: string): Promise<SessionSummary[]>
  /**
   * Ends every session of `uid` but `except`; `replaced: true` leaves markers so their tokens
   * fail with SESSION_REPLACED. Resolves how many sessions ended. Use it to log a user out
   * everywhere without a request, after a password reset say.
   */
  deleteAll(uid: string, options?: { except?: string; replaced?: boolean }): Promise<number>
}

/** Whether a store answered with a promise (else it answered synchronously). */
export function isPromise<T>(answer: Awaitable<T>): answer is Promise<T> {
  return typeof (answer as Partial<Promise<T>> | undefined)?.then === 'function'
}

/** Whether `store` also implements the per-user operations. */
export function isUserSessionStore(store: Store): store is UserSessionStore {
  const candidate = store as Partial<UserSessionStore>
  return typeof candidate.list === 'function' && typeof candidate.deleteAll === 'function'
}

/** The event map every bundled store emits: the seed's events, each with the session's ids. */
export interface StoreEvents {
  created: [SessionEvent]
  destroyed: [SessionEvent]
  expired: [SessionEvent]
  evicted: [SessionEvent]
}

/** Payload of a store event. */
export interface SessionEvent {
  id: string
  /** The session's uid; `''` for an anonymous session. */
  uid: string
  /** On `evicted` only: why the store ended the session. */
  reason?: EvictionReason
}

/**
 * Why a store ended a session that nobody logged out: it was full (`'capacity'`), or the session's
 * uid reached the store's `maxSessionsPerUser` at a login (`'per-user limit'`).
 */
export type EvictionReason = 'capacity' | 'per-user limit'
