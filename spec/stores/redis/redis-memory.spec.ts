import { Redis } from 'ioredis'
import { isSessionError } from '../../../lib/core/errors'
import { sessionKey } from '../../../lib/stores/redis/key-layout'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import type { SessionRecord } from '../../../lib/stores/store'
import { sampleRecord } from '../../../lib/stores/testing'
import { hasRedisServer, RedisServer } from '../../support/redis-server'

/** These tests configure their own servers' memory, so they need redis-server on PATH. */
const describeMemory = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

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
  })
})
