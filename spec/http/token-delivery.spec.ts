/**
 * Where a token goes and when it is issued again: never outside the cookie to a browser, renewed
 * once a window near the browser's cookie cap, re-signed under the first key, and never lost in
 * silence when the response can no longer carry it.
 */
import type { ServerResponse } from 'node:http'
import request from 'supertest'
import type { SessionOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { createApp, FRAMEWORKS, type Framework, type Routes } from '../support/apps'
import { slowStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'
const oldSecret = 'an-older-secret-that-is-long-enough-00000'
const DAY = 24 * 3600 * 1000

const cookieOf = (res: request.Response): string | undefined =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((line) => line.startsWith('_cookie_vars='))
const tokenIn = (line: string | undefined) => /^_cookie_vars=([^;]*)/.exec(line ?? '')?.[1]

describe.each(FRAMEWORKS)('tokens on %s', (framework: Framework) => {
  let store: MemoryStore
  const app = (options: SessionOptions = {}, routes: Routes = {}) =>
    createApp(framework, { secret, store, ...options }, routes)

  beforeEach(() => {
    store = new MemoryStore({ heartbeat: 0 })
  })
  afterEach(() => jest.useRealTimers())

  describe('to a browser', () => {
    it('never shows the token outside its HttpOnly cookie: no header, no login body', async () => {
      const server = app()
      const login = await request(server)
        .post('/login')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ uid: 'ada' })
      expect([login.status, login.body, login.headers._cookie_vars]).toEqual([200, { uid: 'ada' }, undefined])
      expect(cookieOf(login)).toMatch(/; HttpOnly/)
      const refreshed = await request(server)
        .post('/refresh')
        .set('Sec-Fetch-Site', 'same-origin')
        .set('Cookie', `_cookie_vars=${tokenIn(cookieOf(login))}`)
      expect([refreshed.status, refreshed.headers._cookie_vars, tokenIn(cookieOf(refreshed))]).toEqual([
        200,
        undefined,
        expect.stringMatching(/\./),
      ])
    })

    it('keeps the token in the cookie for a client that presents it there, with or without Fetch Metadata', async () => {
      const server = app()
      const login = await request(server).post('/login').send({ uid: 'ada' })
      const refreshed = await request(server)
        .post('/refresh')
        .set('Cookie', `_cookie_vars=${login.body.token}`)
      expect(refreshed.headers._cookie_vars).toBeUndefined()
    })
  })

  describe('to an API client', () => {
    it('sends the token in the response header and in login’s body', async () => {
      const server = app()
      const login = await request(server).post('/login').send({ uid: 'ada' })
      expect(login.body).toEqual({ uid: 'ada', token: login.headers._cookie_vars })
      const me = await request(server).get('/me').set('_cookie_vars', login.body.token)
      expect(me.status).toBe(200)
    })

    it('sends it to a browser too when cookies are off, the app having chosen header tokens', async () => {
      const login = await request(app({ cookie: false }))
        .post('/login')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ uid: 'ada' })
      expect(login.body.token).toBe(login.headers._cookie_vars)
    })
  })

  describe('near the browser’s 400-day cookie cap', () => {
    it('renews the cookie once a 200-day window, not on every request after it', async () => {
      // only the clock is faked: sockets and the store's timers run as usual
      jest.useFakeTimers({
        doNotFake: [
          'nextTick',
          'setImmediate',
          'clearImmediate',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'queueMicrotask',
          'performance',
          'hrtime',
        ],
      })
      const start = Date.UTC(2026, 0, 1)
      jest.setSystemTime(start)
      const server = app({ maxAge: 0 })
      const login = await request(server).post('/login').send({ uid: 'ada' })
      let cookie = `_cookie_vars=${login.body.token}`
      const renewedOn: number[] = []
      for (const day of [100, 199, 201, 202, 300, 399, 402, 403]) {
        jest.setSystemTime(start + day * DAY)
        const res = await request(server).get('/me').set('Cookie', cookie)
        expect(res.status).toBe(200)
        const renewed = tokenIn(cookieOf(res))
        if (renewed) {
          expect(cookieOf(res)).toMatch(/Max-Age=34560000/)
          renewedOn.push(day)
          cookie = `_cookie_vars=${renewed}`
        }
      }
      expect(renewedOn).toEqual([201, 402])
    })
  })

  describe('signed by an older key of secret', () => {
    it('is issued again under the first, for the same session, so the old key can be dropped', async () => {
      const before = app({ secret: oldSecret })
      const login = await request(before)
        .post('/login')
        .send({ uid: 'ada', values: { kept: true } })
      const rotated = app({ secret: [secret, oldSecret] })
      const res = await request(rotated).get('/me').set('Cookie', `_cookie_vars=${login.body.token}`)
      const reissued = tokenIn(cookieOf(res))!
      expect([res.status, reissued.split('.')[0]]).toEqual([200, login.body.token.split('.')[0]])
      const onlyNewKey = app({ secret })
      const me = await request(onlyNewKey).get('/me').set('Cookie', `_cookie_vars=${reissued}`)
      expect([me.status, me.body.values]).toEqual([200, { kept: true }])
      const again = await request(rotated).get('/me').set('Cookie', `_cookie_vars=${reissued}`)
      expect(cookieOf(again)).toBeUndefined()
    })
  })

  describe('when the response can no longer carry a token', () => {
    it('refuses refresh() after the headers are sent with HEADERS_SENT, changing nothing', async () => {
      let refused: unknown
      const routes: Routes = {
        'POST /stream-then-refresh': async (req, res: ServerResponse) => {
          res.write('streaming')
          refused = await req.session.refresh().catch((error: { error?: string }) => error.error)
          res.end()
        },
      }
      const server = app({}, routes)
      const login = await request(server).post('/login').send({ uid: 'ada' })
      await request(server).post('/stream-then-refresh').set('_cookie_vars', login.body.token)
      expect(refused).toBe('HEADERS_SENT')
      expect((await request(server).get('/me').set('_cookie_vars', login.body.token)).status).toBe(200)
    })

    it('refuses a change after the response ended with RESPONSE_ENDED', async () => {
      let refused: unknown
      const routes: Routes = {
        'POST /late-write': (req, res: ServerResponse) => {
          res.end('done')
          try {
            req.session.set('late', true)
          } catch (error) {
            refused = (error as { error?: string }).error
          }
        },
      }
      const server = app({}, routes)
      const login = await request(server).post('/login').send({ uid: 'ada' })
      await request(server).post('/late-write').set('_cookie_vars', login.body.token)
      expect(refused).toBe('RESPONSE_ENDED')
    })

    it('waits for a create() the app did not await, so its cookie still goes out', async () => {
      const routes: Routes = {
        'POST /login-and-redirect': (req, res: ServerResponse) => {
          void req.session.create('ada', { via: 'redirect' })
          res.statusCode = 303
          res.setHeader('location', '/me')
          res.end()
        },
      }
      const server = app({ store: slowStore(store) }, routes)
      const res = await request(server).post('/login-and-redirect')
      const me = await request(server)
        .get('/me')
        .set('Cookie', `_cookie_vars=${tokenIn(cookieOf(res))}`)
      expect([res.status, me.status, me.body.values]).toEqual([303, 200, { via: 'redirect' }])
    })
  })

  describe('that cannot be used', () => {
    it.each([
      ['an overlong cookie', (token: string) => ({ Cookie: `_cookie_vars=${token}${'x'.repeat(900)}` })],
      ['an overlong header token', (token: string) => ({ _cookie_vars: `${token}${'x'.repeat(900)}` })],
    ])('answers SESSION_ILLEGAL for %s, as for a forged one', async (_, headers) => {
      const server = app()
      const login = await request(server).post('/login').send({ uid: 'ada' })
      const res = await request(server).get('/me').set(headers(login.body.token))
      expect([res.status, res.body.error]).toEqual([401, 'SESSION_ILLEGAL'])
    })
  })
})
