import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { WebSocket } from 'ws'
import { SessionManager } from '../lib/index'
import { type RedisUnderTest, useRedis } from '../spec/support/redis-server'
import { SocketServerProcess } from '../spec/support/socket-server-process'
import {
  type CountedStore,
  countedStore,
  SOCKET_STORES,
  untilSubscribed,
} from '../spec/support/socket-stores'
import { createSocketExample } from './websocket'

const secret = 'test-secret-that-is-long-enough-0123456789'
const ORIGIN = 'http://app.example'

type Opened = {
  ws: WebSocket
  first: Promise<{ type: string; count: number }>
  closed: Promise<[number, string]>
}

/** The four ways a session ends through a manager, and the close its socket gets. */
const ENDINGS = [
  ['logout', 4205, 'SESSION_NOT_EXIST logout'],
  ['revoke', 4205, 'SESSION_NOT_EXIST revoked'],
  ['destroyAll', 4205, 'SESSION_NOT_EXIST revoked'],
  ['singleSession', 4209, 'SESSION_REPLACED replaced'],
] as const
type Ending = (typeof ENDINGS)[number][0]

describe('examples/websocket.ts (ws)', () => {
  let redis: RedisUnderTest
  let store: CountedStore
  let sessions: SessionManager | undefined
  let server: ReturnType<typeof createSocketExample> | undefined
  let base: string

  async function start(options: { singleSession?: boolean; maxAge?: number; query?: string } = {}) {
    const { query, ...sessionOptions } = options
    sessions = new SessionManager({ secret, store, ...sessionOptions })
    server = createSocketExample(sessions, { origins: [ORIGIN], ...(query ? { query } : {}) })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`
    return sessions
  }
  async function stop() {
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
    await sessions?.close()
    server = undefined
    sessions = undefined
  }
  const loginAs = async (user = 'ada') =>
    (await request(server!).post('/login').send({ user, password: 'demo' }).expect(200)).body.token as string

  function open(headers: Record<string, string>, path = '/socket', host = base): Opened {
    const ws = new WebSocket(`ws://${host}${path}`, { headers })
    const first = new Promise<{ type: string; count: number }>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse(String(data)))),
    )
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, String(reason)])),
    )
    return { ws, first, closed }
  }
  const cookie = (token: string) => ({ cookie: `_cookie_vars=${token}` })

  /** Ends the session of `token` (of `uid`) as `how` says, through this process's manager and server. */
  async function end(how: Ending, token: string, uid: string) {
    if (how === 'logout') await request(server!).post('/logout').set('Cookie', `_cookie_vars=${token}`)
    if (how === 'revoke') {
      const other = await sessions!.create(uid)
      const { id } = (await sessions!.list(uid)).find((info) => info.id !== other.session.id)!
      await other.session.revoke(id)
    }
    if (how === 'destroyAll') await sessions!.destroyAll(uid)
    if (how === 'singleSession') await loginAs(uid)
  }

  beforeAll(async () => {
    redis = await useRedis()
  })
  afterAll(() => redis.stop())
  afterEach(async () => {
    await stop()
    await store.close()
  })

  describe.each(SOCKET_STORES)('on a %s', (storeName) => {
    beforeEach(() => {
      store = countedStore(storeName, redis)
    })

    it('verifies the upgrade by cookie or header with one store read per connection', async () => {
      await start()
      const token = await loginAs()
      store.calls.get = 0
      const byCookie = open(cookie(token))
      const byHeader = open({ _cookie_vars: token })
      expect([await byCookie.first, await byHeader.first]).toEqual([
        { type: 'count', count: 0 },
        { type: 'count', count: 0 },
      ])
      console.log(`ws: ${store.calls.get / 2} store read(s) per connection (${storeName})`)
      expect(store.calls.get).toBe(2)
      byCookie.ws.close()
      byHeader.ws.close()
    })

    it('takes a query-string token only when turned on', async () => {
      await start({ query: 'token' })
      const token = await loginAs()
      const on = open({}, `/socket?token=${encodeURIComponent(token)}`)
      expect(await on.first).toEqual({ type: 'count', count: 0 })
      on.ws.close()
      await stop()
      await start()
      expect(await open({}, `/socket?token=${encodeURIComponent(token)}`).closed).toEqual([
        4203,
        'TOKEN_EMPTY',
      ])
    })

    it('refuses forged, expired and replaced tokens, and a foreign Origin, with a code the client reads', async () => {
      await start({ singleSession: true, maxAge: 1 })
      const expiring = await loginAs('bob')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      // after the wait: a replaced session's marker, too, lasts no longer than its maxAge on Redis
      const replaced = await loginAs()
      await loginAs()
      const fresh = await loginAs('dee')
      expect(
        await Promise.all([
          open(cookie(`${'a'.repeat(22)}.${'b'.repeat(22)}.abc.${'c'.repeat(43)}`)).closed,
          open(cookie(expiring)).closed,
          open(cookie(replaced)).closed,
          open({ ...cookie(fresh), origin: 'https://evil.example' }).closed,
        ]),
      ).toEqual([
        [4207, 'SESSION_ILLEGAL'],
        // Redis has dropped the key at its TTL, which is the session's deadline
        storeName === 'MemoryStore' ? [4206, 'SESSION_EXPIRED'] : [4205, 'SESSION_NOT_EXIST'],
        [4209, 'SESSION_REPLACED'],
        [4214, 'CSRF_REJECTED'],
      ])
    })

    it('refuses an anonymous session: signed in means a uid', async () => {
      await start()
      const anonymous = await sessions!.verify('')
      anonymous.set('theme', 'dark')
      await anonymous.save()
      expect(await open(cookie(anonymous.token!)).closed).toEqual([4204, 'SESSION_NOT_CREATED'])
    })

    it('stores writes from messages for the next HTTP request', async () => {
      await start()
      const token = await loginAs()
      const socket = open({ ...cookie(token), origin: ORIGIN })
      await socket.first
      const counts: number[] = []
      socket.ws.on('message', (data) => counts.push(JSON.parse(String(data)).count))
      for (let n = 0; n < 3; n++) socket.ws.send(JSON.stringify({ type: 'increment' }))
      while (counts.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
      const res = await request(server!).get('/count').set('Cookie', `_cookie_vars=${token}`)
      expect([counts, res.body.count]).toEqual([[1, 2, 3], 3])
      socket.ws.close()
    })

    it.each(ENDINGS)('closes the sockets of a session within a second of %s', async (how, code, reason) => {
      await start({ singleSession: how === 'singleSession' })
      const token = await loginAs()
      const socket = open(cookie(token))
      await socket.first
      const started = performance.now()
      await end(how, token, 'ada')
      expect(await socket.closed).toEqual([code, reason])
      const elapsed = performance.now() - started
      console.log(`ws: ${how} to socket close in ${elapsed.toFixed(1)} ms (${storeName})`)
      expect(elapsed).toBeLessThan(1000)
    })
  })

  describe('across two processes on one Redis', () => {
    let prefix: string
    let other: SocketServerProcess

    beforeAll(async () => {
      prefix = redis.nextPrefix()
      other = await SocketServerProcess.start({ kind: 'ws', redisUrl: redis.url, prefix, secret })
    })
    afterAll(() => other?.stop())
    beforeEach(() => {
      store = countedStore('RedisStore', redis, prefix)
    })

    it.each(ENDINGS)(
      'closes the socket the other process serves within a second of %s in this one',
      async (how, code, reason) => {
        await start({ singleSession: how === 'singleSession' })
        // this process's channel too, so that what it publishes is not sent before it is ready
        await untilSubscribed(redis.url, prefix, 2)
        const uid = `ada-${how}`
        const token = await loginAs(uid)
        const readsBefore = await other.reads()
        const socket = open(cookie(token), '/socket', `127.0.0.1:${other.port}`)
        expect(await socket.first).toEqual({ type: 'count', count: 0 })
        const reads = (await other.reads()) - readsBefore
        const started = performance.now()
        await end(how, token, uid)
        const closed = await socket.closed
        const elapsed = performance.now() - started
        console.log(
          `ws: ${how} in one process to socket close in another in ${elapsed.toFixed(1)} ms, ` +
            `${reads} store read(s) for the connection (RedisStore)`,
        )
        expect([closed, reads]).toEqual([[code, reason], 1])
        expect(elapsed).toBeLessThan(1000)
      },
    )
  })
})
