import { createServer, IncomingMessage, OutgoingMessage, ServerResponse } from 'node:http'
import request from 'supertest'
import { sessionMiddleware } from '../../lib/http/middleware'
import type { SessionOptions } from '../../lib/session/options'
import type { Session } from '../../lib/session/session'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { createApp, FRAMEWORKS, type Framework, type Routes } from '../support/apps'
import { countingStore, failingStore, gatedStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'

/** Every own property of `object` with its descriptor: a replaced method shows as a changed value. */
const ownPropertiesOf = (object: object) =>
  Reflect.ownKeys(object).map((key) => [String(key), Object.getOwnPropertyDescriptor(object, key)])

const cookieOf = (res: request.Response): string | undefined =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((line) => line.startsWith('_cookie_vars='))

describe.each(FRAMEWORKS)('sessionMiddleware() on %s', (framework: Framework) => {
  let store: ReturnType<typeof countingStore<MemoryStore>>
  const app = (options: SessionOptions = {}, routes: Routes = {}) =>
    createApp(framework, { secret, store, ...options }, routes)
  const loginAs = async (
    server: ReturnType<typeof app>,
    uid = 'user123',
    values: object = { username: 'test' },
  ) => {
    const res = await request(server).post('/login').send({ uid, values })
    expect(res.status).toBe(200)
    return res.body.token as string
  }

  beforeEach(() => {
    store = countingStore(new MemoryStore({ heartbeat: 0 }))
  })

  describe('when no token is presented', () => {
    it('costs no store access and sets no cookie', async () => {
      const res = await request(app()).get('/peek')
      expect([res.status, res.body.exists, res.body.error, cookieOf(res)]).toEqual([
        200,
        false,
        null,
        undefined,
      ])
      expect(store.calls).toEqual({ create: 0, get: 0, update: 0, delete: 0, list: 0, deleteAll: 0 })
    })

    it('answers requireSession() with 401 TOKEN_EMPTY', async () => {
      const res = await request(app()).get('/me')
      expect([res.status, res.body.code, res.body.error]).toEqual([401, 203, 'TOKEN_EMPTY'])
    })

    it('starts an anonymous session at the first write, in one store call', async () => {
      const res = await request(app()).post('/set').send({ a: 1 })
      expect([res.status, res.body]).toEqual([200, { a: 1 }])
      expect(cookieOf(res)).toMatch(/^_cookie_vars=[^;]+; Max-Age=34560000/)
      expect([store.calls.create, store.calls.update]).toEqual([1, 0])
    })
  })

  describe('login', () => {
    it('answers { token, uid } with a secure-by-default cookie and the response header', async () => {
      const res = await request(app())
        .post('/login')
        .send({ uid: 'user123', values: { username: 'test' } })
      expect([res.status, res.body.uid]).toEqual([200, 'user123'])
      expect(res.headers._cookie_vars).toBe(res.body.token)
      const cookie = cookieOf(res)!
      expect(cookie).toContain(`_cookie_vars=${res.body.token}`)
      expect(cookie).toMatch(/; HttpOnly/)
      expect(cookie).toMatch(/; SameSite=Lax/)
      expect(cookie).toMatch(/; Path=\//)
      expect(cookie).not.toMatch(/; Secure/)
      expect(cookie).toMatch(/; Max-Age=34560000/)
    })

    it('issues a new session id and token even when the request carried a session (no fixation)', async () => {
      const server = app()
      const first = await loginAs(server)
      const before = await request(server).get('/me').set('Cookie', `_cookie_vars=${first}`)
      const res = await request(server)
        .post('/login')
        .set('Cookie', `_cookie_vars=${first}`)
        .send({ uid: 'user123' })
      const second = res.body.token as string
      expect(second).not.toBe(first)
      const after = await request(server).get('/me').set('Cookie', `_cookie_vars=${second}`)
      expect(after.body.id).not.toBe(before.body.id)
      const old = await request(server).get('/me').set('Cookie', `_cookie_vars=${first}`)
      expect([old.status, old.body.error]).toEqual([401, 'SESSION_NOT_EXIST'])
    })

    it('answers 401 LOGIN_FAILED when authenticate refuses', async () => {
      const res = await request(app()).post('/login').send({})
      expect([res.status, res.body.error, cookieOf(res)]).toEqual([401, 'LOGIN_FAILED', undefined])
    })

    it('lets a cookie last as long as the session lifetime when one is set', async () => {
      const res = await request(app({ lifetime: 7200 }))
        .post('/login')
        .send({ uid: 'u' })
      expect(cookieOf(res)).toMatch(/; Max-Age=7200/)
    })
  })

  describe('when a valid token is presented', () => {
    it('reads the store exactly once, writes nothing and sets no cookie for a read', async () => {
      const server = app()
      const token = await loginAs(server)
      const calls = { ...store.calls }
      const res = await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.body.uid, res.body.values]).toEqual([200, 'user123', { username: 'test' }])
      expect([store.calls.get - calls.get, store.calls.update - calls.update, cookieOf(res)]).toEqual([
        1,
        0,
        undefined,
      ])
    })

    it('accepts the token from the header, which wins over the cookie', async () => {
      const server = app()
      const token = await loginAs(server)
      const res = await request(server)
        .get('/me')
        .set('_cookie_vars', token)
        .set('Cookie', '_cookie_vars=garbage')
      expect([res.status, res.body.uid]).toEqual([200, 'user123'])
    })

    it('sends one update with only the dirty keys', async () => {
      const server = app()
      const token = await loginAs(server, 'u', { a: 1, b: 2, c: 3 })
      await request(server).post('/set').set('Cookie', `_cookie_vars=${token}`).send({ a: 10 })
      await request(server)
        .post('/unset')
        .set('Cookie', `_cookie_vars=${token}`)
        .send({ keys: ['b'] })
      expect(
        store.changes.map((change) => [Object.fromEntries(change.set ?? []), change.unset ?? []]),
      ).toEqual([
        [{ a: 10 }, []],
        [{}, ['b']],
      ])
      const res = await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect(res.body.values).toEqual({ a: 10, c: 3 })
    })

    it('keeps the writes of concurrent requests to different keys', async () => {
      const server = app()
      const token = await loginAs(server, 'u', {})
      await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          request(server)
            .post('/set')
            .set('Cookie', `_cookie_vars=${token}`)
            .send({ [`key${index}`]: index }),
        ),
      )
      const res = await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect(res.body.values).toEqual(
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key${i}`, i])),
      )
    })

    it('leaves req.session alone when the same sessionMiddleware() meets a request twice', async () => {
      const token = await loginAs(app())
      const getsBefore = store.calls.get
      const middleware = sessionMiddleware({ secret, store })
      const server = createServer((req, res) => {
        const request = req as IncomingMessage & { session: Session }
        middleware(req, res, () => {
          request.session.set('a', 1)
          middleware(req, res, () => res.end(JSON.stringify({ a: request.session.get('a') })))
        })
      })
      const res = await request(server).post('/twice').set('Cookie', `_cookie_vars=${token}`)
      expect(JSON.parse(res.text)).toEqual({ a: 1 })
      expect(store.calls.get - getsBefore).toBe(1)
    })

    it('refuses at once a second, different sessionMiddleware() on a request that has a session, naming both', async () => {
      const token = await loginAs(app())
      const second = sessionMiddleware({ secret, store, name: 'admin' })
      let first: unknown
      const remounted: Routes = {
        'POST /remounted': [
          (req, _res, next) => {
            req.session.set('a', 1)
            first = req.session
            next()
          },
          (req, res, next) => second(req, res, next),
          (req, res) =>
            void res.end(JSON.stringify({ same: req.session === first, a: req.session.get('a') })),
        ],
      }
      const res = await request(app({}, remounted)).post('/remounted').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.body.error, first === undefined]).toEqual([500, 'SESSION_ERROR', false])
      expect(res.body.message).toMatch(/"_cookie_vars" and "admin"/)
    })

    it('lets a request read its own writes', async () => {
      const server = app()
      const token = await loginAs(server)
      const first = await request(server).post('/increment').set('Cookie', `_cookie_vars=${token}`)
      const second = await request(server).post('/increment').set('Cookie', `_cookie_vars=${token}`)
      expect([first.body.count, second.body.count]).toEqual([1, 2])
    })
  })

  describe('refused tokens', () => {
    it.each([
      ['forged', 'forged'],
      [
        'wrongly signed',
        'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB.CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC',
      ],
      ['overlong', 'A'.repeat(300)],
      ['with extra parts', 'a.b.c.d'],
    ])('answers a %s token 401 SESSION_ILLEGAL without reading the store', async (_, token) => {
      const res = await request(app()).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.body.code, res.body.error, store.calls.get]).toEqual([
        401,
        207,
        'SESSION_ILLEGAL',
        0,
      ])
    })

    it('answers a token signed with another secret SESSION_ILLEGAL', async () => {
      const token = await loginAs(app({ secret: 'another-secret-that-is-long-enough-987654' }))
      const res = await request(app()).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect(res.body.error).toBe('SESSION_ILLEGAL')
    })

    it('verifies tokens signed with any rotated key and signs with the first', async () => {
      const old = 'old-secret-that-is-long-enough-000000000000'
      const oldServer = createApp(framework, { secret: old, store })
      const token = await loginAs(oldServer)
      const rotated = createApp(framework, { secret: [secret, old], store })
      expect((await request(rotated).get('/me').set('Cookie', `_cookie_vars=${token}`)).status).toBe(200)
      const fresh = await loginAs(rotated)
      expect((await request(oldServer).get('/me').set('Cookie', `_cookie_vars=${fresh}`)).body.error).toBe(
        'SESSION_ILLEGAL',
      )
    })

    it.each([
      ['bad percent-encoding', '_cookie_vars=%E0%A4%A'],
      ['duplicates', '_cookie_vars=a; _cookie_vars=b'],
      ['bytes outside ASCII', '_cookie_vars=\u00ff\u0080'],
      ['no equals sign', 'garbage'],
      ['a huge header', `x=${'y'.repeat(8000)}`],
    ])('never throws on a Cookie header with %s', async (_, cookie) => {
      const res = await request(app()).get('/peek').set('Cookie', cookie)
      expect(res.status).toBe(200)
      expect(store.calls.get).toBe(0)
    })

    it('answers an unknown session SESSION_NOT_EXIST', async () => {
      const server = app()
      const token = await loginAs(server)
      store = countingStore(new MemoryStore({ heartbeat: 0 }))
      const res = await request(app()).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.body.code, res.body.error]).toEqual([401, 205, 'SESSION_NOT_EXIST'])
    })
  })

  describe('refresh()', () => {
    it('issues a new token for the same session and the old one fails with SESSION_REPLACED', async () => {
      const server = app()
      const token = await loginAs(server)
      const res = await request(server).post('/refresh').set('Cookie', `_cookie_vars=${token}`)
      expect(cookieOf(res)).toContain(res.body.token)
      const fresh = await request(server).get('/me').set('Cookie', `_cookie_vars=${res.body.token}`)
      expect([fresh.status, fresh.body.values]).toEqual([200, { username: 'test' }])
      const old = await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([old.status, old.body.code, old.body.error]).toEqual([401, 209, 'SESSION_REPLACED'])
    })

    it('keeps the old token valid for refreshGrace seconds, then replaced', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
      try {
        const server = app({ refreshGrace: 30 })
        const token = await loginAs(server)
        await request(server).post('/refresh').set('Cookie', `_cookie_vars=${token}`)
        jest.setSystemTime(Date.now() + 29_000)
        expect((await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)).status).toBe(200)
        jest.setSystemTime(Date.now() + 2_000)
        expect((await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)).body.error).toBe(
          'SESSION_REPLACED',
        )
      } finally {
        jest.useRealTimers()
      }
    })
  })

  describe('logout', () => {
    it('deletes the session, clears the cookie and answers 204', async () => {
      const server = app()
      const token = await loginAs(server)
      const res = await request(server).post('/logout').set('Cookie', `_cookie_vars=${token}`)
      expect(res.status).toBe(204)
      expect(cookieOf(res)).toMatch(/^_cookie_vars=;.*Max-Age=0.*Expires=Thu, 01 Jan 1970/)
      const after = await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect(after.body.error).toBe('SESSION_NOT_EXIST')
    })

    it('is never undone by a flush of a request that started before it', async () => {
      const gated = gatedStore(store)
      const server = createApp(framework, { secret, store: gated.store })
      const token = await loginAs(server)
      const slow = request(server).post('/set').set('Cookie', `_cookie_vars=${token}`).send({ late: true })
      const slowDone = slow.then((res) => res)
      await gated.updateEntered
      await request(server).post('/logout').set('Cookie', `_cookie_vars=${token}`)
      gated.open()
      const res = await slowDone
      expect([res.status, res.body.error]).toEqual([401, 'SESSION_NOT_EXIST'])
      expect(store.size).toBe(0)
    })
  })

  describe('the flush', () => {
    it('completes before the response does, so the next request reads its own writes', async () => {
      const gated = gatedStore(store)
      const server = createApp(framework, { secret, store: gated.store })
      const token = await loginAs(server)
      let answered = false
      const pending = request(server)
        .post('/set')
        .set('Cookie', `_cookie_vars=${token}`)
        .send({ a: 1 })
        .then((res) => {
          answered = true
          return res
        })
      await gated.updateEntered
      await new Promise((resolve) => setImmediate(resolve))
      expect(answered).toBe(false)
      gated.open()
      expect((await pending).status).toBe(200)
    })

    it('turns the handler success into 503 STORE_UNAVAILABLE when the store fails', async () => {
      const server = app()
      const token = await loginAs(server)
      const broken = createApp(framework, { secret, store: failingStore(store, { update: true }) })
      const res = await request(broken).post('/set').set('Cookie', `_cookie_vars=${token}`).send({ a: 1 })
      expect([res.status, res.body.code, res.body.error]).toEqual([503, 210, 'STORE_UNAVAILABLE'])
    })

    it('aborts a response whose headers were already sent when the store fails', async () => {
      const token = await loginAs(app())
      const streaming: Routes = {
        'POST /stream': (req, res: ServerResponse) => {
          req.session.set('a', 1)
          res.write('partial')
          res.end('rest')
        },
      }
      const broken = createApp(framework, { secret, store: failingStore(store, { update: true }) }, streaming)
      await expect(request(broken).post('/stream').set('Cookie', `_cookie_vars=${token}`)).rejects.toThrow()
    })

    it('changes nothing outside the one response it holds: no prototype, no other response', async () => {
      const prototypes = [ServerResponse.prototype, OutgoingMessage.prototype, IncomingMessage.prototype]
      const before = prototypes.map(ownPropertiesOf)
      const token = await loginAs(app())
      const gated = gatedStore(store)
      const held = createApp(framework, { secret, store: gated.store })
      const bystander = createServer((_req, res) => {
        res.setHeader('x-bystander', 'yes')
        res.end('plain')
      })
      const writing = request(held).post('/increment').set('Cookie', `_cookie_vars=${token}`)
      const answered = writing.then((res) => res)
      await gated.updateEntered
      const plain = await request(bystander).get('/')
      gated.open()
      expect([(await answered).body.count, plain.status, plain.text, plain.headers['x-bystander']]).toEqual([
        1,
        200,
        'plain',
        'yes',
      ])
      expect(prototypes.map(ownPropertiesOf)).toEqual(before)
    })

    it.each([
      ['on the response', (res: ServerResponse, end: ServerResponse['end']) => Object.assign(res, { end })],
      [
        "on a prototype between the response and Node's",
        (res: ServerResponse, end: ServerResponse['end']) =>
          Object.setPrototypeOf(
            res,
            Object.create(Object.getPrototypeOf(res), { end: { value: end, writable: true } }),
          ),
      ],
    ])('stores before an end that other code wrapped earlier %s runs', async (_where, wrap) => {
      const token = await loginAs(app())
      const updatesBefore = store.calls.update
      const wrapping: Routes = {
        'POST /wrapped': [
          (_req, res: ServerResponse, next) => {
            const end = res.end
            wrap(res, function wrappedEnd(this: ServerResponse, ...args: unknown[]) {
              this.setHeader('x-updates-at-end', String(store.calls.update - updatesBefore))
              return end.apply(this, args as Parameters<typeof end>)
            } as ServerResponse['end'])
            next()
          },
          (req, res: ServerResponse) => {
            req.session.set('a', 1)
            res.end('done')
          },
        ],
      }
      const res = await request(app({}, wrapping)).post('/wrapped').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.headers['x-updates-at-end']]).toEqual([200, '1'])
    })

    it('answers a second end while the write waits as Node does after end: the first answer goes out', async () => {
      const gated = gatedStore(store)
      let reported: unknown
      const twice: Routes = {
        'POST /twice': (req, res: ServerResponse) => {
          req.session.set('a', 1)
          res.on('error', (error: NodeJS.ErrnoException) => {
            reported = error.code
          })
          res.end('first')
          res.end('second')
        },
      }
      const server = createApp(framework, { secret, store: gated.store }, twice)
      const token = await loginAs(server)
      const pending = request(server).post('/twice').set('Cookie', `_cookie_vars=${token}`)
      const answered = pending.then((res) => res)
      await gated.updateEntered
      gated.open()
      const res = await answered
      expect([res.status, res.text, reported]).toEqual([200, 'first', 'ERR_STREAM_WRITE_AFTER_END'])
    })

    it('passes a store failure while verifying to next() as 503 STORE_UNAVAILABLE', async () => {
      const token = await loginAs(app())
      const broken = createApp(framework, { secret, store: failingStore(store, { get: true }) })
      const res = await request(broken).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([res.status, res.body.code]).toEqual([503, 210])
    })

    it('reports a store that throws synchronously as 503 STORE_UNAVAILABLE, reading or writing', async () => {
      const token = await loginAs(app())
      const reading = createApp(framework, {
        secret,
        store: failingStore(store, { get: true, throws: true }),
      })
      const read = await request(reading).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([read.status, read.body.code]).toEqual([503, 210])
      const writing = createApp(framework, {
        secret,
        store: failingStore(store, { update: true, throws: true }),
      })
      const write = await request(writing).post('/set').set('Cookie', `_cookie_vars=${token}`).send({ a: 1 })
      expect([write.status, write.body.code]).toEqual([503, 210])
      const after = await request(app()).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect(after.body.values).not.toHaveProperty('a')
    })
  })
})
