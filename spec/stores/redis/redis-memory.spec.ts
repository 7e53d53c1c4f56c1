import { execFile } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { isSessionError } from '../../../lib/core/errors'
import { sessionKey } from '../../../lib/stores/redis/key-layout'
import { RedisStore, type RedisStoreWarning } from '../../../lib/stores/redis/redis-store'
import type { SessionRecord } from '../../../lib/stores/store'
import { sampleRecord } from '../../../lib/stores/testing'
import { hasRedisServer, RedisServer } from '../../support/redis-server'

/** These tests configure their own servers' memory, so they need redis-server on PATH. */
const describeMemory = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

const run = promisify(execFile)
const root = path.resolve(__dirname, '../../..')
const MAX_MEMORY = 3 * 1024 * 1024
const BLOB = 'x'.repeat(2048)
/** What Redis may hold past maxmemory: the session of the last script it admitted, and client buffers. */
const SLACK = 128 * 1024

/** A server of `MAX_MEMORY` with `policy`, a store on it and a client to look with, for `body`. */
async function withFullRedis(
  policy: string,
  body: (store: RedisStore, raw: Redis, server: RedisServer) => Promise<void>,
  config: string[] = [],
): Promise<void> {
  const server = await RedisServer.start({
    config: [`maxmemory ${MAX_MEMORY}`, `maxmemory-policy ${policy}`, ...config],
  })
  const store = new RedisStore(server.url, { prefix: 'memory', maxSessionsPerUser: 0 })
  const raw = new Redis(server.url)
  try {
    await body(store, raw, server)
  } finally {
    await store.close()
    raw.disconnect()
    await server.stop()
  }
}

async function usedMemory(raw: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1])
}

async function evictedKeys(raw: Redis): Promise<number> {
  return Number(/evicted_keys:(\d+)/.exec(await raw.info('stats'))![1])
}

const large = (store: RedisStore, uid: string) =>
  sampleRecord(store, { uid, values: new Map([['blob', BLOB]]) })

describeMemory('RedisStore on a Redis at maxmemory', () => {
  describe('with noeviction', () => {
    it('refuses new state whole, keeps reading and deleting, and stays within maxmemory', async () => {
      await withFullRedis('noeviction', async (store, raw) => {
        const live: SessionRecord[] = []
        const refused: [unknown, SessionRecord][] = []
        for (let index = 0; index < 5000 && refused.length < 20; index++) {
          const record = large(store, `user-${index % 20}`)
          await store.create(record).then(
            () => live.push(record),
            (error: unknown) => refused.push([error, record]),
          )
        }
        expect(live.length).toBeGreaterThan(100)
        for (const [error, record] of refused) {
          expect(isSessionError(error, 'STORE_UNAVAILABLE')).toBe(true)
          expect(String((error as Error).cause)).toMatch(/^ReplyError: OOM/)
          expect(await raw.exists(sessionKey('memory', record.id))).toBe(0)
        }
        expect(await usedMemory(raw)).toBeLessThan(MAX_MEMORY + SLACK)

        const [reader, writer, leaver] = live as [SessionRecord, SessionRecord, SessionRecord]
        expect((await store.get(reader.id))?.values.get('blob')).toBe(BLOB)
        await expect(store.update(writer.id, { set: new Map([['n', 1]]) })).rejects.toMatchObject({
          code: 210,
        })
        const rotation = { tokenHash: 'rotated', replaces: writer.tokenHash }
        await expect(store.update(writer.id, { token: rotation })).rejects.toMatchObject({ code: 210 })
        const unchanged = await store.get(writer.id)
        expect([unchanged?.values.has('n'), unchanged?.tokenHash]).toEqual([false, writer.tokenHash])

        await store.delete(leaver.id)
        expect(await store.get(leaver.id)).toBeUndefined()
        // Redis's own slack: a script may add its one session past the limit, and client buffers grow
        expect(await usedMemory(raw)).toBeLessThan(MAX_MEMORY + SLACK)
        for (let user = 3; user < 10; user++) expect(await store.deleteAll(`user-${user}`)).toBeGreaterThan(0)
        await expect(store.create(large(store, 'user-after'))).resolves.toBeUndefined()
      })
    })

    it('warns of no eviction policy', async () => {
      await withFullRedis('noeviction', async (store) => {
        const warnings: RedisStoreWarning[] = []
        store.on('warning', (warning) => warnings.push(warning))
        await store.ready()
        expect(warnings).toEqual([])
      })
    })

    it('starts where CONFIG is refused, as on managed Redis', async () => {
      await withFullRedis(
        'allkeys-lru',
        async (store) => {
          const warnings: RedisStoreWarning[] = []
          store.on('warning', (warning) => warnings.push(warning))
          await expect(store.ready()).resolves.toBeUndefined()
          expect(warnings).toEqual([])
        },
        ['rename-command CONFIG ""'],
      )
    })
  })

  it('warns at its first connection when ready() is never called', async () => {
    await withFullRedis('volatile-lru', async (_store, _raw, server) => {
      const store = new RedisStore(server.url)
      try {
        const [warning] = (await once(store, 'warning')) as [RedisStoreWarning]
        expect(warning).toMatchObject({ code: 'EVICTION_POLICY', policy: 'volatile-lru' })
      } finally {
        await store.close()
      }
    })
  })

  it('logs an eviction policy to NODE_DEBUG=cosgo-session as well', async () => {
    await withFullRedis('allkeys-lru', async (_store, _raw, server) => {
      const program = `
        const { RedisStore } = require('./lib/redis')
        const store = new RedisStore('${server.url}')
        store.ready().then(() => store.close())`
      const { stderr } = await run(path.join(root, 'node_modules/.bin/tsx'), ['-e', program], {
        cwd: root,
        env: { ...process.env, NODE_DEBUG: 'cosgo-session' },
        timeout: 15_000,
      })
      expect(stderr).toMatch(/COSGO-SESSION \d+: redis store: maxmemory-policy is allkeys-lru: /)
    })
  })

  describe.each(['allkeys-lru', 'volatile-lru', 'allkeys-random'])('with %s', (policy) => {
    it('warns at start-up, and never admits a session deleteAll ended, whatever Redis evicted', async () => {
      await withFullRedis(policy, async (store, raw) => {
        const warnings: RedisStoreWarning[] = []
        store.on('warning', (warning) => warnings.push(warning))
        await store.ready()
        expect(warnings).toEqual([expect.objectContaining({ code: 'EVICTION_POLICY', policy })])

        const victims = Array.from({ length: 200 }, () => sampleRecord(store, { uid: 'victim' }))
        for (const record of victims) await store.create(record)
        for (let index = 0; index < 3000; index++) await store.create(large(store, `filler-${index % 300}`))
        expect(await evictedKeys(raw)).toBeGreaterThan(0)

        await store.deleteAll('victim')
        const admitted = async () =>
          (await Promise.all(victims.map((record) => store.get(record.id)))).filter(
            (read) => read !== undefined && read.ended === undefined,
          ).length
        expect(await admitted()).toBe(0)
        for (let index = 0; index < 500; index++) await store.create(large(store, `filler-${index % 300}`))
        await store.create(sampleRecord(store, { uid: 'victim' }))
        expect(await admitted()).toBe(0)
      })
    })
  })
})
