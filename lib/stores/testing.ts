/**
 * The store contract suite, shipped as `cosgo-session/testing`: every bundled store passes it,
 * and authors of other stores run it against theirs (Jest or Vitest with globals).
 *
 * @example
 * import { describeStoreContract } from 'cosgo-session/testing'
 * describeStoreContract('MyStore', () => new MyStore(), { close: (store) => store.close() })
 */

import { randomId } from '../core/token'
import type { JsonValue } from '../core/values'
import {
  type ContractContext,
  describeAroundLoginContract,
  describePerUserContract,
  type TestGlobals,
} from './contract-parts'
import type { SessionRecord, Store } from './store'

/** Options of `describeStoreContract`. */
export interface StoreContractOptions<S extends Store> {
  /** Called after each test with the store it made. */
  close?: (store: S) => void | Promise<void>
  /** Picks ids for the records the suite creates; defaults to the store's `createId` or 128 random bits. */
  createId?: (store: S, uid: string) => string
  /**
   * Whether to run the per-user tests (`list`, `deleteAll`, `replaceOthers`).
   * @default true
   */
  perUser?: boolean
}

const HOUR = 3600

/**
 * A session record like the middleware creates at login (one hour idle expiry, one value), with
 * an id from `store.createId` when it has one, and `overrides` applied: for tests of a store.
 */
export function sampleRecord(
  store: Store | undefined,
  overrides: Partial<SessionRecord> = {},
): SessionRecord & { uid: string } {
  const uid = overrides.uid ?? `user-${randomId()}`
  const now = Date.now()
  return {
    id: store?.createId?.(uid) ?? randomId(),
    uid,
    tokenHash: randomId(),
    createdAt: now,
    lastActiveAt: now,
    maxAge: HOUR,
    lifetime: 0,
    values: new Map<string, JsonValue>([['username', 'test']]),
    ...overrides,
  }
}

/**
 * Declares the tests a `Store` must pass: the same inputs give the same outputs on every store,
 * so the middleware behaves the same on each. Per-user tests run when the store has `list`
 * and `deleteAll`. Expiry is tested with records whose times lie in the past, never by waiting.
 */
export function describeStoreContract<S extends Store>(
  name: string,
  makeStore: () => S | Promise<S>,
  options: StoreContractOptions<S> = {},
): void {
  const { describe, it, beforeEach, afterEach, expect } = globalThis as unknown as TestGlobals
  let store: S

  const newId = (uid: string) => options.createId?.(store, uid) ?? store.createId?.(uid) ?? randomId()
  const newRecord = (overrides: Partial<SessionRecord> = {}): SessionRecord & { uid: string } => {
    const uid = overrides.uid ?? `user-${randomId()}`
    return sampleRecord(undefined, { id: newId(uid), uid, ...overrides })
  }
  const valuesOf = async (id: string) => {
    const record = await store.get(id)
    return record && !record.ended ? Object.fromEntries(record.values) : undefined
  }

  const context: ContractContext = {
    globals: globalThis as unknown as TestGlobals,
    name,
    store: () => store,
    newRecord,
  }

  describe(`${name} (store contract)`, () => {
    beforeEach(async () => {
      store = await makeStore()
    })
    afterEach(async () => {
      await options.close?.(store)
    })

    it('gives back what it was given, with every value through a JSON round trip', async () => {
      const values = new Map<string, JsonValue>([
        ['text', 'héllo ✓'],
        ['number', 1.5],
        ['zero', 0],
        ['flag', false],
        ['nothing', null],
        ['list', [1, 'two', { three: [3] }]],
        ['nested', { a: { b: { c: 'd' } } }],
        ['__proto__', { polluted: true }],
        ['constructor', 'still a value'],
        ['', 'empty key'],
      ])
      const record = newRecord({ values })
      await store.create(record)
      const read = await store.get(record.id)
      expect(read && Object.fromEntries(read.values)).toEqual(Object.fromEntries(values))
      expect(read?.uid).toBe(record.uid)
      expect(read?.tokenHash).toBe(record.tokenHash)
      expect(read?.createdAt).toBe(record.createdAt)
      expect(read?.ended).toBeUndefined()
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('resolves undefined for an unknown id', async () => {
      expect(await store.get(newId('nobody'))).toBeUndefined()
    })

    it('slides lastActiveAt on every read', async () => {
      const record = newRecord({ lastActiveAt: Date.now() - 60_000 })
      await store.create(record)
      const read = await store.get(record.id)
      expect(read?.lastActiveAt).toBeGreaterThanOrEqual(record.lastActiveAt + 60_000 - 1000)
    })

    it('applies only the changed keys, so writes of two requests to different keys both stay', async () => {
      const record = newRecord({
        values: new Map<string, JsonValue>([
          ['a', 1],
          ['b', 2],
          ['c', 3],
        ]),
      })
      await store.create(record)
      expect(await store.update(record.id, { set: new Map([['a', 10]]) })).toBe(true)
      expect(await store.update(record.id, { set: new Map([['d', 4]]), unset: ['c'] })).toBe(true)
      expect(await valuesOf(record.id)).toEqual({ a: 10, b: 2, d: 4 })
    })

    it('keeps every key of concurrent updates to different keys', async () => {
      const record = newRecord({ values: new Map() })
      await store.create(record)
      const keys = Array.from({ length: 20 }, (_, index) => `key${index}`)
      await Promise.all(keys.map((key, index) => store.update(record.id, { set: new Map([[key, index]]) })))
      expect(await valuesOf(record.id)).toEqual(Object.fromEntries(keys.map((key, index) => [key, index])))
    })

    it('never recreates a deleted session through a late update', async () => {
      const record = newRecord()
      await store.create(record)
      await store.delete(record.id)
      expect(await store.update(record.id, { set: new Map([['late', true]]) })).toBe(false)
      expect(await store.get(record.id)).toBeUndefined()
    })

    it('refuses an update of an id it never had', async () => {
      const id = newId('nobody')
      expect(await store.update(id, { set: new Map([['x', 1]]) })).toBe(false)
      expect(await store.get(id)).toBeUndefined()
    })

    it('treats deleting an unknown id as a no-op', async () => {
      await store.delete(newId('nobody'))
      expect(await store.get(newId('nobody'))).toBeUndefined()
    })

    it('rotates the token hash and keeps the replaced one with its deadline', async () => {
      const record = newRecord()
      await store.create(record)
      const previousTokenExpiresAt = Date.now() + 30_000
      const token = { tokenHash: 'new-hash', replaces: record.tokenHash, previousTokenExpiresAt }
      expect(await store.update(record.id, { token })).toBe(true)
      const read = await store.get(record.id)
      expect([read?.tokenHash, read?.previousTokenHash, read?.previousTokenExpiresAt]).toEqual([
        'new-hash',
        record.tokenHash,
        previousTokenExpiresAt,
      ])
      expect(read && Object.fromEntries(read.values)).toEqual({ username: 'test' })
    })

    it('rotates the token hash only while the hash it replaces is current', async () => {
      const record = newRecord()
      await store.create(record)
      const first = {
        tokenHash: 'first-hash',
        replaces: record.tokenHash,
        previousTokenExpiresAt: Date.now() + 30_000,
      }
      const second = { tokenHash: 'second-hash', replaces: record.tokenHash }
      expect(await store.update(record.id, { token: first })).toBe(true)
      expect(await store.update(record.id, { set: new Map([['lost', true]]), token: second })).toBe(false)
      const read = await store.get(record.id)
      expect([read?.tokenHash, read?.previousTokenHash, read?.values.has('lost')]).toEqual([
        'first-hash',
        record.tokenHash,
        false,
      ])
    })

    it('drops the replaced hash when the rotation keeps none', async () => {
      const record = newRecord()
      await store.create(record)
      const kept = {
        tokenHash: 'kept-hash',
        replaces: record.tokenHash,
        previousTokenExpiresAt: Date.now() + 30_000,
      }
      expect(await store.update(record.id, { token: kept })).toBe(true)
      expect(
        await store.update(record.id, { token: { tokenHash: 'only-hash', replaces: 'kept-hash' } }),
      ).toBe(true)
      const read = await store.get(record.id)
      expect([read?.tokenHash, read?.previousTokenHash]).toEqual(['only-hash', undefined])
    })

    it('never serves a session past its idle deadline', async () => {
      const past = Date.now() - (HOUR + 5) * 1000
      const record = newRecord({ createdAt: past, lastActiveAt: past })
      await store.create(record)
      const read = await store.get(record.id)
      expect(read === undefined || read.ended === 'expired').toBe(true)
      expect(await store.update(record.id, { set: new Map([['late', true]]) })).toBe(false)
    })

    it('never serves a session past its lifetime, however active', async () => {
      const record = newRecord({ createdAt: Date.now() - 61_000, lifetime: 60 })
      await store.create(record)
      const read = await store.get(record.id)
      expect(read === undefined || read.ended === 'expired').toBe(true)
    })

    it('keeps a session with no idle expiry (maxAge 0) alive', async () => {
      const longAgo = Date.now() - 400 * 24 * HOUR * 1000
      const record = newRecord({ createdAt: longAgo, lastActiveAt: longAgo, maxAge: 0 })
      await store.create(record)
      expect((await store.get(record.id))?.ended).toBeUndefined()
    })

    describeAroundLoginContract(context)
    if (options.perUser === false) return
    describePerUserContract(context)
  })
}
