import { Redis } from 'ioredis'
import { randomId } from '../../../lib/core/token'
import { sessionKey } from '../../../lib/stores/redis/key-layout'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import { sampleRecord } from '../../../lib/stores/testing'
import { hasRedisServer, RedisServer, sleep } from '../../support/redis-server'

/** A master and its replica, started by the tests, so they need redis-server on PATH. */
const describeReplicas = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

/** The timeout of the stores below, plus a generous margin for a loaded machine. */
const TIMEOUT = 500
const BOUND = TIMEOUT + 2000

describeReplicas('RedisStore with waitForReplicas', () => {
  let master: RedisServer
  let replica: RedisServer

  beforeAll(async () => {
    master = await RedisServer.start()
    replica = await RedisServer.start({ config: [`replicaof 127.0.0.1 ${master.port}`] })
    const client = new Redis(replica.url)
    try {
      while (!(await client.info('replication')).includes('master_link_status:up')) await sleep(20)
    } finally {
      client.disconnect()
    }
  }, 30_000)
  afterAll(async () => {
    replica?.resume()
    await replica?.stop()
    await master?.stop()
  })

  it('reports a write done once a replica has it, and each step still works', async () => {
    const store = new RedisStore(master.url, { prefix: 'durable', waitForReplicas: 1 })
    const onReplica = new Redis(replica.url)
    try {
      const uid = `user-${randomId()}`
      const record = sampleRecord(store, { uid })
      await store.create(record)
      expect(await store.update(record.id, { set: new Map([['n', 1]]) })).toBe(true)
      // done means on the replica: asked right after, it already holds the write
      expect(await onReplica.hget(sessionKey('durable', record.id), 'v:n')).toBe('1')
      const second = sampleRecord(store, { uid })
      await store.create(second, { replaceOthers: true })
      expect((await store.get(record.id))?.ended).toBe('replaced')
      expect(await store.deleteAll(uid)).toBe(1)
      await store.delete(record.id)
    } finally {
      await store.close()
      onReplica.disconnect()
    }
  })

  it('fails a write with 210 within its timeout when no replica acknowledges it, and reads go on', async () => {
    const store = new RedisStore(master.url, { prefix: 'durable', waitForReplicas: 1, timeout: TIMEOUT })
    try {
      const record = sampleRecord(store)
      await store.create(record)
      replica.pause()
      const started = Date.now()
      await expect(store.update(record.id, { set: new Map([['n', 2]]) })).rejects.toMatchObject({ code: 210 })
      await expect(store.create(sampleRecord(store))).rejects.toMatchObject({ code: 210 })
      expect(Date.now() - started).toBeLessThan(2 * BOUND)
      expect((await store.get(record.id))?.uid).toBe(record.uid)
    } finally {
      replica.resume()
      await sleep(100)
      await store.close()
    }
  })

  it('is refused at construction unless a whole number >= 0', () => {
    for (const waitForReplicas of [-1, 0.5, Number.NaN])
      expect(() => new RedisStore(master.url, { waitForReplicas })).toThrow(/option waitForReplicas/)
  })
})
