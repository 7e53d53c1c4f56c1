import { SessionError } from '../core/errors'

/**
 * Where a flash value lives among the session's values: under its key with this prefix, so that
 * it travels with the request's other writes (no store call of its own), never shows in `get` or
 * `toJSON`, and two requests flashing different keys do not overwrite each other.
 */
const FLASH_PREFIX = '!flash:'

/** The stored key of the flash value `key`. */
export function flashKey(key: string): string {
  return FLASH_PREFIX + key
}

/** Whether a stored key holds a flash value. */
export function isFlashKey(key: string): boolean {
  return key.startsWith(FLASH_PREFIX)
}

/** Refuses an app key that would read as a flash value, with SESSION_ERROR (201). */
export function checkValueKey(key: string): void {
  if (isFlashKey(key))
    throw new SessionError(
      'SESSION_ERROR',
      `session keys starting with ${JSON.stringify(FLASH_PREFIX)} are kept for flash(); use another key than ${JSON.stringify(key)}`,
    )
}
