import type { JsonValue, SessionValues } from '../core/values'
import { isFlashKey } from './flash'

/**
 * The read half of `Session`: synchronous reads of a session's values, from the snapshot taken when
 * its token was verified plus the request's own writes. `T` types them, as `req.session` does.
 */
export abstract class SessionReads<T extends object = SessionValues> {
  /** The values to read, `undefined` without a session. */
  protected abstract currentValues(): ReadonlyMap<string, JsonValue> | undefined

  /** The value of `key`, or `undefined` when absent (seed `Get`). */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.currentValues()?.get(key) as T[K] | undefined
  }

  /** The value of `key` when it is a string, else `''` (seed `GetString`); nothing is converted. */
  getString(key: keyof T & string): string {
    const value = this.currentValues()?.get(key)
    return typeof value === 'string' ? value : ''
  }

  /** The value of `key` when it is a number, else `0` (seed `GetInt*`, `GetFloat64`); nothing is converted. */
  getNumber(key: keyof T & string): number {
    const value = this.currentValues()?.get(key)
    return typeof value === 'number' ? value : 0
  }

  /** The value of `key` when it is a boolean, else `false`; nothing is converted. */
  getBoolean(key: keyof T & string): boolean {
    const value = this.currentValues()?.get(key)
    return typeof value === 'boolean' ? value : false
  }

  /** Whether `key` holds a value. */
  has(key: keyof T & string): boolean {
    return this.currentValues()?.has(key) ?? false
  }

  /** A copy of all values (flash values aside), for `res.json(req.session)`. */
  toJSON(): Partial<T> {
    const entries = [...(this.currentValues() ?? [])].filter(([key]) => !isFlashKey(key))
    return Object.fromEntries(entries) as Partial<T>
  }
}
