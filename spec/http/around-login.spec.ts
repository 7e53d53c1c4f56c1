/**
 * What apps build around login, over real servers of every framework and on a store that answers
 * synchronously, one that answers after a delay, and Redis: anonymous sessions and their promotion
 * at login, flash values, browser-session cookies ("remember me" off), and the device a login
 * records.
 */
import { createServer } from 'node:http'
import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { login, requireSession } from '../../lib/http/helpers'
import { sessionMiddleware } from '../../lib/http/middleware'
import type { SessionOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { Store } from '../../lib/stores/store'
import { createApp, FRAMEWORKS, type Routes } from '../support/apps'
import { type RedisUnderTest, useRedis } from '../support/redis-server'
import { countingStore, slowStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'
const otherSecret = 'another-secret-that-is-long-enough-98765'

let redis: RedisUnderTest
beforeAll(async () => {
  redis = await useRedis()
})
afterAll(async () => {
  await redis.stop()
})

const STORES: [string, () => Store][] = [
  ['MemoryStore', () => new MemoryStore({ heartbeat: 0 })],
  ['a store that answers after a delay', () => slowStore(new MemoryStore({ heartbeat: 0 }))],
  ['RedisStore', () => new RedisStore(redis.url, { prefix: redis.nextPrefix() })],
]

const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  res.statusCode = status
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify(body))
}

/** Routes of the features under test, beside the standard ones. */
const routes: Routes = {
  'POST /flash': (req, res) => {
    req.session.flash(String(req.body?.key), req.body?.value as never)
    json(res, 200, { id: req.session.id ?? null })
  },
  'GET /take-flash': (req, res) => {
    const key = new URL(req.url ?? '/', 'http://x').searchParams.get('key') ?? ''
    json(res, 200, { value: req.session.takeFlash(key) ?? null, values: req.session.toJSON() })
  },
  'POST /logout-with-notice': async (req, res, next) => {
    try {
      await req.session.destroy()
      req.session.flash('notice', 'You are logged out')
      json(res, 200, { anonymous: req.session.anonymous })
    } catch (error) {
      next(error)
    }
  },
  'GET /who': (req, res) =>
    json(res, 200, {
      exists: req.session.exists,
      anonymous: req.session.anonymous,
      uid: req.session.uid ?? null,
      id: req.session.id ?? null,
      values: req.session.toJSON(),
    }),
}

const setCookies = (res: request.Response): string[] =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? [])
const cookieOf = (res: request.Response) => setCookies(res).find((line) => line.startsWith('_cookie_vars='))
/** The `name=value` of the session cookie a response set, for the next request's `Cookie`. */
const sent = (res: request.Response) => cookieOf(res)!.split(';')[0]!

describe.each(STORES)('around login, on %s', (_name, makeStore) => {
  let store: ReturnType<typeof countingStore<Store>>
  beforeEach(() => {
    store = countingStore(makeStore())
  })
  afterEach(async () => {
    await store.close?.()
  })

  describe.each(FRAMEWORKS)('%s', (framework) => {
    const app = (options: SessionOptions = {}) => createApp(framework, { secret, store, ...options }, routes)

    describe('anonymous sessions', () => {
      it('a request that only reads costs no store access and sets no cookie', async () => {
        const res = await request(app()).get('/who')
        expect([res.body.exists, cookieOf(res)]).toEqual([false, undefined])
        expect(store.calls).toEqual({ create: 0, get: 0, update: 0, delete: 0, list: 0, deleteAll: 0 })
      })

      it('the first write starts one with no uid, stored in one call, read back by the next request', async () => {
        const server = app()
        const first = await request(server).post('/set').send({ theme: 'dark' })
        expect(first.status).toBe(200)
        expect([store.calls.create, store.calls.update]).toEqual([1, 0])
        const next = await request(server).get('/who').set('Cookie', sent(first))
        expect(next.body).toMatchObject({
          exists: true,
          anonymous: true,
          uid: null,
          values: { theme: 'dark' },
        })
        const more = await request(server).post('/set').set('Cookie', sent(first)).send({ lang: 'fr' })
        expect([cookieOf(more), store.calls.update]).toEqual([undefined, 1])
      })

      it('is refused by requireSession() and by the per-user operations with SESSION_NOT_CREATED', async () => {
        const server = app()
        const cookie = sent(await request(server).post('/set').send({ theme: 'dark' }))
        for (const [method, path] of [
          ['get', '/me'],
          ['get', '/sessions'],
          ['post', '/revoke'],
          ['post', '/destroy-all'],
        ] as const) {
          const res = await request(server)[method](path).set('Cookie', cookie).send({ id: 'x' })
          expect([path, res.status, res.body.error]).toEqual([path, 401, 'SESSION_NOT_CREATED'])
        }
        const still = await request(server).get('/who').set('Cookie', cookie)
        expect(still.body.values).toEqual({ theme: 'dark' })
      })

      it('is promoted at login: a new id and token, the old token refused, only the kept values carried', async () => {
        const server = app()
        const anonymous = await request(server)
          .post('/set')
          .send({ cart: ['book'], theme: 'dark' })
        const before = await request(server).get('/who').set('Cookie', sent(anonymous))
        const loggedIn = await request(server)
          .post('/login')
          .set('Cookie', sent(anonymous))
          .send({ uid: 'ada', values: { name: 'Ada' }, keep: ['cart'] })
        expect(loggedIn.status).toBe(200)
        const after = await request(server).get('/who').set('Cookie', sent(loggedIn))
        expect(after.body).toMatchObject({
          anonymous: false,
          uid: 'ada',
          values: { name: 'Ada', cart: ['book'] },
        })
        expect(after.body.values.theme).toBeUndefined()
        expect(after.body.id).not.toBe(before.body.id)
        const old = await request(server).get('/who').set('Cookie', sent(anonymous))
        expect(old.body.exists).toBe(false)
        expect(await store.get(before.body.id)).toBeUndefined()
      })

      it('leaves no cookie and stores nothing when the handler that wrote answers 500', async () => {
        const failing = createApp(
          framework,
          { secret, store },
          {
            'POST /fail': (req, res) => {
              req.session.set('theme', 'dark')
              res.statusCode = 500
              res.end('failed')
            },
          },
        )
        const res = await request(failing).post('/fail')
        expect([res.status, cookieOf(res)]).toEqual([500, undefined])
        expect(store.calls.create + store.calls.update).toBe(0)
      })

      it('keeps nothing at login unless asked, and everything with keep: true', async () => {
        const server = app()
        const one = await request(server)
          .post('/set')
          .send({ cart: ['book'] })
        const plain = await request(server).post('/login').set('Cookie', sent(one)).send({ uid: 'ada' })
        expect((await request(server).get('/who').set('Cookie', sent(plain))).body.values).toEqual({})
        const two = await request(server)
          .post('/set')
          .send({ cart: ['pen'], theme: 'light' })
        const all = await request(server)
          .post('/login')
          .set('Cookie', sent(two))
          .send({ uid: 'ada', keep: true })
        expect((await request(server).get('/who').set('Cookie', sent(all))).body.values).toEqual({
          cart: ['pen'],
          theme: 'light',
        })
      })
    })

    describe('flash', () => {
      it('is read once by the next request, stored with that request in one write each way', async () => {
        const server = app()
        const flashed = await request(server).post('/flash').send({ key: 'notice', value: 'Saved' })
        expect([store.calls.create, store.calls.update]).toEqual([1, 0])
        const cookie = sent(flashed)
        const taken = await request(server).get('/take-flash?key=notice').set('Cookie', cookie)
        expect(taken.body).toEqual({ value: 'Saved', values: {} })
        expect(store.calls.update).toBe(1)
        const again = await request(server).get('/take-flash?key=notice').set('Cookie', cookie)
        expect(again.body.value).toBeNull()
        expect(store.calls.update).toBe(1)
      })

      it('works on a logged-in session, beside its values, without showing among them', async () => {
        const server = app()
        const cookie = sent(
          await request(server)
            .post('/login')
            .send({ uid: 'ada', values: { n: 1 } }),
        )
        const writes = store.calls.update
        await request(server).post('/flash').set('Cookie', cookie).send({ key: 'notice', value: 'Hi' })
        expect(store.calls.update).toBe(writes + 1)
        const who = await request(server).get('/who').set('Cookie', cookie)
        expect(who.body.values).toEqual({ n: 1 })
        const taken = await request(server).get('/take-flash?key=notice').set('Cookie', cookie)
        expect(taken.body).toEqual({ value: 'Hi', values: { n: 1 } })
      })

      it('survives a logout in the same request, on a new anonymous session', async () => {
        const server = app()
        const cookie = sent(await request(server).post('/login').send({ uid: 'ada' }))
        const out = await request(server).post('/logout-with-notice').set('Cookie', cookie)
        expect([out.status, out.body.anonymous]).toEqual([200, true])
        const taken = await request(server).get('/take-flash?key=notice').set('Cookie', sent(out))
        expect(taken.body.value).toBe('You are logged out')
        expect((await request(server).get('/who').set('Cookie', cookie)).body.exists).toBe(false)
      })

      it('refuses app keys that would read as flash values, storing nothing', async () => {
        const res = await request(app()).post('/set').send({ '!flash:notice': 'x' })
        expect([res.status, res.body.error]).toEqual([500, 'SESSION_ERROR'])
        expect(store.calls.create + store.calls.update).toBe(0)
      })
    })

    describe('remember me', () => {
      it('persistent: false gives a cookie without Max-Age or Expires, through later writes and refresh()', async () => {
        const server = app()
        const loggedIn = await request(server).post('/login').send({ uid: 'ada', persistent: false })
        expect(cookieOf(loggedIn)).not.toMatch(/Max-Age|Expires/i)
        expect(cookieOf(loggedIn)).toMatch(/HttpOnly/)
        const record = await store.get(
          (await request(server).get('/who').set('Cookie', sent(loggedIn))).body.id,
        )
        expect([record?.maxAge, record?.persistent]).toEqual([3600, false])
        const written = await request(server).post('/increment').set('Cookie', sent(loggedIn))
        expect(cookieOf(written)).toBeUndefined()
        const refreshed = await request(server).post('/refresh').set('Cookie', sent(loggedIn))
        expect(refreshed.status).toBe(200)
        expect(cookieOf(refreshed)).not.toMatch(/Max-Age|Expires/i)
        const still = await request(server).get('/me').set('Cookie', sent(refreshed))
        expect(still.status).toBe(200)
      })

      it('keeps the choice when a rotated signing key re-issues the token', async () => {
        const before = createApp(framework, { secret: otherSecret, store }, routes)
        const loggedIn = await request(before).post('/login').send({ uid: 'ada', persistent: false })
        const after = createApp(framework, { secret: [secret, otherSecret], store }, routes)
        const reissued = await request(after).get('/me').set('Cookie', sent(loggedIn))
        expect(reissued.status).toBe(200)
        expect(cookieOf(reissued)).toBeDefined()
        expect(cookieOf(reissued)).not.toMatch(/Max-Age|Expires/i)
      })

      it('persistent: true (the default) lasts; the middleware option changes the default', async () => {
        const lasting = await request(app()).post('/login').send({ uid: 'ada' })
        expect(cookieOf(lasting)).toMatch(/Max-Age=\d+/)
        const session = await request(app({ persistent: false }))
          .post('/login')
          .send({ uid: 'ada' })
        expect(cookieOf(session)).not.toMatch(/Max-Age|Expires/i)
        const asked = await request(app({ persistent: false }))
          .post('/login')
          .send({ uid: 'ada', persistent: true })
        expect(cookieOf(asked)).toMatch(/Max-Age=\d+/)
      })
    })

    describe('named devices', () => {
      it('records the User-Agent (cut to 256 characters) and the client address of each login', async () => {
        const server = app()
        const agent = `Mozilla/5.0 (X11; Linux x86_64) ${'x'.repeat(400)}`
        const first = await request(server).post('/login').set('User-Agent', 'curl/8.5').send({ uid: 'ada' })
        const second = await request(server).post('/login').set('User-Agent', agent).send({ uid: 'ada' })
        const listed = await request(server).get('/sessions').set('Cookie', sent(second))
        // both logins may fall in one millisecond, so their order in the list is not the test's
        const agents = listed.body.map((info: { userAgent: string; current: boolean }) => [
          info.userAgent,
          info.current,
        ])
        expect(agents.sort()).toEqual([
          [agent.slice(0, 256), true],
          ['curl/8.5', false],
        ])
        for (const info of listed.body) expect(info.address).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/)
        expect(sent(first)).not.toBe(sent(second))
      })

      it('records none with recordDevice: false', async () => {
        const server = app({ recordDevice: false })
        const res = await request(server).post('/login').set('User-Agent', 'curl/8.5').send({ uid: 'ada' })
        const listed = await request(server).get('/sessions').set('Cookie', sent(res))
        expect(listed.body[0]).not.toHaveProperty('userAgent')
        expect(listed.body[0]).not.toHaveProperty('address')
      })

      it('ignores X-Forwarded-For unless Express trusts the proxy', async () => {
        const server = app()
        const res = await request(server)
          .post('/login')
          .set('X-Forwarded-For', '203.0.113.7')
          .send({ uid: 'ada' })
        const listed = await request(server).get('/sessions').set('Cookie', sent(res))
        expect(listed.body[0].address).not.toBe('203.0.113.7')
      })
    })
  })

  describe.each([
    ['Express 5', express5],
    ['Express 4', express4 as unknown as typeof express5],
  ] as const)('%s with trust proxy', (_express, express) => {
    it('records the address Express gives after trust proxy', async () => {
      const app = express()
      app.set('trust proxy', 'loopback')
      app.use(sessionMiddleware({ secret, store }))
      app.use(express.json())
      app.post(
        '/login',
        login((req) => ({ uid: String(req.body.uid) })),
      )
      app.get('/sessions', requireSession(), async (req, res) => {
        res.json(await req.session.sessions())
      })
      const server = createServer(app)
      const res = await request(server)
        .post('/login')
        .set('X-Forwarded-For', '203.0.113.7')
        .send({ uid: 'ada' })
      const listed = await request(server).get('/sessions').set('Cookie', sent(res))
      expect(listed.body[0].address).toBe('203.0.113.7')
    })
  })
})
