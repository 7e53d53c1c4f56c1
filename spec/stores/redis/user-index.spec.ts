import { Redis } from 'ioredis'
import { randomId } from '../../../lib/core/token'
import { indexKey, retiredKey, sessionKey, userHandle } from '../../../lib/stores/redis/key-layout'
import type { RedisStoreOptions } from '../../../lib/stores/redis/redis-options'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import { STORE_SCRIPTS } from '../../../lib/stores/redis/scripts'
import { CHUNK } from '../../../lib/stores/redis/session-scripts'
import type { SessionEvent, SessionRecord } from '../../../lib/stores/store'
import { sampleRecord } from '../../../lib/stores/testing'
import { CountingProxy, type RedisUnderTest, sleep, useRedis } from '../../support/redis-server'

let redis: RedisUnderTest
let raw: Redis

beforeAll(async () => {
  redis = await useRedis()
  raw = new Redis(redis.url)
}, 30_000)

afterAll(async () => {
  await raw?.quit()
  await redis?.stop()
})

describe('RedisStore: the index admits a uid’s sessions', () => {
  let store: RedisStore
  let prefix: string
  let uid: string
  const indexOf = (of = uid) => indexKey(prefix, userHandle(prefix, of))
  const open = (options: RedisStoreOptions = {}) => {
    prefix = redis.nextPrefix()
    store = new RedisStore(redis.url, { prefix, ...options })
    return store
  }
  /** `count` sessions of `uid`, created 100 at a time (so that a loaded machine still answers each within the timeout). */
  const sessionsOf = async (count: number, of = uid): Promise<SessionRecord[]> => {
    const records = Array.from({ length: count }, () => sampleRecord(store, { uid: of }))
    for (let from = 0; from < count; from += 100)
      await Promise.all(records.slice(from, from + 100).map((record) => store.create(record)))
    return records
  }
  const admitted = async (records: SessionRecord[]) => {
    const reads = await Promise.all(records.map((record) => store.get(record.id)))
    return reads.filter((read) => read !== undefined && read.ended === undefined).length
  }

  beforeEach(() => {
    uid = `user-${randomId()}`
  })
  afterEach(() => store.close())

  it('refuses every session deleteAll is ending from its first step on, before their keys are deleted', async () => {
    open({ maxSessionsPerUser: 0 })
    const records = await sessionsOf(500)
    // the first step of deleteAll alone, as when the process dies after it
    const retired = retiredKey(prefix, userHandle(prefix, uid), 'interrupted')
    await raw.eval(STORE_SCRIPTS.deleteAll.lua, 2, indexOf(), retired, '')
    expect(await raw.exists(...records.map((record) => sessionKey(prefix, record.id)))).toBe(500)
    expect(await admitted(records)).toBe(0)
    expect(await store.update(records[0]!.id, { set: new Map([['late', true]]) })).toBe(false)
    expect(await store.list(uid)).toEqual([])
  })

  it('ends 1,000 sessions of one uid in chunks of CHUNK (100), every key of theirs gone at the end', async () => {
    const proxy = await CountingProxy.start(redis.url)
    prefix = redis.nextPrefix()
    store = new RedisStore(proxy.url, { prefix, maxSessionsPerUser: 0 })
    try {
      const kept = sampleRecord(store, { uid })
      await store.create(kept)
      const records = await sessionsOf(1000)
      const destroyed: string[] = []
      store.on('destroyed', ({ id }) => destroyed.push(id))
      proxy.reset()
      expect(await store.deleteAll(uid, { except: kept.id })).toBe(1000)
      expect(proxy.roundTrips).toBe(1 + 1000 / CHUNK)
      expect(destroyed.sort()).toEqual(records.map((record) => record.id).sort())
      expect(await raw.keys(`${prefix}:*`)).toEqual(
        expect.arrayContaining([sessionKey(prefix, kept.id), indexOf()]),
      )
      expect((await raw.keys(`${prefix}:*`)).length).toBe(2)
      expect((await store.list(uid)).map((summary) => summary.id)).toEqual([kept.id])
    } finally {
      await store.close()
      await proxy.close()
    }
  })

  it('ends a uid’s sessions when their index is lost (as eviction loses it), never frees them', async () => {
    open()
    const records = await sessionsOf(5)
    await raw.del(indexOf())
    expect(await admitted(records)).toBe(0)
    expect(await store.deleteAll(uid)).toBe(0)
    const fresh = sampleRecord(store, { uid })
    await store.create(fresh)
    expect([await admitted(records), await admitted([fresh])]).toEqual([0, 1])
    expect((await store.list(uid)).map((summary) => summary.id)).toEqual([fresh.id])
  })

  describe('maxSessionsPerUser', () => {
    it('ends the uid’s session nearest its end at a login past it, and deletes its key, never another uid’s', async () => {
      open({ maxSessionsPerUser: 3 })
      const evicted: SessionEvent[] = []
      store.on('evicted', (event) => evicted.push(event))
      const other = sampleRecord(store, { uid: `other-${randomId()}` })
      await store.create(other)
      // one maxAge: the nearest deadline is the least recent activity
      const records = [30, 10, 20].map((minutes) =>
        sampleRecord(store, { uid, lastActiveAt: Date.now() - minutes * 60_000 }),
      )
      for (const record of records) await store.create(record)
      const fourth = sampleRecord(store, { uid })
      await store.create(fourth)
      expect(evicted).toEqual([{ id: records[0]!.id, uid, reason: 'per-user limit' }])
      expect(await store.get(records[0]!.id)).toBeUndefined()
      for (let attempt = 0; attempt < 50 && (await raw.exists(sessionKey(prefix, records[0]!.id))); attempt++)
        await sleep(10)
      expect(await raw.exists(sessionKey(prefix, records[0]!.id))).toBe(0)
      expect(await admitted([...records.slice(1), fourth, other])).toBe(4)
    })

    it('holds 100 sessions a uid by default, and any number with 0', async () => {
      open()
      await sessionsOf(130)
      expect((await store.list(uid)).length).toBe(100)
      await store.close()
      open({ maxSessionsPerUser: 0 })
      await sessionsOf(130)
      expect((await store.list(uid)).length).toBe(130)
    })

    it('is refused at construction unless a whole number >= 0', () => {
      open()
      for (const maxSessionsPerUser of [-1, 2.5, Number.NaN])
        expect(() => new RedisStore(redis.url, { maxSessionsPerUser })).toThrow(/option maxSessionsPerUser/)
    })
  })
})
