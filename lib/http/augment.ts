import type { SessionValues } from '../core/values'
import type { Session } from '../session/session'

/**
 * The application's session values. Empty, it allows any JSON values under any key; declare
 * keys to type `req.session` throughout the app:
 *
 * @example
 * declare module 'cosgo-session' {
 *   interface SessionData { username: string; count: number }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by applications through declaration merging
export interface SessionData {}

/** `SessionData` when the application declared keys, else any JSON values. */
export type AppSessionValues = keyof SessionData extends never ? SessionValues : SessionData

declare global {
  namespace Express {
    interface Request {
      /** The session of this request; set by `sessionMiddleware()`. */
      session: Session<AppSessionValues>
    }
  }
}
