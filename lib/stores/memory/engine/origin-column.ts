import type { SessionRecord } from '../../store'
import { TextArena } from './text-arena'

/** What a session records of where it was made, as `SessionRecord` gives it. */
export type SessionOrigin = Pick<SessionRecord, 'persistent' | 'userAgent' | 'address'>

/** Flag bit of a session whose cookie the browser drops at its close. */
const NOT_PERSISTENT = 1

/**
 * What each session records at creation and never changes: whether its cookie persists (a bit),
 * and the device it was made on (address and `User-Agent`, as latin1 bytes in an arena, so a
 * million of them hold no heap object). Only the flag is read on every request; the device is
 * read when a user lists their sessions.
 */
export class OriginColumn {
  #flags = new Uint8Array(0)
  readonly #devices = new TextArena()

  /** Room for `capacity` slots, what is held kept. */
  resize(capacity: number): void {
    const flags = new Uint8Array(capacity)
    flags.set(this.#flags.subarray(0, Math.min(capacity, this.#flags.length)))
    this.#flags = flags
    this.#devices.resize(capacity)
  }

  set(slot: number, origin: SessionOrigin): void {
    this.#flags[slot] = origin.persistent === false ? NOT_PERSISTENT : 0
    if (origin.userAgent === undefined && origin.address === undefined) this.#devices.clear(slot)
    else this.#devices.set(slot, `${origin.address ?? ''}\n${origin.userAgent ?? ''}`)
  }

  clear(slot: number): void {
    this.#flags[slot] = 0
    this.#devices.clear(slot)
  }

  /** Whether the session's cookie lasts beyond the browser's close. */
  persistent(slot: number): boolean {
    return (this.#flags[slot]! & NOT_PERSISTENT) === 0
  }

  /** The device the session was made on; its fields absent where nothing was recorded. */
  device(slot: number): Pick<SessionRecord, 'userAgent' | 'address'> {
    const text = this.#devices.text(slot)
    if (text === undefined) return {}
    const split = text.indexOf('\n')
    const address = text.slice(0, split)
    const userAgent = text.slice(split + 1)
    return { ...(address ? { address } : {}), ...(userAgent ? { userAgent } : {}) }
  }
}
