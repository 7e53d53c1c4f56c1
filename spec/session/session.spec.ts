import request from 'supertest'
import { sendJson } from '../../lib/http/answers'
import type { SessionOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { createApp, FRAMEWORKS, type Framework, type Routes } from '../support/apps'

const secret = 'test-secret-that-is-long-enough-0123456789'

describe.each(FRAMEWORKS)('req.session on %s', (framework: Framework) => {
  let store: MemoryStore
  const app = (options: SessionOptions = {}, routes: Routes = {}) =>
    createApp(framework, { secret, store, ...options }, routes)
  const loginAs = async (server: ReturnType<typeof app>, uid = 'user123', values: object = {}) => {
    const res = await request(server).post('/login').send({ uid, values })
    expect(res.status).toBe(200)
    return res.body.token as string
  }
  const as = (token: string) => ({ Cookie: `_cookie_vars=${token}` })

  beforeEach(() => {
    store = new MemoryStore({ heartbeat: 0 })
  })

  describe('values', () => {
    const probe: Routes = {
      'POST /try-set': (req, res) => {
        const { key, kind } = req.body as { key: string; kind: string }
        const values: Record<string, unknown> = {
          function: () => 1,
          symbol: Symbol('s'),
          undefined: undefined,
          bigint: 10n,
          nan: Number.NaN,
          infinity: Number.POSITIVE_INFINITY,
          date: new Date(0),
          map: new Map(),
          nestedUndefined: { a: [1, undefined] },
          // biome-ignore lint/suspicious/noSparseArray: a sparse array is the input under test
          sparse: [1, , 3],
        }
        const cycle: Record<string, unknown> = {}
        cycle.self = cycle
        values.cycle = cycle
        try {
          req.session.set(key, values[kind] as never)
          sendJson(res, 200, { stored: true })
        } catch (error) {
          const { code, error: name } = error as { code: number; error: string }
          sendJson(res, 200, { code, error: name, values: req.session.toJSON() })
        }
      },
      'GET /typed': (req, res) => {
        const keys = ['text', 'number', 'flag', 'missing']
        const read = (getter: 'getString' | 'getNumber' | 'getBoolean') =>
          keys.map((key) => req.session[getter](key as never))
        sendJson(res, 200, {
          strings: read('getString'),
          numbers: read('getNumber'),
          booleans: read('getBoolean'),
        })
      },
    }

    it.each([
      'function',
      'symbol',
      'undefined',
      'bigint',
      'nan',
      'infinity',
      'date',
      'map',
      'nestedUndefined',
      'sparse',
      'cycle',
    ])('refuses a %s at set() with SESSION_ERROR and keeps the session as it was', async (kind) => {
      const server = app({}, probe)
      const token = await loginAs(server, 'u', { kept: 1 })
      const res = await request(server).post('/try-set').set(as(token)).send({ key: 'bad', kind })
      expect(res.body).toEqual({ code: 201, error: 'SESSION_ERROR', values: { kept: 1 } })
      expect((await request(server).get('/me').set(as(token))).body.values).toEqual({ kept: 1 })
    })

    it('stores keys such as __proto__ and constructor without touching prototypes', async () => {
      const server = app()
      const token = await loginAs(server)
      const body = JSON.parse('{"__proto__":{"polluted":true},"constructor":"c","hasOwnProperty":1}')
      await request(server).post('/set').set(as(token)).send(body)
      const res = await request(server).get('/me').set(as(token))
      expect(res.text).toContain('"__proto__":{"polluted":true}')
      expect(res.body.values.constructor).toBe('c')
      expect(({} as { polluted?: boolean }).polluted).toBeUndefined()
    })

    it("keeps each request's snapshot apart from the others' writes while they are in flight", async () => {
      let release = () => {}
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      let reading = () => {}
      const read = new Promise<void>((resolve) => {
        reading = resolve
      })
      const routes: Routes = {
        'POST /slow-write': async (req, res) => {
          const before = req.session.toJSON()
          reading()
          await released
          const during = req.session.toJSON()
          req.session.set('slow', 1)
          sendJson(res, 200, { before, during, after: req.session.toJSON() })
        },
      }
      const server = app({}, routes)
      const token = await loginAs(server, 'u', { a: 1, b: 2 })
      const slow = request(server)
        .post('/slow-write')
        .set(as(token))
        .then((res) => res.body)
      await read
      // a read of the same session before and after another request's write, while the slow one waits
      const peek = async () => (await request(server).get('/me').set(as(token))).body.values
      const untouched = await peek()
      await request(server).post('/set').set(as(token)).send({ a: 10 })
      await request(server)
        .post('/unset')
        .set(as(token))
        .send({ keys: ['b'] })
      const changed = await peek()
      release()
      expect([untouched, changed]).toEqual([{ a: 1, b: 2 }, { a: 10 }])
      expect(await slow).toEqual({
        before: { a: 1, b: 2 },
        during: { a: 1, b: 2 },
        after: { a: 1, b: 2, slow: 1 },
      })
      expect(await peek()).toEqual({ a: 10, slow: 1 })
    })

    it('gives typed getters the seed zero values for absent keys and values of another type', async () => {
      const server = app({}, probe)
      const token = await loginAs(server, 'u', { text: 'hello', number: 42, flag: true })
      const res = await request(server).get('/typed').set(as(token))
      expect(res.body).toEqual({
        strings: ['hello', '', '', ''],
        numbers: [0, 42, 0, 0],
        booleans: [false, false, true, false],
      })
    })

    it('refuses a login with values that are not JSON, creating nothing', async () => {
      const routes: Routes = {
        'POST /bad-login': async (req, _res, next) => {
          try {
            await req.session.create('u', { when: new Date() } as never)
          } catch (error) {
            next(error)
          }
        },
      }
      const res = await request(app({}, routes)).post('/bad-login')
      expect([res.status, res.body.error, store.size]).toEqual([500, 'SESSION_ERROR', 0])
    })
  })

  describe('expiry', () => {
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
      store = new MemoryStore()
    })
    afterEach(async () => {
      await store.close()
      jest.useRealTimers()
    })

    it('ends a session idle for maxAge seconds', async () => {
      const server = app({ maxAge: 60 })
      const token = await loginAs(server)
      jest.setSystemTime(Date.now() + 61_000)
      const res = await request(server).get('/me').set(as(token))
      expect([res.status, res.body.code, res.body.error]).toEqual([401, 206, 'SESSION_EXPIRED'])
    })

    it('slides the idle deadline with every request', async () => {
      const server = app({ maxAge: 60 })
      const token = await loginAs(server)
      for (let minute = 0; minute < 5; minute++) {
        jest.setSystemTime(Date.now() + 50_000)
        expect((await request(server).get('/me').set(as(token))).status).toBe(200)
      }
    })

    it('ends a session at its lifetime however active it is', async () => {
      const server = app({ maxAge: 60, lifetime: 120 })
      const token = await loginAs(server)
      jest.setSystemTime(Date.now() + 50_000)
      expect((await request(server).get('/me').set(as(token))).status).toBe(200)
      jest.setSystemTime(Date.now() + 50_000)
      expect((await request(server).get('/me').set(as(token))).status).toBe(200)
      jest.setSystemTime(Date.now() + 21_000)
      expect((await request(server).get('/me').set(as(token))).body.error).toBe('SESSION_EXPIRED')
    })

    it('answers SESSION_NOT_EXIST once the heartbeat swept the session away', async () => {
      const server = app({ maxAge: 60 })
      const token = await loginAs(server)
      jest.advanceTimersByTime(71_000)
      expect(store.size).toBe(0)
      expect((await request(server).get('/me').set(as(token))).body.error).toBe('SESSION_NOT_EXIST')
    })

    it('keeps a session without idle expiry (maxAge 0) for as long as it lives', async () => {
      const server = app({ maxAge: 0 })
      const token = await loginAs(server)
      jest.setSystemTime(Date.now() + 90 * 24 * 3600_000)
      expect((await request(server).get('/me').set(as(token))).status).toBe(200)
    })
  })

  describe('per-user operations', () => {
    afterEach(() => jest.useRealTimers())

    it('lists this user’s live sessions without tokens, marking the current one', async () => {
      const server = app()
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] })
      const first = await loginAs(server, 'alice')
      // "oldest first" orders by creation time: two logins within one millisecond tie
      jest.setSystemTime(Date.now() + 1000)
      const second = await loginAs(server, 'alice')
      await loginAs(server, 'bob')
      const res = await request(server).get('/sessions').set(as(second))
      expect(res.body).toHaveLength(2)
      expect(res.body.map((info: { current: boolean }) => info.current)).toEqual([false, true])
      // supertest sends no User-Agent, so only the address of the device shows
      expect(Object.keys(res.body[0]).sort()).toEqual([
        'address',
        'createdAt',
        'current',
        'expiresAt',
        'id',
        'lastActiveAt',
      ])
      expect(res.text).not.toContain(first.split('.')[1])
    })

    it('revokes another session of the same user', async () => {
      const server = app()
      const first = await loginAs(server, 'alice')
      const second = await loginAs(server, 'alice')
      const firstId = (await request(server).get('/me').set(as(first))).body.id
      expect((await request(server).post('/revoke').set(as(second)).send({ id: firstId })).status).toBe(204)
      expect((await request(server).get('/me').set(as(first))).body.error).toBe('SESSION_NOT_EXIST')
      expect((await request(server).get('/me').set(as(second))).status).toBe(200)
    })

    it('refuses to revoke a session of another user with SESSION_UNKNOWN', async () => {
      const server = app()
      const alice = await loginAs(server, 'alice')
      const bob = await loginAs(server, 'bob')
      const bobId = (await request(server).get('/me').set(as(bob))).body.id
      const res = await request(server).post('/revoke').set(as(alice)).send({ id: bobId })
      expect([res.status, res.body.code, res.body.error]).toEqual([401, 208, 'SESSION_UNKNOWN'])
      expect((await request(server).get('/me').set(as(bob))).status).toBe(200)
    })

    it('logs out everywhere with destroyAll(), this session included', async () => {
      const server = app()
      const tokens = [await loginAs(server, 'alice'), await loginAs(server, 'alice')]
      const bob = await loginAs(server, 'bob')
      const res = await request(server).post('/destroy-all').set(as(tokens[0]!))
      expect(res.status).toBe(204)
      expect(String(res.headers['set-cookie'])).toMatch(/^_cookie_vars=;/)
      for (const token of tokens) expect((await request(server).get('/me').set(as(token))).status).toBe(401)
      expect((await request(server).get('/me').set(as(bob))).status).toBe(200)
    })

    it('ends all sessions of a user without a request through store.deleteAll()', async () => {
      const server = app()
      const token = await loginAs(server, 'alice')
      expect(await store.deleteAll('alice')).toBe(1)
      expect((await request(server).get('/me').set(as(token))).body.error).toBe('SESSION_NOT_EXIST')
    })

    it('with singleSession, a new login replaces the older sessions of that user', async () => {
      const server = app({ singleSession: true })
      const first = await loginAs(server, 'alice')
      const bob = await loginAs(server, 'bob')
      const second = await loginAs(server, 'alice')
      const res = await request(server).get('/me').set(as(first))
      expect([res.status, res.body.code, res.body.error]).toEqual([401, 209, 'SESSION_REPLACED'])
      expect((await request(server).get('/me').set(as(second))).status).toBe(200)
      expect((await request(server).get('/me').set(as(bob))).status).toBe(200)
    })

    it('without singleSession, one user keeps several sessions', async () => {
      const server = app()
      const first = await loginAs(server, 'alice')
      await loginAs(server, 'alice')
      expect((await request(server).get('/me').set(as(first))).status).toBe(200)
    })
  })

  describe('save()', () => {
    it('flushes dirty keys before the response, once', async () => {
      const routes: Routes = {
        'POST /save-early': async (req, res, next) => {
          try {
            req.session.set('early', true)
            await req.session.save()
            req.session.set('late', true)
            res.end('{}')
          } catch (error) {
            next(error)
          }
        },
      }
      const server = app({}, routes)
      const token = await loginAs(server)
      await request(server).post('/save-early').set(as(token))
      expect((await request(server).get('/me').set(as(token))).body.values).toEqual({
        early: true,
        late: true,
      })
    })
  })
})
