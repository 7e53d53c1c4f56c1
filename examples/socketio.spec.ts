import type { AddressInfo } from 'node:net'
import { io as connect, type Socket } from 'socket.io-client'
import request from 'supertest'
import { SessionManager } from '../lib/index'
import { MemoryStore } from '../lib/stores/memory/memory-store'
import { countingStore } from '../spec/support/stores'
import { createSocketIoExample, type EndedMessage, type RefusalData } from './socketio'

const secret = 'test-secret-that-is-long-enough-0123456789'
const ORIGIN = 'http://app.example'

type Opened = {
  socket: Socket
  first: Promise<number>
  refused: Promise<[string, RefusalData]>
  ended: Promise<[EndedMessage, string]>
}

describe('examples/socketio.ts (socket.io 4)', () => {
  let store: ReturnType<typeof countingStore<MemoryStore>>
  let sessions: SessionManager
  let server: ReturnType<typeof createSocketIoExample>['server']
  let base: string
  const sockets: Socket[] = []

  async function start(options: { singleSession?: boolean; maxAge?: number } = {}) {
    sessions = new SessionManager({ secret, store, ...options })
    server = createSocketIoExample(sessions, { origins: [ORIGIN] }).server
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const loginAs = async (user = 'ada') =>
    (await request(server).post('/login').send({ user, password: 'demo' }).expect(200)).body.token as string

  function open(
    how: { headers?: Record<string, string>; auth?: Record<string, string> },
    transports: ('polling' | 'websocket')[] = ['polling', 'websocket'],
  ): Opened {
    const socket = connect(base, {
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

  beforeEach(() => {
    store = countingStore(new MemoryStore({ heartbeat: 0 }))
  })
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.disconnect()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await sessions.close()
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
    const engine = socket.io.engine
    if (engine.transport.name !== 'websocket')
      await new Promise<void>((resolve) => engine.once('upgrade', () => resolve()))
    expect(engine.transport.name).toBe('websocket')
    console.log(`socket.io: ${store.calls.get} store read(s) per connection, polling then websocket`)
    expect(store.calls.get).toBe(1)
  })

  it('refuses forged, expired and replaced tokens, and a foreign Origin, with the code in connect_error', async () => {
    await start({ singleSession: true, maxAge: 1 })
    const replaced = await loginAs()
    await loginAs()
    const expiring = await loginAs('bob')
    await new Promise((resolve) => setTimeout(resolve, 1100))
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
      ['SESSION_EXPIRED', { code: 206, error: 'SESSION_EXPIRED' }],
      ['SESSION_REPLACED', { code: 209, error: 'SESSION_REPLACED' }],
      ['CSRF_REJECTED', { code: 214, error: 'CSRF_REJECTED' }],
      ['TOKEN_EMPTY', { code: 203, error: 'TOKEN_EMPTY' }],
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

  describe('disconnects the sockets of a session that ends', () => {
    it.each([
      ['logout', 205, 'SESSION_NOT_EXIST', 'logout'],
      ['revoke', 205, 'SESSION_NOT_EXIST', 'revoked'],
      ['destroyAll', 205, 'SESSION_NOT_EXIST', 'revoked'],
      ['singleSession', 209, 'SESSION_REPLACED', 'replaced'],
    ] as const)('after %s', async (how, code, error, reason) => {
      await start({ singleSession: how === 'singleSession' })
      const token = await loginAs()
      const socket = open(cookie(token))
      await socket.first
      const started = performance.now()
      if (how === 'logout') await request(server).post('/logout').set('Cookie', `_cookie_vars=${token}`)
      if (how === 'revoke') {
        const other = await sessions.create('ada')
        const { id } = (await sessions.list('ada')).find((info) => info.id !== other.session.id)!
        await other.session.revoke(id)
      }
      if (how === 'destroyAll') await sessions.destroyAll('ada')
      if (how === 'singleSession') await loginAs()
      expect(await socket.ended).toEqual([{ code, error, reason }, 'io server disconnect'])
      const elapsed = performance.now() - started
      console.log(`socket.io: ${how} to disconnect in ${elapsed.toFixed(1)} ms (MemoryStore)`)
      expect(elapsed).toBeLessThan(1000)
    })
  })
})
