export {
  isSessionError,
  SESSION_ERRORS,
  SessionError,
  type SessionErrorBody,
  type SessionErrorCode,
  type SessionErrorName,
} from './core/errors'
export { deadlineOf } from './core/expiry'
export type { JsonValue, SessionValues } from './core/values'
export type { AppSessionValues, SessionData } from './http/augment'
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
} from './http/helpers'
export { type SessionMiddleware, sessionMiddleware } from './http/middleware'
export type { SessionCookieOptions, SessionOptions } from './session/options'
export { Session, type SessionInfo } from './session/session'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory/memory-store'
export { type RedisClient, RedisStore, type RedisStoreOptions } from './stores/redis/redis-store'
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
} from './stores/store'
