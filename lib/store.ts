/** `cosgo-session/store`: what the author of a store needs, to write one the middleware can use. */
export { deadlineOf, type ExpiryPolicy } from './core/expiry'
export type { JsonValue } from './core/values'
export {
  type Awaitable,
  type CreateOptions,
  type EvictionReason,
  isPromise,
  isUserSessionStore,
  MAX_USER_AGENT,
  type SessionChange,
  type SessionEvent,
  type SessionRecord,
  type SessionSummary,
  type Store,
  type StoreEvents,
  type TokenRotation,
  type UserSessionStore,
} from './stores/store'
