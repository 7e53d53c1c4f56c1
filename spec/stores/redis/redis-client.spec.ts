import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import { sampleRecord } from '../../../lib/stores/testing'
import { hasRedisServer, RedisServer } from '../../support/redis-server'

const run = promisify(execFile)
const root = path.resolve(__dirname, '../../..')
/** The store's default timeout plus a generous margin for a loaded machine. */
const BOUND = 2500

/** These tests configure and stop their own servers, so they need redis-server on PATH. */
const describeServers = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

/** How `store.ready()` settled, and how long it took. */
async function readiness(store: RedisStore): Promise<{ error: unknown; elapsed: number }> {
  const started = Date.now()
  const error = await store.ready().then(
    () => undefined,
    (reason: unknown) => reason,
  )
  return { error, elapsed: Date.now() - started }
}

const causeOf = (error: unknown) => String((error as Error | undefined)?.cause)

describe('RedisStore construction', () => {
  it('throws at construction, saying what to install, when a URL is given without ioredis', async () => {
    const program = `
      const { RedisStore } = require('./lib/redis')
      try {
        new RedisStore('redis://127.0.0.1:1')
        console.log('constructed')
      } catch (error) {
        console.log(error.message)
      }`
    const { stdout } = await run(
      path.join(root, 'node_modules/.bin/tsx'),
      ['--require', './spec/support/hide-ioredis.cjs', '-e', program],
      { cwd: root, timeout: 15_000 },
    )
    expect(stdout.trim()).toBe('RedisStore needs ioredis to connect to a Redis URL: npm install ioredis')
  })

  it('refuses a timeout a Node timer cannot wait, instead of timing out after 1 ms', () => {
    for (const timeout of [2 ** 31, Number.POSITIVE_INFINITY, 0, -5, Number.NaN])
      expect(() => new RedisStore('redis://127.0.0.1:1', { timeout })).toThrow(/option timeout/)
    expect(() => new RedisStore('redis://127.0.0.1:1', { timeout: 2 ** 31 })).toThrow(TypeError)
  })
})

describeServers('RedisStore.ready()', () => {
  let server: RedisServer
  let guarded: RedisServer

  beforeAll(async () => {
    server = await RedisServer.start()
    guarded = await RedisServer.start({ config: ['requirepass a-password-for-the-tests'] })
  }, 30_000)
  afterAll(async () => {
    await server?.stop()
    await guarded?.stop()
  })

  it.each([
    ['its own client', (url: string) => url],
    ['a client it was given', (url: string) => new Redis(url)],
  ])('resolves once Redis answers PING, on %s', async (_, clientOf) => {
    const given = clientOf(server.url)
    const store = new RedisStore(given, { prefix: 'ready' })
    try {
      await expect(store.ready()).resolves.toBeUndefined()
      const record = sampleRecord(store)
      await store.create(record)
      expect((await store.get(record.id))?.uid).toBe(record.uid)
    } finally {
      await store.close()
      if (typeof given !== 'string') given.disconnect()
    }
  })

  it.each([
    ['no password', () => guarded.url, /NOAUTH/],
    ['a wrong password', () => guarded.url.replace('//', '//:wrong@'), /WRONGPASS/],
    ['nothing listening', () => 'redis://127.0.0.1:1', /ECONNREFUSED/],
  ])('rejects with Redis’s own reason within its timeout, given %s', async (_, url, reason) => {
    const store = new RedisStore(url())
    try {
      const { error, elapsed } = await readiness(store)
      expect(error).toMatchObject({ code: 210, error: 'STORE_UNAVAILABLE' })
      expect(causeOf(error)).toMatch(reason)
      expect((error as Error).message).toMatch(reason)
      expect(elapsed).toBeLessThan(BOUND)
    } finally {
      await store.close()
    }
  })

  it('rejects a database Redis will not select, and never writes to database 0 instead', async () => {
    const store = new RedisStore(`${server.url}/99`, { prefix: 'wrong-database' })
    const raw = new Redis(server.url)
    try {
      const { error } = await readiness(store)
      expect(error).toMatchObject({ code: 210 })
      expect(causeOf(error)).toMatch(/DB index/)
      await expect(store.create(sampleRecord(store))).rejects.toMatchObject({ code: 210 })
      expect(await raw.keys('wrong-database:*')).toEqual([])
    } finally {
      await store.close()
      raw.disconnect()
    }
  })

  it('rejects within its timeout when Redis does not answer at all', async () => {
    const frozen = await RedisServer.start()
    frozen.pause()
    const store = new RedisStore(frozen.url, { timeout: 500 })
    try {
      const { error, elapsed } = await readiness(store)
      expect(error).toMatchObject({ code: 210 })
      expect(elapsed).toBeLessThan(500 + BOUND)
    } finally {
      await store.close()
      frozen.resume()
      await frozen.stop()
    }
  })
})
