import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import request from 'supertest'
import { WebSocket } from 'ws'
import { MemoryStore } from '../lib/stores/memory/memory-store'
import { createExample, type Example } from './app'
import type { LiveMessage } from './live'

const secret = 'test-secret-that-is-long-enough-0123456789'

describe("examples/live.ts (the demo's live panel)", () => {
  let example: Example
  let server: ReturnType<typeof createServer>
  let host: string

  beforeEach(async () => {
    example = createExample({ secret, store: new MemoryStore({ heartbeat: 0 }) })
    server = createServer(example.app)
    example.live.attach(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterEach(async () => {
    await example.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  const loginAs = async (user: string) =>
    (await request(server).post('/api/login').send({ user, password: 'demo' }).expect(200)).body
      .token as string
  const open = (token: string, origin: string) =>
    new WebSocket(`ws://${host}/live`, { headers: { cookie: `_cookie_vars=${token}`, origin } })
  const closed = (ws: WebSocket) =>
    new Promise<[number, string]>((resolve) =>
      ws.once('close', (code, reason) => resolve([code, String(reason)])),
    )

  it("refuses a page of another origin, and no cookie, with the SessionError's code", async () => {
    const token = await loginAs('ada')
    expect(
      await Promise.all([closed(open(token, 'http://evil.example')), closed(open('', `http://${host}`))]),
    ).toEqual([
      [4214, 'CSRF_REJECTED'],
      [4203, 'TOKEN_EMPTY'],
    ])
  })

  it('refuses an anonymous session (a visitor who only picked a theme): it has no user to follow', async () => {
    const picked = await request(server)
      .post('/theme')
      .set('sec-fetch-site', 'same-origin')
      .type('form')
      .send({ theme: 'dark' })
      .expect(303)
    const token = /^_cookie_vars=([^;]+)/.exec(picked.headers['set-cookie']?.[0] ?? '')![1]!
    expect(await closed(open(token, `http://${host}`))).toEqual([4204, 'SESSION_NOT_CREATED'])
  })

  it("sends every open page of the user each count, and ended to the session's own", async () => {
    const [mine, theirs] = [await loginAs('ada'), await loginAs('ada')]
    const sockets = [open(mine, `http://${host}`), open(theirs, `http://${host}`)]
    await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('open', resolve))))
    const received = sockets.map((ws) => {
      const messages: LiveMessage[] = []
      ws.on('message', (data) => messages.push(JSON.parse(String(data))))
      return messages
    })
    await request(server).post('/api/counter').set('_cookie_vars', mine).expect(200)
    while (received[1]!.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    const end = closed(sockets[1]!)
    await request(server).post('/api/logout').set('_cookie_vars', theirs).expect(204)
    expect(await end).toEqual([4205, 'SESSION_NOT_EXIST logout'])
    expect(received).toEqual([
      [{ type: 'count', session: expect.stringMatching(/^…/), current: true, count: 1 }],
      [
        {
          type: 'count',
          session: (received[0]![0] as { session: string }).session,
          current: false,
          count: 1,
        },
        { type: 'ended', code: 205, error: 'SESSION_NOT_EXIST', reason: 'logout' },
      ],
    ])
    sockets[0]!.close()
  })
})
