import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { WebSocket } from 'ws'
import { SessionManager } from '../lib/index'
import { MemoryStore } from '../lib/stores/memory/memory-store'
import { countingStore } from '../spec/support/stores'
import { createSocketExample } from './websocket'

const secret = 'test-secret-that-is-long-enough-0123456789'
const ORIGIN = 'http://app.example'

type Opened = {
  ws: WebSocket
  first: Promise<{ type: string; count: number }>
  closed: Promise<[number, string]>
}

describe('examples/websocket.ts (ws)', () => {
  let store: ReturnType<typeof countingStore<MemoryStore>>
  let sessions: SessionManager
  let server: ReturnType<typeof createSocketExample>
  let base: string

  async function start(options: { singleSession?: boolean; maxAge?: number; query?: string } = {}) {
    const { query, ...sessionOptions } = options
    sessions = new SessionManager({ secret, store, ...sessionOptions })
    server = createSocketExample(sessions, { origins: [ORIGIN], ...(query ? { query } : {}) })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `127.0.0.1:${(server.address() as AddressInfo).port}`
  }
  const loginAs = async (user = 'ada') =>
    (await request(server).post('/login').send({ user, password: 'demo' }).expect(200)).body.token as string

  function open(headers: Record<string, string>, path = '/socket'): Opened {
    const ws = new WebSocket(`ws://${base}${path}`, { headers })
    const first = new Promise<{ type: string; count: number }>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse(String(data)))),
    )
    const closed = new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, String(reason)])),
    )
    return { ws, first, closed }
  }
  const cookie = (token: string) => ({ cookie: `_cookie_vars=${token}` })

  beforeEach(() => {
    store = countingStore(new MemoryStore({ heartbeat: 0 }))
  })
  afterEach(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await sessions.close()
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
    console.log(`ws: ${store.calls.get / 2} store read(s) per connection`)
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
    await server.close()
    await start()
    const token2 = await loginAs()
    expect(await open({}, `/socket?token=${encodeURIComponent(token2)}`).closed).toEqual([
      4203,
      'TOKEN_EMPTY',
    ])
  })

  it('refuses forged, expired and replaced tokens, and a foreign Origin, with a code the client reads', async () => {
    await start({ singleSession: true, maxAge: 1 })
    const replaced = await loginAs()
    await loginAs()
    const expiring = await loginAs('bob')
    const good = await loginAs('cyd')
    await new Promise((resolve) => setTimeout(resolve, 1100))
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
      [4206, 'SESSION_EXPIRED'],
      [4209, 'SESSION_REPLACED'],
      [4214, 'CSRF_REJECTED'],
    ])
    expect(good).toBeDefined()
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
    const res = await request(server).get('/count').set('Cookie', `_cookie_vars=${token}`)
    expect([counts, res.body.count]).toEqual([[1, 2, 3], 3])
    socket.ws.close()
  })

  describe('closes the sockets of a session that ends', () => {
    it.each([
      ['logout', 4205, 'SESSION_NOT_EXIST logout'],
      ['revoke', 4205, 'SESSION_NOT_EXIST revoked'],
      ['destroyAll', 4205, 'SESSION_NOT_EXIST revoked'],
      ['singleSession', 4209, 'SESSION_REPLACED replaced'],
    ] as const)('after %s', async (how, code, reason) => {
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
      expect(await socket.closed).toEqual([code, reason])
      console.log(
        `ws: ${how} to socket close in ${(performance.now() - started).toFixed(1)} ms (MemoryStore)`,
      )
    })
  })
})
