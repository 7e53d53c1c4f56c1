export type { AppSessionValues, SessionData } from './augment'
export {
  isSessionError,
  SESSION_ERRORS,
  SessionError,
  type SessionErrorBody,
  type SessionErrorCode,
  type SessionErrorName,
} from './errors'
export { deadlineOf } from './expiry'
export {
  type LoginOptions,
  type LoginRequest,
  type LoginResult,
  type LogoutOptions,
  login,
  logout,
  type RequestWithSession,
  type RequireSessionOptions,
  requireSession,
} from './helpers'
export { MemoryStore, type MemoryStoreOptions } from './memory-store'
export { type SessionMiddleware, sessionMiddleware } from './middleware'
export type { SessionCookieOptions, SessionOptions } from './options'
export { type RedisClient, RedisStore, type RedisStoreOptions } from './redis-store'
export { Session, type SessionInfo } from './session'
export {
  type Awaitable,
  type CreateOptions,
  isUserSessionStore,
  type SessionChange,
  type SessionEvent,
  type SessionRecord,
  type SessionSummary,
  type Store,
  type StoreEvents,
  type TokenRotation,
  type UserSessionStore,
} from './store'
export type { JsonValue, SessionValues } from './values'
