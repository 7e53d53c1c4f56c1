import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { isSessionError } from '../../../lib/core/errors'
import { randomId } from '../../../lib/core/token'
import type { JsonValue } from '../../../lib/core/values'
import { indexKey, sessionKey, userHandle } from '../../../lib/stores/redis/key-layout'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import type { SessionEvent } from '../../../lib/stores/store'
import { describeStoreContract, sampleRecord } from '../../../lib/stores/testing'
import {
  CountingProxy,
  hasRedisServer,
  RedisServer,
  type RedisUnderTest,
  sleep,
  useRedis,
} from '../../support/redis-server'

const run = promisify(execFile)
const HOUR = 3600
/** The store's default timeout plus a generous margin for a loaded machine. */
const BOUND = 2500

let redis: RedisUnderTest
/** A client of our own for looking at what the store wrote. */
let raw: Redis

beforeAll(async () => {
  redis = await useRedis()
  raw = new Redis(redis.url)
}, 30_000)

afterAll(async () => {
  await raw?.quit()
  await redis?.stop()
})

describeStoreContract('RedisStore', () => new RedisStore(redis.url, { prefix: redis.nextPrefix() }), {
  close: (store) => store.close(),
})

describeStoreContract(
  'RedisStore with ids it did not make',
  () => new RedisStore(redis.url, { prefix: redis.nextPrefix() }),
  { close: (store) => store.close(), createId: () => randomId() },
)

const newRecord = sampleRecord

/** Whether `actual` lies within `tolerance` below `expected` (a TTL counts down while we look). */
function near(actual: number, expected: number, tolerance = 2000): boolean {
  return actual <= expected && actual > expected - tolerance
}

describe('RedisStore', () => {
  let store: RedisStore
  let prefix: string
  const keyOf = (id: string) => sessionKey(prefix, id)
  const indexOf = (uid: string) => indexKey(prefix, userHandle(prefix, uid))

  beforeEach(() => {
    prefix = redis.nextPrefix()
    store = new RedisStore(redis.url, { prefix })
  })
  afterEach(() => store.close())

  describe('key layout', () => {
    it('keeps a session in one hash, values under v: and metadata under m:, so no key collides', async () => {
      const record = newRecord(store, {
        values: new Map<string, JsonValue>([
          ['m:uid', 'not the uid'],
          ['', 1],
          ['__proto__', { a: 1 }],
        ]),
      })
      await store.create(record)
      const hash = await raw.hgetall(keyOf(record.id))
      expect(Object.keys(hash).sort()).toEqual(
        [
          'm:active',
          'm:created',
          'm:life',
          'm:maxAge',
          'm:tok',
          'm:uid',
          'v:',
          'v:__proto__',
          'v:m:uid',
        ].sort(),
      )
      expect([hash['m:uid'], hash['v:m:uid'], hash['v:__proto__']]).toEqual([
        record.uid,
        '"not the uid"',
        '{"a":1}',
      ])
      expect((await store.get(record.id))?.uid).toBe(record.uid)
    })

    it('makes ids of the handle of the uid and 128 random bits, and keys that never hold the uid in clear', async () => {
      const uid = 'alice@example.com'
      const [first, second] = [store.createId(uid), store.createId(uid)]
      expect(first).toMatch(/^[A-Za-z0-9_-]{38}$/)
      expect(first.slice(0, 16)).toBe(second.slice(0, 16))
      expect(first).not.toBe(second)
      expect(first.toLowerCase().includes('alice')).toBe(false)
      expect(keyOf(first)).toBe(`${prefix}:{${first.slice(0, 16)}}:s:${first}`)
      expect(indexOf(uid)).toBe(`${prefix}:{${first.slice(0, 16)}}:u`)
      await store.create(newRecord(store, { uid }))
      expect((await raw.keys(`${prefix}:*`)).filter((key) => key.includes('alice'))).toEqual([])
    })

    it('keeps an anonymous session in its hash alone, with an expiry and no index, slid by reads', async () => {
      const { uid: _uid, ...signedIn } = newRecord(store, { lastActiveAt: Date.now() - 5000 })
      const record = { ...signedIn, id: randomId() }
      await store.create(record)
      expect(await raw.keys(`${prefix}:*`)).toEqual([keyOf(record.id)])
      expect((await raw.hgetall(keyOf(record.id)))['m:uid']).toBe('')
      const before = await raw.pexpiretime(keyOf(record.id))
      expect(before).toBe(record.lastActiveAt + HOUR * 1000)
      expect((await store.get(record.id))?.uid).toBeUndefined()
      expect(await raw.pexpiretime(keyOf(record.id))).toBeGreaterThan(before)
      await store.delete(record.id)
      expect(await raw.keys(`${prefix}:*`)).toEqual([])
    })

    it('keeps where a login was made and whether its cookie persists as metadata, never among the values', async () => {
      const record = newRecord(store, { persistent: false, userAgent: 'curl/8.5', address: '::1' })
      await store.create(record)
      const hash = await raw.hgetall(keyOf(record.id))
      expect([hash['m:persist'], hash['m:ua'], hash['m:addr']]).toEqual(['0', 'curl/8.5', '::1'])
      const read = await store.get(record.id)
      expect([read?.persistent, [...(read?.values.keys() ?? [])]]).toEqual([false, ['username']])
    })

    it('indexes the sessions of a user in a sorted set scored by deadline, those that never end last', async () => {
      const uid = `user-${randomId()}`
      const record = newRecord(store, { uid, lastActiveAt: Date.now() - 5000 })
      const endless = newRecord(store, { uid, maxAge: 0 })
      await store.create(record)
      await store.create(endless)
      expect(await raw.zrange(indexOf(uid), 0, -1, 'WITHSCORES')).toEqual([
        record.id,
        String(record.lastActiveAt + HOUR * 1000),
        endless.id,
        String(2 ** 52 + endless.lastActiveAt),
      ])
    })

    it('writes and deletes thousands of keys of one session in one call', async () => {
      const many = (count: number, from = 0) =>
        Array.from(
          { length: count },
          (_, index) => [`key${from + index}`, from + index] as [string, JsonValue],
        )
      const record = newRecord(store, { values: new Map(many(4500)) })
      await store.create(record)
      const unset = many(1200).map(([key]) => key)
      expect(await store.update(record.id, { set: new Map(many(4500, 4500)), unset })).toBe(true)
      const read = await store.get(record.id)
      expect(read && Object.fromEntries(read.values)).toEqual(Object.fromEntries(many(7800, 1200)))
    })

    it.each([
      ['its own client', (url: string) => url],
      ['a client it was given', (url: string) => new Redis(url)],
    ])('sends its scripts again to a Redis that forgot them (SCRIPT FLUSH), on %s', async (_, clientOf) => {
      const own = await RedisServer.start()
      const client = new Redis(own.url)
      const given = clientOf(own.url)
      const forgetful = new RedisStore(given, { prefix })
      try {
        const record = newRecord(forgetful)
        await forgetful.create(record)
        // each script has run on this connection, so from here on the store sends only its SHA-1
        await forgetful.update(record.id, { set: new Map([['before', 1]]) })
        await forgetful.get(record.id)
        await client.script('FLUSH')
        expect(await forgetful.update(record.id, { set: new Map([['after', 1]]) })).toBe(true)
        expect((await forgetful.get(record.id))?.values.get('after')).toBe(1)
      } finally {
        await forgetful.close()
        if (typeof given !== 'string') await given.quit()
        await client.quit()
        await own.stop()
      }
    })

    it('honours the keyPrefix of a client it is given', async () => {
      const client = new Redis(redis.url, { keyPrefix: `${prefix}-client:` })
      const prefixed = new RedisStore(client, { prefix })
      try {
        const record = newRecord(prefixed)
        await prefixed.create(record)
        expect(await raw.exists(`${prefix}-client:${keyOf(record.id)}`)).toBe(1)
        expect(await raw.exists(`${prefix}-client:${indexOf(record.uid)}`)).toBe(1)
        expect((await prefixed.list(record.uid)).map((summary) => summary.id)).toEqual([record.id])
        await prefixed.delete(record.id)
        expect(await raw.exists(`${prefix}-client:${indexOf(record.uid)}`)).toBe(0)
      } finally {
        await client.quit()
      }
    })
  })

  describe('constants written into the scripts', () => {
    it('keeps ids, prefixes and key prefixes of any spelling apart, the id read back from its key', async () => {
      // quotes, a backslash, a newline and non-ASCII in the prefix, and a key prefix with '}' in it
      const oddPrefix = `${redis.nextPrefix()}'"\\\nü`
      const client = new Redis(redis.url, { keyPrefix: 'kp}:s:' })
      const odd = new RedisStore(client, { prefix: oddPrefix })
      try {
        const uid = 'user-odd'
        for (const id of ['we}ird:s:id', 'plain-but-short', '{}:s:{}']) {
          const record = newRecord(odd, { id, uid })
          await odd.create(record)
          expect(await raw.exists(`kp}:s:${sessionKey(oddPrefix, id)}`)).toBe(1)
          expect((await odd.get(id))?.id).toBe(id)
          expect(await odd.update(id, { set: new Map([['n', 1]]) })).toBe(true)
          expect((await odd.get(id))?.values.get('n')).toBe(1)
        }
        expect((await odd.list(uid)).map((summary) => summary.id).sort()).toEqual(
          ['plain-but-short', 'we}ird:s:id', '{}:s:{}'].sort(),
        )
        await odd.delete('we}ird:s:id')
        expect(await raw.zcard(`kp}:s:${indexKey(oddPrefix, userHandle(oddPrefix, uid))}`)).toBe(2)
        expect((await odd.list(uid)).map((summary) => summary.id).sort()).toEqual([
          'plain-but-short',
          '{}:s:{}',
        ])
      } finally {
        await odd.close()
        await client.quit()
      }
    })
  })

  describe('round trips', () => {
    it('costs one round trip for each of create, get, update and delete; list and deleteAll one more a chunk', async () => {
      const proxy = await CountingProxy.start(redis.url)
      const counted = new RedisStore(proxy.url, { prefix })
      try {
        await counted.ready()
        const tripsOf = async (operation: () => Promise<unknown>) => {
          proxy.reset()
          await operation()
          return proxy.roundTrips
        }
        await counted.list('nobody')
        const record = newRecord(counted)
        const other = newRecord(counted, { uid: record.uid })
        const trips = {
          create: await tripsOf(() => counted.create(record)),
          get: await tripsOf(() => counted.get(record.id)),
          getAgain: await tripsOf(() => counted.get(record.id)),
          update: await tripsOf(() =>
            counted.update(record.id, {
              set: new Map<string, JsonValue>([['a', 1]]),
              unset: ['username'],
              token: { tokenHash: 'rotated', replaces: record.tokenHash, previousTokenExpiresAt: 1 },
            }),
          ),
          emptyUpdate: await tripsOf(() => counted.update(record.id, {})),
          replacingCreate: await tripsOf(() => counted.create(other, { replaceOthers: true })),
          list: await tripsOf(() => counted.list(record.uid)),
          deleteAll: await tripsOf(() => counted.deleteAll(record.uid)),
          delete: await tripsOf(() => counted.delete(record.id)),
        }
        // replacing, listing and deleting all: one step that names the uid's sessions, then a chunk of up to 100
        expect(trips).toEqual({
          create: 1,
          get: 1,
          getAgain: 1,
          update: 1,
          emptyUpdate: 1,
          replacingCreate: 2,
          list: 2,
          deleteAll: 2,
          delete: 1,
        })
      } finally {
        await counted.close()
        await proxy.close()
      }
    })

    it('loads its scripts again after a SCRIPT FLUSH', async () => {
      if (redis.server === undefined) return // never flush the scripts of a shared REDIS_URL
      const record = newRecord(store)
      await store.create(record)
      await raw.script('FLUSH')
      expect((await store.get(record.id))?.uid).toBe(record.uid)
      expect(await store.update(record.id, { set: new Map([['a', 1]]) })).toBe(true)
    })

    it('counts each request-and-answer as a round trip (the proxy itself)', async () => {
      const proxy = await CountingProxy.start(redis.url)
      const client = new Redis(proxy.url)
      try {
        await client.ping()
        proxy.reset()
        await client.ping()
        await client.ping()
        await Promise.all([client.ping(), client.ping()])
        expect(proxy.roundTrips).toBe(3)
      } finally {
        await client.quit()
        await proxy.close()
      }
    })
  })

  describe('expiry', () => {
    it('sets the TTL to the idle deadline and slides it on every get', async () => {
      const record = newRecord(store, { lastActiveAt: Date.now() - 1000_000 })
      await store.create(record)
      expect(near(await raw.pttl(keyOf(record.id)), (HOUR - 1000) * 1000)).toBe(true)
      await store.get(record.id)
      expect(near(await raw.pttl(keyOf(record.id)), HOUR * 1000)).toBe(true)
      expect(Number(await raw.hget(keyOf(record.id), 'm:active'))).toBeGreaterThan(record.lastActiveAt)
    })

    it('restores a lost TTL on the next read', async () => {
      const record = newRecord(store)
      await store.create(record)
      await raw.persist(keyOf(record.id))
      await store.get(record.id)
      expect(near(await raw.pttl(keyOf(record.id)), HOUR * 1000)).toBe(true)
    })

    it('caps the TTL at the absolute lifetime, however active the session', async () => {
      const record = newRecord(store, { createdAt: Date.now() - 10_000, lifetime: 60 })
      await store.create(record)
      expect(near(await raw.pttl(keyOf(record.id)), 50_000)).toBe(true)
      await store.get(record.id)
      expect(near(await raw.pttl(keyOf(record.id)), 50_000)).toBe(true)
    })

    it('keeps no TTL on a session that never expires', async () => {
      const record = newRecord(store, { maxAge: 0 })
      await store.create(record)
      expect(await raw.pttl(keyOf(record.id))).toBe(-1)
    })

    it('gives the user index the TTL of its longest session, and none while one never expires', async () => {
      const uid = `user-${randomId()}`
      await store.create(newRecord(store, { uid, maxAge: 60 }))
      expect(near(await raw.pttl(indexOf(uid)), 60_000)).toBe(true)
      const longer = newRecord(store, { uid, maxAge: HOUR })
      await store.create(longer)
      expect(near(await raw.pttl(indexOf(uid)), HOUR * 1000)).toBe(true)
      const endless = newRecord(store, { uid, maxAge: 0 })
      await store.create(endless)
      expect(await raw.pttl(indexOf(uid))).toBe(-1)
      await store.delete(endless.id)
      await store.delete(longer.id)
      await store.list(uid)
      expect(near(await raw.pttl(indexOf(uid)), 60_000)).toBe(true)
    })

    it('extends the user index TTL when a get slides a session past it', async () => {
      const uid = `user-${randomId()}`
      const record = newRecord(store, { uid, lastActiveAt: Date.now() - 1000_000 })
      await store.create(record)
      expect(near(await raw.pttl(indexOf(uid)), (HOUR - 1000) * 1000)).toBe(true)
      await store.get(record.id)
      expect(near(await raw.pttl(indexOf(uid)), HOUR * 1000)).toBe(true)
    })

    it('ends a session past its idle deadline by its own metadata, even when its TTL was lost', async () => {
      const record = newRecord(store)
      await store.create(record)
      await raw.hset(keyOf(record.id), 'm:active', String(Date.now() - (HOUR + 5) * 1000))
      await raw.persist(keyOf(record.id))
      const expired: SessionEvent[] = []
      store.on('expired', (event) => expired.push(event))
      const read = await store.get(record.id)
      expect(read === undefined || read.ended === 'expired').toBe(true)
      expect(expired).toEqual([{ id: record.id, uid: record.uid }])
      expect(await raw.exists(keyOf(record.id))).toBe(0)
      expect(await raw.zscore(indexOf(record.uid), record.id)).toBeNull()
    })

    it('ends a session past its lifetime by its own metadata, even when its TTL was lost', async () => {
      const record = newRecord(store, { lifetime: 60 })
      await store.create(record)
      await raw.hset(keyOf(record.id), 'm:created', String(Date.now() - 61_000))
      await raw.persist(keyOf(record.id))
      expect(await store.update(record.id, { set: new Map([['late', true]]) })).toBe(false)
      expect(await raw.exists(keyOf(record.id))).toBe(0)
      expect(await store.list(record.uid)).toEqual([])
    })
  })

  describe('user index', () => {
    it('drops ids whose session is gone when listing', async () => {
      const uid = `user-${randomId()}`
      const records = [3, 2, 1].map((age) => newRecord(store, { uid, createdAt: Date.now() - age * 1000 }))
      for (const record of records) await store.create(record)
      await raw.del(keyOf(records[0]!.id))
      expect(await raw.zcard(indexOf(uid))).toBe(3)
      expect((await store.list(uid)).map((summary) => summary.id)).toEqual([records[1]!.id, records[2]!.id])
      expect(await raw.zcard(indexOf(uid))).toBe(2)
    })

    it('drops the entries of ended sessions at a login, by their deadline alone', async () => {
      const uid = `user-${randomId()}`
      const live = newRecord(store, { uid })
      await store.create(live)
      // entries whose deadline has passed, as sessions that ended by time leave them
      await raw.zadd(indexOf(uid), Date.now() - 1000, 'ended-1', Date.now() - 10, 'ended-2')
      await store.create(newRecord(store, { uid }))
      expect((await raw.zrange(indexOf(uid), 0, -1)).includes('ended-1')).toBe(false)
      expect(await raw.zcard(indexOf(uid))).toBe(2)
      expect(await raw.zscore(indexOf(uid), live.id)).not.toBeNull()
    })

    it('leaves replaced markers without values, outside the index, with their remaining TTL', async () => {
      const uid = `user-${randomId()}`
      const old = newRecord(store, { uid, lastActiveAt: Date.now() - 1000_000 })
      await store.create(old)
      await store.create(newRecord(store, { uid }), { replaceOthers: true })
      const marker = await raw.hgetall(keyOf(old.id))
      expect([marker['m:ended'], Object.keys(marker).some((field) => field.startsWith('v:'))]).toEqual([
        'replaced',
        false,
      ])
      expect(near(await raw.pttl(keyOf(old.id)), (HOUR - 1000) * 1000)).toBe(true)
      expect(await raw.zscore(indexOf(uid), old.id)).toBeNull()
      const read = await store.get(old.id)
      expect([read?.ended, read?.values.size, read?.uid]).toEqual(['replaced', 0, uid])
    })

    it('replaces the sessions of a user with markers through deleteAll({ replaced: true })', async () => {
      const uid = `user-${randomId()}`
      const [kept, other] = [newRecord(store, { uid }), newRecord(store, { uid })]
      await store.create(kept)
      await store.create(other)
      expect(await store.deleteAll(uid, { except: kept.id, replaced: true })).toBe(1)
      expect((await store.get(other.id))?.ended).toBe('replaced')
      expect(await store.update(other.id, { set: new Map([['late', true]]) })).toBe(false)
      expect((await store.get(kept.id))?.ended).toBeUndefined()
    })
  })

  describe('concurrency', () => {
    it('keeps the keys that two clients write to one session', async () => {
      const second = new RedisStore(redis.url, { prefix })
      try {
        const record = newRecord(store, { values: new Map() })
        await store.create(record)
        await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 ? store : second).update(record.id, { set: new Map([[`key${index}`, index]]) }),
          ),
        )
        const read = await store.get(record.id)
        expect(read && Object.fromEntries(read.values)).toEqual(
          Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`key${index}`, index])),
        )
      } finally {
        await second.close()
      }
    })

    it('never resurrects a session when a delete races an update', async () => {
      const second = new RedisStore(redis.url, { prefix })
      try {
        const records = Array.from({ length: 20 }, () => newRecord(store))
        for (const record of records) await store.create(record)
        await Promise.all(
          records.map((record) =>
            Promise.all([
              second.update(record.id, { set: new Map([['late', true]]) }),
              store.delete(record.id),
              second.update(record.id, { set: new Map([['later', true]]) }),
            ]),
          ),
        )
        for (const record of records) {
          expect(await raw.exists(keyOf(record.id))).toBe(0)
          expect(await store.get(record.id)).toBeUndefined()
        }
      } finally {
        await second.close()
      }
    })
  })

  describe('events', () => {
    it('emits created, destroyed and expired with the ids of the session', async () => {
      const events: [string, SessionEvent][] = []
      for (const name of ['created', 'destroyed', 'expired', 'evicted'] as const)
        store.on(name, (event) => events.push([name, event]))
      const uid = `user-${randomId()}`
      const [first, second, third] = [
        newRecord(store, { uid }),
        newRecord(store, { uid }),
        newRecord(store, { uid }),
      ]
      await store.create(first)
      await store.create(second, { replaceOthers: true })
      await store.delete(second.id)
      await store.create(third)
      await raw.hset(keyOf(third.id), 'm:active', '0')
      await store.get(third.id)
      expect(events).toEqual([
        ['created', { id: first.id, uid }],
        ['destroyed', { id: first.id, uid }],
        ['created', { id: second.id, uid }],
        ['destroyed', { id: second.id, uid }],
        ['created', { id: third.id, uid }],
        ['expired', { id: third.id, uid }],
      ])
    })
  })

  describe('clients', () => {
    it('never closes a client it was given', async () => {
      const client = new Redis(redis.url)
      try {
        const given = new RedisStore(client, { prefix })
        const record = newRecord(given)
        await given.create(record)
        await given.close()
        expect(await client.ping()).toBe('PONG')
        expect((await given.get(record.id))?.uid).toBe(record.uid)
      } finally {
        await client.quit()
      }
    })

    it('closes the client it opened, safely twice, and then fails calls with 210', async () => {
      await store.get(randomId())
      await Promise.all([store.close(), store.close()])
      await store.close()
      await expect(store.get(randomId())).rejects.toMatchObject({ code: 210, error: 'STORE_UNAVAILABLE' })
    })

    it('refuses bad options at construction', () => {
      expect(() => new RedisStore(redis.url, { prefix: '{app}' })).toThrow(TypeError)
      expect(() => new RedisStore(redis.url, { timeout: 0 })).toThrow(TypeError)
      expect(() => new RedisStore('localhost:6379')).toThrow(TypeError)
    })
  })
})

/**
 * Outage tests control a server process, so they start their own even when REDIS_URL is set; only
 * with REDIS_URL and no redis-server on PATH are they skipped.
 */
const describeOutage = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

describeOutage('RedisStore while Redis is away', () => {
  let server: RedisServer
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)

  beforeAll(async () => {
    server = await RedisServer.start()
    process.on('unhandledRejection', onUnhandled)
  }, 30_000)
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await server?.stop()
  })
  afterEach(async () => {
    server.resume()
    await sleep(50)
    expect(unhandled).toEqual([])
  })

  /** Runs each call, expecting every one to fail with 210 within the bound. */
  async function expectUnavailable(calls: (() => Promise<unknown>)[]): Promise<void> {
    const started = Date.now()
    const results = await Promise.allSettled(calls.map((call) => call()))
    const elapsed = Date.now() - started
    for (const result of results) {
      expect(result.status).toBe('rejected')
      if (result.status === 'rejected') expect(isSessionError(result.reason, 'STORE_UNAVAILABLE')).toBe(true)
    }
    expect(elapsed).toBeLessThan(BOUND)
  }

  /** Retries `call` until it succeeds, for as long as a reconnect may take. */
  async function eventually<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 8000
    for (;;) {
      try {
        return await call()
      } catch (error) {
        if (Date.now() > deadline) throw error
        await sleep(100)
      }
    }
  }

  /** A store on the test's server, through a client of its own or one it is given, and its cleanup. */
  function openStore(given: boolean): [RedisStore, () => Promise<void>] {
    if (!given) {
      const store = new RedisStore(server.url, { prefix: 'outage' })
      return [store, () => store.close()]
    }
    const client = new Redis(server.url)
    client.on('error', () => {})
    return [new RedisStore(client, { prefix: 'outage' }), async () => client.disconnect()]
  }

  describe.each([
    ['a client it opened', false],
    ['a client it was given (ioredis defaults: offline queue, 20 retries)', true],
  ])('through %s', (_, given) => {
    it('fails within its timeout with 210 while Redis is frozen, and works once it thaws', async () => {
      const [store, close] = openStore(given)
      try {
        const record = newRecord(store)
        await store.create(record)
        server.pause()
        await expectUnavailable([
          () => store.get(record.id),
          () => store.update(record.id, { set: new Map([['a', 1]]) }),
          () => store.create(newRecord(store)),
          () => store.list(record.uid),
        ])
        server.resume()
        expect((await store.get(record.id))?.uid).toBe(record.uid)
      } finally {
        await close()
      }
    })

    it('fails fast with 210 while Redis is dead, and recovers after a restart with no new store', async () => {
      const [store, close] = openStore(given)
      try {
        await store.create(newRecord(store))
        await server.kill()
        await expectUnavailable([() => store.get(randomId()), () => store.delete(randomId())])
        await sleep(300)
        await expectUnavailable([() => store.get(randomId()), () => store.update(randomId(), {})])
        await server.restart()
        const record = newRecord(store)
        await eventually(() => store.create(record))
        expect((await store.get(record.id))?.uid).toBe(record.uid)
      } finally {
        await close()
      }
    })
  })

  it('fails with 210 when Redis was never there', async () => {
    const dead = await RedisServer.start()
    await dead.stop()
    const store = new RedisStore(dead.url)
    try {
      await expectUnavailable([() => store.get(randomId()), () => store.create(newRecord(store))])
      await sleep(300)
      await expectUnavailable([() => store.get(randomId())])
    } finally {
      await store.close()
    }
  })

  it('sends client errors to NODE_DEBUG=cosgo-session, never to the console', async () => {
    const dead = await RedisServer.start()
    await dead.stop()
    // ioredis prints unhandled 'error' events only for errors of its own realm, so not inside Jest
    const program = `
      const { RedisStore } = require('./lib/stores/redis/redis-store')
      const store = new RedisStore('${dead.url}')
      store.get('${randomId()}').then(
        () => console.log('resolved'),
        (error) => { console.log('rejected', error.code); return store.close() },
      )`
    const { stdout, stderr } = await run(
      path.resolve(__dirname, '../../../node_modules/.bin/tsx'),
      ['-e', program],
      {
        cwd: path.resolve(__dirname, '../../..'),
        env: { ...process.env, NODE_DEBUG: 'cosgo-session' },
        timeout: 15_000,
      },
    )
    expect(stdout.trim()).toBe('rejected 210')
    expect(stderr).toMatch(/COSGO-SESSION \d+: redis store: connect ECONNREFUSED/)
    expect(stderr).not.toContain('[ioredis]')
  })
})
