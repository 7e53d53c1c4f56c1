/**
 * How a session ended, as `SessionManager`'s `ended` event tells it: `logout` by
 * `session.destroy()`, `revoked` by `revoke()`, `destroyAll()` or the store's `delete`/`deleteAll`,
 * `replaced` by a newer login with `singleSession`, `expired` by time, `evicted` by a full store.
 */
export type EndReason = 'logout' | 'revoked' | 'replaced' | 'expired' | 'evicted'

/** Payload of the `ended` event: the session, its user, and why it ended. */
export interface SessionEnded {
  id: string
  uid: string
  reason: EndReason
}

/**
 * Carries `ended` events between processes that share a store. A store that spans processes
 * (RedisStore) offers one through `openEndedChannel()`; one that lives in a process needs none.
 */
export interface EndedChannel {
  /** Tells the other processes; `origin` lets each one skip what it sent itself. */
  publish(event: SessionEnded, origin: string): void
  /** Calls `listener` for every event another process published, and for each idle expiry the store's server reports. */
  listen(listener: (event: SessionEnded, origin: string | undefined) => void): void
  /** Closes the channel's connections. Safe to call twice. */
  close(): Promise<void>
}

/** A store that can carry `ended` events to other processes. */
export interface EndedChannelStore {
  openEndedChannel(): EndedChannel
}

/** Whether `store` offers an `ended` channel between processes. */
export function hasEndedChannel(store: object): store is EndedChannelStore {
  return typeof (store as Partial<EndedChannelStore>).openEndedChannel === 'function'
}
