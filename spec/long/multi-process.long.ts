/**
 * Two server processes on one Redis, and on a three-master Cluster: clients bounce between them,
 * several clients share each session and write their own keys. No update is lost, and a write
 * acknowledged by one process is read back at once through the other.
 */
import { RedisCluster, RedisServer } from '../support/redis-server'
import { call, closeConnections, SessionServerProcess } from './support/driver'

const SESSIONS = 4
const CLIENTS_PER_SESSION = 4
const WRITES_PER_CLIENT = Number(process.env.MULTI_WRITES ?? 300)

const setups = [
  [
    'one Redis',
    async () => {
      const redis = await RedisServer.start()
      return { env: { STORE: 'redis', REDIS_URL: redis.url }, stop: () => redis.stop() }
    },
  ],
  [
    'a three-master Cluster',
    async () => {
      const cluster = await RedisCluster.start()
      const nodes = cluster.startupNodes.map(({ host, port }) => `${host}:${port}`).join(',')
      return { env: { STORE: 'cluster', REDIS_NODES: nodes }, stop: () => cluster.stop() }
    },
  ],
] as const

describe.each(setups)('two server processes on %s', (_, setup) => {
  let servers: SessionServerProcess[]
  let stopRedis: () => Promise<void>

  beforeAll(async () => {
    const { env, stop } = await setup()
    stopRedis = stop
    servers = await Promise.all([0, 1].map(() => SessionServerProcess.start({ ...env, PREFIX: 'multi' })))
  })
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()))
    await stopRedis()
    closeConnections()
  })

  it('lose no update while clients bounce between them', async () => {
    const tokens: string[] = []
    for (let session = 0; session < SESSIONS; session++) {
      const login = await call(servers[session % 2]!.port, 'POST', '/login', undefined, {
        uid: `user${session}`,
      })
      tokens.push(login.body.token as string)
    }
    let requests = 0
    const acknowledged = new Map<string, number>()
    await Promise.all(
      Array.from({ length: SESSIONS * CLIENTS_PER_SESSION }, async (_, client) => {
        const token = tokens[client % SESSIONS]!
        const key = `client${client}`
        for (let n = 1; n <= WRITES_PER_CLIENT; n++) {
          const writer = servers[(client + n) % 2]!
          const reader = servers[(client + n + 1) % 2]!
          const write = await call(writer.port, 'POST', '/write', token, { [key]: n })
          expect(write.status).toBe(200)
          acknowledged.set(key, n)
          const read = await call(reader.port, 'GET', '/read', token)
          expect(read.body[key]).toBe(n)
          requests += 2
        }
      }),
    )
    let lost = 0
    for (let session = 0; session < SESSIONS; session++) {
      const read = await call(servers[0]!.port, 'GET', '/read', tokens[session])
      for (let client = session; client < SESSIONS * CLIENTS_PER_SESSION; client += SESSIONS)
        if (read.body[`client${client}`] !== acknowledged.get(`client${client}`)) lost++
    }
    const stats = await Promise.all(servers.map((server) => server.stats()))
    console.log(`multi-process on ${_}: ${requests} requests through 2 processes, ${lost} writes lost`)
    expect(lost).toBe(0)
    expect(stats.map((stat) => stat.unhandled)).toEqual([0, 0])
  })
})
