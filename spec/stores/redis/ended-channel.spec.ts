import { Redis } from 'ioredis'
import { SessionManager } from '../../../lib/http/session-manager'
import type { SessionEnded } from '../../../lib/stores/ended-channel'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import { type RedisUnderTest, sleep, useRedis } from '../../support/redis-server'
import { untilSubscribed } from '../../support/socket-stores'

const secret = 'test-secret-that-is-long-enough-0123456789'

/** Resolves the first `ended` a manager hears, with the milliseconds it took from `since`. */
function nextEnded(sessions: SessionManager, since = () => performance.now()) {
  const start = since()
  return new Promise<[SessionEnded, number]>((resolve) =>
    sessions.once('ended', (event) => resolve([event, performance.now() - start])),
  )
}

async function until(check: () => boolean | Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out')
    await sleep(20)
  }
}

describe('ended across processes on one Redis', () => {
  let redis: RedisUnderTest
  let stores: RedisStore[] = []
  let managers: SessionManager[] = []
  beforeAll(async () => {
    redis = await useRedis()
  })
  afterAll(() => redis.stop())
  afterEach(async () => {
    await Promise.all(managers.map((manager) => manager.close()))
    await Promise.all(stores.map((store) => store.close()))
    stores = []
    managers = []
  })

  /** Two managers, each on a store (and connections) of its own, as two processes have. */
  async function pair(options: { maxAge?: number; touchInterval?: number } = {}) {
    const prefix = redis.nextPrefix()
    const [one, two] = [0, 1].map(() => {
      const store = new RedisStore(redis.url, { prefix })
      stores.push(store)
      const manager = new SessionManager({ secret, store, ...options })
      managers.push(manager)
      manager.on('ended', () => undefined)
      return manager
    }) as [SessionManager, SessionManager]
    await untilSubscribed(redis.url, prefix, 2)
    return { one, two, prefix }
  }

  it('tells the other manager within a second, with the reason', async () => {
    const { one, two } = await pair()
    const { session } = await one.create('ada')
    const heard = nextEnded(two)
    await one.destroyAll('ada')
    const [event, took] = await heard
    expect(event).toEqual({ id: session.id, uid: 'ada', reason: 'revoked' })
    expect(took).toBeLessThan(1000)
    console.log(`redis: destroyAll to ended in the other manager in ${took.toFixed(1)} ms`)
  })

  it('resubscribes by itself after a Redis restart', async () => {
    if (!redis.server) return
    const { one, two, prefix } = await pair()
    await redis.server.restart()
    // both managers' subscribers, not just the first one back
    await untilSubscribed(redis.url, prefix, 2)
    await until(async () => {
      try {
        await one.create('probe')
        return true
      } catch {
        return false
      }
    })
    const { session } = await one.create('ada')
    const heard = nextEnded(two)
    await (await one.verify(session.token!)).destroy()
    const [event, took] = await heard
    expect([event.reason, took < 1000]).toEqual(['logout', true])
  })

  it("tells an idle expiry from the server's keyspace notifications where they are on", async () => {
    if (!redis.server) return
    const admin = new Redis(redis.url)
    await admin.config('SET', 'notify-keyspace-events', 'Ex')
    const { one, two } = await pair({ maxAge: 1 })
    const { session } = await one.create('ada')
    const [event, took] = await nextEnded(two)
    expect(event).toEqual({ id: session.id, uid: '', reason: 'expired' })
    expect(took).toBeLessThan(2500)
    await admin.config('SET', 'notify-keyspace-events', '')
    await admin.quit()
  })

  it('tells an idle expiry at the next touch() of the session where notifications are off, to every process', async () => {
    const { one, two, prefix } = await pair({ touchInterval: 0 })
    const { token } = await one.create('ada')
    const session = await one.verify(token)
    // as Redis expires a key at its TTL, and with no notification of it
    const admin = new Redis(redis.url)
    const [key] = await admin.keys(`${prefix}:*:s:${session.id}`)
    await admin.pexpire(key!, 1)
    await until(async () => (await admin.exists(key!)) === 0)
    await admin.quit()
    const heard = nextEnded(two)
    expect(await session.touch()).toBe(false)
    const [event, took] = await heard
    expect([event, took < 1000]).toEqual([{ id: session.id, uid: 'ada', reason: 'expired' }, true])
  })
})
