/**
 * `cosgo-session`: what an app uses. The Redis store is `cosgo-session/redis`, what a store author
 * needs is `cosgo-session/store`, and the store contract suite is `cosgo-session/testing`.
 */

export {
  isSessionError,
  SESSION_ERRORS,
  SessionError,
  type SessionErrorBody,
  type SessionErrorCode,
  type SessionErrorName,
} from './core/errors'
export type { JsonValue, SessionValues } from './core/values'
export type { AppSessionValues, SessionData } from './http/augment'
export { type CsrfGuardOptions, csrfGuard } from './http/csrf-guard'
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
export { SessionManager, type VerifyRequestOptions } from './http/session-manager'
export type { CreateSessionOptions } from './session/create-options'
export { ManagedSession } from './session/managed-session'
export type { SessionCookieOptions, SessionOptions } from './session/options'
export { Session } from './session/session'
export type { SessionInfo } from './session/session-info'
export type {
  SaveFailure,
  SessionManagerEvents,
  SessionManagerOptions,
} from './session/session-manager-core'
export type { EndReason, SessionEnded } from './stores/ended-channel'
export { MemoryStore, type MemoryStoreOptions } from './stores/memory/memory-store'
export type { Store } from './stores/store'
