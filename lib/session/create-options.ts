import { SessionError } from '../core/errors'
import type { JsonValue } from '../core/values'

/** Options of `session.create()`. */
export interface CreateSessionOptions {
  /**
   * Values of the session this request carries (an anonymous one's cart, say) to keep in the new
   * session: `true` for all of them, or their keys. `values` win over kept ones of the same key.
   * Off by default, because what an anonymous session holds was written by whoever held its cookie.
   * @default false
   */
  keep?: boolean | readonly string[]
  /**
   * `false` for a cookie without `Max-Age` (a login without "remember me"): the browser drops it
   * when it closes, while the server's idle and absolute expiry stay as they are. The choice stays
   * with the session through every later request, `refresh()` and key re-issue.
   * @default the middleware's `persistent` option (true)
   */
  persistent?: boolean
}

/** The values of `current` that `keep` names, checked: a bad `keep` throws SESSION_ERROR (201). */
export function keptValues(
  current: ReadonlyMap<string, JsonValue> | undefined,
  keep: CreateSessionOptions['keep'],
): [string, JsonValue][] {
  if (keep === undefined || keep === false) return []
  if (keep === true) return [...(current ?? [])]
  if (!Array.isArray(keep) || !keep.every((key) => typeof key === 'string'))
    throw new SessionError('SESSION_ERROR', 'option keep of create() must be true, false or an array of keys')
  const kept: [string, JsonValue][] = []
  for (const key of keep as readonly string[]) {
    const value = current?.get(key)
    if (value !== undefined) kept.push([key, value])
  }
  return kept
}

/** The `persistent` of `create()`, checked: anything but a boolean or `undefined` throws SESSION_ERROR. */
export function checkPersistent(persistent: unknown): boolean | undefined {
  if (persistent === undefined || typeof persistent === 'boolean') return persistent
  throw new SessionError(
    'SESSION_ERROR',
    `option persistent of create() must be a boolean, got ${String(persistent)}`,
  )
}
