/**
 * Soak: 200,000 requests of logins, reads, writes and logouts on each store. The heap after a
 * forced GC at the end has grown by at most 10% over the heap after warm-up, and the memory store holds no
 * session that should be gone (logged out, or idle past maxAge and swept).
 */
import { Redis } from 'ioredis'
import { type RedisUnderTest, useRedis } from '../support/redis-server'
import { call, closeConnections, SessionServerProcess } from './support/driver'

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 200_000)
const WARM_UP = Math.round(TOTAL / 10)
const CONCURRENCY = 32

/** One virtual user: log in, read and write a few times, log out (one in ten just leaves). */
async function visit(port: number, user: number): Promise<number> {
  const login = await call(port, 'POST', '/login', undefined, {
    uid: `user${user % 500}`,
    values: { visits: 0 },
  })
  if (login.status !== 200) throw new Error(`login answered ${login.status}`)
  const token = login.body.token as string
  for (let step = 0; step < 3; step++) {
    const read = await call(port, 'GET', '/read', token)
    const write = await call(port, 'POST', '/write', token, {
      visits: step + 1,
      [`k${step}`]: 'x'.repeat(32),
    })
    if (read.status !== 200 || write.status !== 200)
      throw new Error(`answered ${read.status}/${write.status}`)
  }
  if (user % 10 === 9) return 7
  const logout = await call(port, 'POST', '/logout', token)
  if (logout.status !== 200) throw new Error(`logout answered ${logout.status}`)
  return 8
}

/** Runs virtual users until `count` more requests were made. */
async function drive(port: number, count: number, firstUser: { next: number }): Promise<void> {
  let made = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (made < count) {
        const requests = await visit(port, firstUser.next++)
        made += requests
      }
    }),
  )
}

describe.each(['memory', 'redis'] as const)('soak on the %s store', (kind) => {
  let redis: RedisUnderTest | undefined
  let server: SessionServerProcess
  let prefix = 'long'

  beforeAll(async () => {
    const env: Record<string, string> = { STORE: kind, MAX_AGE: '2', HEARTBEAT: '1' }
    if (kind === 'redis') {
      redis = await useRedis()
      prefix = redis.nextPrefix()
      Object.assign(env, { REDIS_URL: redis.url, PREFIX: prefix })
    }
    server = await SessionServerProcess.start(env)
  })
  afterAll(async () => {
    await server.stop()
    await redis?.stop()
    closeConnections()
  })

  it(`serves ${TOTAL} requests with a flat heap and keeps no stale session`, async () => {
    const users = { next: 0 }
    const started = performance.now()
    await drive(server.port, WARM_UP, users)
    const warmHeap = await server.heapUsed()
    await drive(server.port, TOTAL - WARM_UP, users)
    await new Promise((resolve) => setTimeout(resolve, 3500))
    const endHeap = await server.heapUsed()
    const stats = await server.stats()
    if (redis) stats.size = await countKeys(redis.url, `${prefix}:*`)
    const seconds = (performance.now() - started) / 1000
    console.log(
      `soak ${kind}: ${TOTAL} requests, ${users.next} sessions in ${seconds.toFixed(1)} s; heap after warm-up ` +
        `${(warmHeap / 1e6).toFixed(1)} MB, at the end ${(endHeap / 1e6).toFixed(1)} MB ` +
        `(${(((endHeap - warmHeap) / warmHeap) * 100).toFixed(1)}%); sessions (or Redis keys) left ${stats.size}`,
    )
    // a leak grows the heap; one that ends smaller than after warm-up (collected warm-up garbage) is fine
    expect((endHeap - warmHeap) / warmHeap).toBeLessThanOrEqual(0.1)
    expect(stats.unhandled).toBe(0)
    expect(stats.size).toBe(0)
  })
})

/** Keys under `pattern` on the server at `url`, counted with SCAN (never KEYS on a shared server). */
async function countKeys(url: string, pattern: string): Promise<number> {
  const client = new Redis(url)
  try {
    let count = 0
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      count += keys.length
    } while (cursor !== '0')
    return count
  } finally {
    client.disconnect()
  }
}
