/**
 * Redis chaos: steady load from several clients while the Redis server is paused (SIGSTOP), then
 * killed and restarted. Every request either succeeds or fails with 503/210 within the bound;
 * no write answered with success is lost; the server process has no unhandled rejection; and
 * throughput comes back once Redis does.
 */
import { RedisServer, sleep } from '../support/redis-server'
import { call, closeConnections, type Reply, SessionServerProcess } from './support/driver'

const CLIENTS = 8
/** The store's default timeout, plus room for a loaded 2-core machine. */
const BOUND_MS = 1000 + 750

interface Client {
  token: string
  attempted: number
  acknowledged: number
  replies: (Reply & { at: number })[]
}

describe('Redis chaos', () => {
  let redis: RedisServer
  let server: SessionServerProcess

  beforeAll(async () => {
    redis = await RedisServer.start({ persistent: true })
    server = await SessionServerProcess.start({ STORE: 'redis', REDIS_URL: redis.url, PREFIX: 'chaos' })
  })
  afterAll(async () => {
    await server.stop()
    await redis.stop()
    closeConnections()
  })

  it('answers within the bound through a pause, a kill and a restart, and loses no acknowledged write', async () => {
    const clients: Client[] = []
    for (let index = 0; index < CLIENTS; index++) {
      const login = await call(server.port, 'POST', '/login', undefined, {
        uid: `client${index}`,
        values: { n: 0 },
      })
      clients.push({ token: login.body.token as string, attempted: 0, acknowledged: 0, replies: [] })
    }
    const started = performance.now()
    let running = true
    const load = Promise.all(
      clients.map(async (client) => {
        while (running) {
          const n = ++client.attempted
          const write = await call(server.port, 'POST', '/write', client.token, { n })
          client.replies.push({ ...write, at: performance.now() - started })
          if (write.status === 200) client.acknowledged = n
          const read = await call(server.port, 'GET', '/read', client.token)
          client.replies.push({ ...read, at: performance.now() - started })
          if (read.status === 200) {
            expect(read.body.n as number).toBeGreaterThanOrEqual(client.acknowledged)
            expect(read.body.n as number).toBeLessThanOrEqual(client.attempted)
          }
          if (write.status !== 200 || read.status !== 200) await sleep(20)
        }
      }),
    )
    const outages: string[] = []
    await sleep(2000)
    redis.pause()
    outages.push('paused 3 s')
    await sleep(3000)
    redis.resume()
    await sleep(3000)
    await redis.kill()
    outages.push('killed, restarted after 1.5 s')
    await sleep(1500)
    await redis.restart()
    const restartedAt = performance.now() - started
    await sleep(4000)
    running = false
    await load

    const replies = clients.flatMap((client) => client.replies)
    const failures = replies.filter((reply) => reply.status !== 200)
    const wrong = replies.filter(
      (reply) => !(reply.status === 200 || (reply.status === 503 && reply.body.code === 210)),
    )
    const slowest = Math.max(...replies.map((reply) => reply.milliseconds))
    const rate = (from: number, to: number) =>
      replies.filter((reply) => reply.status === 200 && reply.at >= from && reply.at < to).length /
      ((to - from) / 1000)
    const before = rate(0, 2000)
    const after = rate(restartedAt + 1500, restartedAt + 3500)
    const stats = await server.stats()
    console.log(
      `chaos: ${replies.length} requests, ${failures.length} answered 503/210 during ${outages.join(' and ')}; ` +
        `slowest ${slowest.toFixed(0)} ms; ${before.toFixed(0)} req/s before, ${after.toFixed(0)} req/s after`,
    )

    expect(wrong).toEqual([])
    expect(slowest).toBeLessThan(BOUND_MS)
    expect(failures.length).toBeGreaterThan(0)
    expect([server.alive, stats.unhandled]).toEqual([true, 0])
    expect(after).toBeGreaterThan(before * 0.5)
    for (const client of clients) {
      const read = await call(server.port, 'GET', '/read', client.token)
      expect(read.status).toBe(200)
      expect(read.body.n as number).toBeGreaterThanOrEqual(client.acknowledged)
      expect(read.body.n as number).toBeLessThanOrEqual(client.attempted)
    }
  })
})
