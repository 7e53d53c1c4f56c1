import type { AddressInfo } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import request from 'supertest'
import { SessionManager } from '../lib/index'
import { type RedisUnderTest, useRedis } from '../spec/support/redis-server'
import { SocketServerProcess } from '../spec/support/socket-server-process'
import {
  type CountedStore,
  countedStore,
  SOCKET_STORES,
  untilSubscribed,
} from '../spec/support/socket-stores'
import { createSocketIoExample, type EndedMessage, type RefusalData } from './socketio'

const secret = 'test-secret-that-is-long-enough-0123456789'
const ORIGIN = 'http://app.example'

type Opened = {
  socket: Socket
  first: Promise<number>
  refused: Promise<[string, RefusalData]>
  ended: Promise<[EndedMessage, string]>
}

/** The four ways a session ends through a manager, and what its sockets are told. */
const ENDINGS = [
  ['logout', 205, 'SESSION_NOT_EXIST', 'logout'],
  ['revoke', 205, 'SESSION_NOT_EXIST', 'revoked'],
  ['destroyAll', 205, 'SESSION_NOT_EXIST', 'revoked'],
  ['singleSession', 209, 'SESSION_REPLACED', 'replaced'],
] as const
type Ending = (typeof ENDINGS)[number][0]

describe('examples/socketio.ts (socket.io 4)', () => {
  let redis: RedisUnderTest
  let store: CountedStore
  let sessions: SessionManager
  let server: ReturnType<typeof createSocketIoExample>['server']
  let io: ReturnType<typeof createSocketIoExample>['io']
  let base: string
  const sockets: Socket[] = []

  async function start(options: { singleSession?: boolean; maxAge?: number } = {}) {
    sessions = new SessionManager({ secret, store, ...options })
    ;({ server, io } = createSocketIoExample(sessions, { origins: [ORIGIN] }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const loginAs = async (user = 'ada') =>
    (await request(server).post('/login').send({ user, password: 'demo' }).expect(200)).body.token as string

  function open(
    how: { headers?: Record<string, string>; auth?: Record<string, string> },
    transports: ('polling' | 'websocket')[] = ['polling', 'websocket'],
    url = base,
  ): Opened {
    const socket = connect(url, {
      extraHeaders: how.headers ?? {},
      auth: how.auth ?? {},
      transports,
      reconnection: false,
      forceNew: true,
    })
    sockets.push(socket)
    const first = new Promise<number>((resolve) => socket.once('count', resolve))
    const refused = new Promise<[string, RefusalData]>((resolve) =>
      socket.once('connect_error', (error) =>
        resolve([error.message, (error as { data?: unknown }).data as RefusalData]),
      ),
    )
    const ended = new Promise<[EndedMessage, string]>((resolve) =>
      socket.once('ended', (message: EndedMessage) =>
        socket.once('disconnect', (reason) => resolve([message, reason])),
      ),
    )
    return { socket, first, refused, ended }
  }
  const cookie = (token: string) => ({ headers: { cookie: `_cookie_vars=${token}` } })

  /** Resolves once the socket has left long-polling for its WebSocket. */
  async function upgraded(socket: Socket): Promise<string> {
    const engine = socket.io.engine
    if (engine.transport.name !== 'websocket')
      await new Promise<void>((resolve) => engine.once('upgrade', () => resolve()))
    return engine.transport.name
  }

  /** Ends the session of `token` (of `uid`) as `how` says, through this process's manager and server. */
  async function end(how: Ending, token: string, uid: string) {
    if (how === 'logout') await request(server).post('/logout').set('Cookie', `_cookie_vars=${token}`)
    if (how === 'revoke') {
      const other = await sessions.create(uid)
      const { id } = (await sessions.list(uid)).find((info) => info.id !== other.session.id)!
      await other.session.revoke(id)
    }
    if (how === 'destroyAll') await sessions.destroyAll(uid)
    if (how === 'singleSession') await loginAs(uid)
  }

  beforeAll(async () => {
    redis = await useRedis()
  })
  afterAll(() => redis.stop())
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect()
    // io.close() ends engine.io's clients too: a polling one outlives its HTTP connections, and
    // its ping timer would hold the process open
    const closed = new Promise((resolve) => io.close(resolve))
    server.closeAllConnections()
    await closed
    await sessions.close()
    await store.close()
  })

  describe.each(SOCKET_STORES)('on a %s', (storeName) => {
    beforeEach(() => {
      store = countedStore(storeName, redis)
    })

    it('verifies the handshake by cookie, header or auth.token', async () => {
      await start()
      const token = await loginAs()
      const opened = [
        open(cookie(token)),
        open({ headers: { _cookie_vars: token } }),
        open({ auth: { token } }),
      ]
      expect(await Promise.all(opened.map((socket) => socket.first))).toEqual([0, 0, 0])
    })

    it('reads the store once a connection over polling and its upgrade to a WebSocket', async () => {
      await start()
      const token = await loginAs()
      store.calls.get = 0
      const { socket, first } = open(cookie(token))
      await first
      expect(await upgraded(socket)).toBe('websocket')
      console.log(
        `socket.io: ${store.calls.get} store read(s) per connection, polling then websocket (${storeName})`,
      )
      expect(store.calls.get).toBe(1)
    })

    it('refuses forged, expired and replaced tokens, and a foreign Origin, with the code in connect_error', async () => {
      await start({ singleSession: true, maxAge: 1 })
      const expiring = await loginAs('bob')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      // after the wait: a replaced session's marker, too, lasts no longer than its maxAge on Redis
      const replaced = await loginAs()
      await loginAs()
      const fresh = await loginAs('dee')
      const forged = `${'a'.repeat(22)}.${'b'.repeat(22)}.abc.${'c'.repeat(43)}`
      expect(
        await Promise.all([
          open(cookie(forged)).refused,
          open({ auth: { token: forged } }).refused,
          open(cookie(expiring)).refused,
          open({ auth: { token: replaced } }).refused,
          open({ headers: { cookie: `_cookie_vars=${fresh}`, origin: 'https://evil.example' } }).refused,
          open({}).refused,
        ]),
      ).toEqual([
        ['SESSION_ILLEGAL', { code: 207, error: 'SESSION_ILLEGAL' }],
        ['SESSION_ILLEGAL', { code: 207, error: 'SESSION_ILLEGAL' }],
        // Redis has dropped the key at its TTL, which is the session's deadline
        storeName === 'MemoryStore'
          ? ['SESSION_EXPIRED', { code: 206, error: 'SESSION_EXPIRED' }]
          : ['SESSION_NOT_EXIST', { code: 205, error: 'SESSION_NOT_EXIST' }],
        ['SESSION_REPLACED', { code: 209, error: 'SESSION_REPLACED' }],
        ['CSRF_REJECTED', { code: 214, error: 'CSRF_REJECTED' }],
        ['TOKEN_EMPTY', { code: 203, error: 'TOKEN_EMPTY' }],
      ])
    })

    it('refuses an anonymous session: signed in means a uid', async () => {
      await start()
      const anonymous = await sessions.verify('')
      anonymous.set('theme', 'dark')
      await anonymous.save()
      expect(await open({ auth: { token: anonymous.token! } }).refused).toEqual([
        'SESSION_NOT_CREATED',
        { code: 204, error: 'SESSION_NOT_CREATED' },
      ])
    })

    it('stores writes from messages for the next HTTP request', async () => {
      await start()
      const token = await loginAs()
      const { socket, first } = open({ headers: { cookie: `_cookie_vars=${token}`, origin: ORIGIN } })
      await first
      const counts: number[] = []
      socket.on('count', (count: number) => counts.push(count))
      for (let n = 0; n < 3; n++) socket.emit('increment')
      while (counts.length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
      const res = await request(server).get('/count').set('Cookie', `_cookie_vars=${token}`)
      expect([counts, res.body.count]).toEqual([[1, 2, 3], 3])
    })

    it.each(ENDINGS)(
      'disconnects the sockets of a session within a second of %s',
      async (how, code, error, reason) => {
        await start({ singleSession: how === 'singleSession' })
        const token = await loginAs()
        const socket = open(cookie(token))
        await socket.first
        // on the WebSocket: engine.io holds a polling transport it closes for 30 s, keeping jest open
        expect(await upgraded(socket.socket)).toBe('websocket')
        const started = performance.now()
        await end(how, token, 'ada')
        expect(await socket.ended).toEqual([{ code, error, reason }, 'io server disconnect'])
        const elapsed = performance.now() - started
        console.log(`socket.io: ${how} to disconnect in ${elapsed.toFixed(1)} ms (${storeName})`)
        expect(elapsed).toBeLessThan(1000)
      },
    )
  })

  describe('across two processes on one Redis', () => {
    let prefix: string
    let other: SocketServerProcess

    beforeAll(async () => {
      prefix = redis.nextPrefix()
      other = await SocketServerProcess.start({ kind: 'socketio', redisUrl: redis.url, prefix, secret })
    })
    afterAll(() => other?.stop())
    beforeEach(() => {
      store = countedStore('RedisStore', redis, prefix)
    })

    it.each(ENDINGS)(
      'disconnects the socket the other process serves within a second of %s in this one',
      async (how, code, error, reason) => {
        await start({ singleSession: how === 'singleSession' })
        // this process's channel too, so that what it publishes is not sent before it is ready
        await untilSubscribed(redis.url, prefix, 2)
        const uid = `ada-${how}`
        const token = await loginAs(uid)
        const readsBefore = await other.reads()
        const socket = open(cookie(token), undefined, `http://127.0.0.1:${other.port}`)
        expect(await socket.first).toBe(0)
        expect(await upgraded(socket.socket)).toBe('websocket')
        const reads = (await other.reads()) - readsBefore
        const started = performance.now()
        await end(how, token, uid)
        const ended = await socket.ended
        const elapsed = performance.now() - started
        console.log(
          `socket.io: ${how} in one process to disconnect in another in ${elapsed.toFixed(1)} ms, ` +
            `${reads} store read(s) for the connection over polling and the upgrade (RedisStore)`,
        )
        expect([ended, reads]).toEqual([[{ code, error, reason }, 'io server disconnect'], 1])
        expect(elapsed).toBeLessThan(1000)
      },
    )
  })
})
