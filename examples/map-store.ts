// A whole store over a Map, for one process: the four methods `Store` requires, nothing optional.
import { deadlineOf, type SessionChange, type SessionRecord, type Store } from '../lib/store'

/** Sessions in a `Map`: a read slides its session, and a session past its deadline is gone. */
export class MapStore implements Store {
  readonly #records = new Map<string, SessionRecord>()

  async create(record: SessionRecord): Promise<void> {
    this.#records.set(record.id, { ...record, values: structuredClone(record.values) })
  }

  // `get` and `update` may answer synchronously (`Awaitable`): the request then goes on at once.
  get(id: string): SessionRecord | undefined {
    const record = this.#live(id)
    if (record === undefined) return undefined
    record.lastActiveAt = Date.now()
    // a copy, so that no reader sees another request's values change
    return { ...record, values: structuredClone(record.values) }
  }

  update(id: string, change: SessionChange): boolean {
    const record = this.#live(id)
    if (record === undefined) return false
    // a rotation is a compare-and-swap: it applies only while the hash it replaces is current
    if (change.token && change.token.replaces !== record.tokenHash) return false
    const values = new Map(record.values)
    for (const [key, value] of change.set ?? []) values.set(key, structuredClone(value))
    for (const key of change.unset ?? []) values.delete(key)
    const next: SessionRecord = { ...record, values }
    if (change.token) {
      const { tokenHash, replaces, previousTokenExpiresAt } = change.token
      next.tokenHash = tokenHash
      delete next.previousTokenHash
      delete next.previousTokenExpiresAt
      // without a grace period, the replaced token stops verifying at once
      if (previousTokenExpiresAt !== undefined)
        Object.assign(next, { previousTokenHash: replaces, previousTokenExpiresAt })
    }
    this.#records.set(id, next)
    return true
  }

  async delete(id: string): Promise<void> {
    this.#records.delete(id)
  }

  /** The record of a session that has not passed its deadline; an expired one is deleted. */
  #live(id: string): SessionRecord | undefined {
    const record = this.#records.get(id)
    if (record !== undefined && deadlineOf(record) <= Date.now()) {
      this.#records.delete(id)
      return undefined
    }
    return record
  }
}
