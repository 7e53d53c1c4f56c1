import { createServer, type IncomingMessage } from 'node:http'
import express from 'express'
import request from 'supertest'
import { SessionManager } from '../../lib/http/session-manager'
import type { SessionEnded } from '../../lib/stores/ended-channel'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { countingStore, failingStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'

/** An app on the manager's middleware that reads and counts, as the next HTTP request of a socket user. */
function httpApp(sessions: SessionManager) {
  const app = express()
  app.use(sessions.middleware())
  app.get('/me', (req, res) => {
    res.json({ exists: req.session.exists, values: req.session.toJSON(), error: req.session.error?.error })
  })
  return createServer(app)
}

const upgrade = (headers: Record<string, string>, url = '/socket') =>
  ({ headers, url, socket: {} }) as unknown as IncomingMessage

describe('new SessionManager()', () => {
  let store: ReturnType<typeof countingStore<MemoryStore>>
  let sessions: SessionManager
  beforeEach(() => {
    store = countingStore(new MemoryStore({ heartbeat: 0 }))
    sessions = new SessionManager({ secret, store })
  })
  afterEach(() => sessions.close())

  it('checks options as sessionMiddleware() does, and touchInterval against maxAge', () => {
    expect(() => new SessionManager({ secret, store, maxAge: -1 })).toThrow(TypeError)
    expect(() => new SessionManager({ secret, store, nmae: 'x' } as never)).toThrow(/unknown option "nmae"/)
    expect(() => new SessionManager({ secret, store, maxAge: 60, touchInterval: 31 })).toThrow(
      /touchInterval/,
    )
    expect(new SessionManager({ secret, store, maxAge: 60 }).touchInterval).toBe(30)
    expect(new SessionManager({ secret, store }).touchInterval).toBe(60)
  })

  describe('verify(token)', () => {
    it('reads the store once and gives a session with the values the middleware would', async () => {
      const { token } = await sessions.create('ada', { count: 3 })
      store.calls.get = 0
      const session = await sessions.verify(token)
      expect([session.exists, session.uid, session.get('count'), session.error, store.calls.get]).toEqual([
        true,
        'ada',
        3,
        undefined,
        1,
      ])
    })

    it('refuses an empty token with TOKEN_EMPTY and a forged one with SESSION_ILLEGAL, reading nothing', async () => {
      const empty = await sessions.verify('')
      const forged = await sessions.verify(`${'a'.repeat(22)}.${'b'.repeat(22)}.abc.${'c'.repeat(43)}`)
      expect([empty.exists, empty.error?.code, forged.exists, forged.error?.code, store.calls.get]).toEqual([
        false,
        203,
        false,
        207,
        0,
      ])
    })

    it('refuses a destroyed session with SESSION_NOT_EXIST and a replaced one with SESSION_REPLACED', async () => {
      const single = new SessionManager({ secret, store, singleSession: true })
      const first = await single.create('ada')
      await single.create('ada')
      const { token: other } = await single.create('bob')
      await (await single.verify(other)).destroy()
      expect([
        (await single.verify(first.token)).error?.error,
        (await single.verify(other)).error?.error,
      ]).toEqual(['SESSION_REPLACED', 'SESSION_NOT_EXIST'])
    })

    it('refuses an idle session with SESSION_EXPIRED', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] })
      try {
        const short = new SessionManager({ secret, store, maxAge: 60 })
        const { token } = await short.create('ada')
        jest.advanceTimersByTime(61_000)
        expect((await short.verify(token)).error?.error).toBe('SESSION_EXPIRED')
      } finally {
        jest.useRealTimers()
      }
    })

    it('rejects with STORE_UNAVAILABLE only when the store fails', async () => {
      const { token } = await sessions.create('ada')
      const down = new SessionManager({ secret, store: failingStore(store, { get: true }) })
      await expect(down.verify(token)).rejects.toMatchObject({ code: 210 })
    })
  })

  describe('writes outside a response', () => {
    it('stores the dirty keys at the end of the tick, in order, for the next HTTP request to read', async () => {
      const { token } = await sessions.create('ada', { count: 0 })
      const session = await sessions.verify(token)
      session.set('count', 1)
      session.set('count', 2).set('name', 'Ada')
      await new Promise((resolve) => setImmediate(resolve))
      session.unset('name')
      await new Promise((resolve) => setImmediate(resolve))
      const res = await request(httpApp(sessions)).get('/me').set('Cookie', `_cookie_vars=${token}`)
      expect([res.body.values, store.calls.update]).toEqual([{ count: 2 }, 2])
    })

    it('lets save() wait for them, and rejects it when the store fails', async () => {
      const { token } = await sessions.create('ada')
      const session = await sessions.verify(token)
      session.set('count', 5)
      await session.save()
      expect(store.calls.update).toBe(1)
      const broken = new SessionManager({ secret, store: failingStore(store, { update: true }) })
      const other = await broken.verify(token)
      other.set('count', 6)
      await expect(other.save()).rejects.toMatchObject({ code: 210 })
    })

    it('reports a failed automatic write as saveFailed on the manager', async () => {
      const broken = new SessionManager({ secret, store: failingStore(store, { update: true }) })
      const { token } = await sessions.create('ada')
      const session = await broken.verify(token)
      const failed = new Promise((resolve) => broken.once('saveFailed', resolve))
      session.set('count', 1)
      expect(await failed).toMatchObject({ id: session.id, uid: 'ada', error: { code: 210 } })
    })
  })

  describe('touch()', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }))
    afterEach(() => jest.useRealTimers())

    it('writes at most once a touchInterval, however often it is called, and slides the expiry', async () => {
      const chat = new SessionManager({ secret, store, maxAge: 120, touchInterval: 30 })
      const { token } = await chat.create('ada')
      const session = await chat.verify(token)
      store.calls.get = 0
      for (let second = 0; second < 600; second++) {
        for (let message = 0; message < 10; message++) await session.touch()
        jest.advanceTimersByTime(1000)
      }
      // 6000 messages over ten minutes, two minutes of maxAge: one write every 30 s after the
      // verify's own read slid it, and still live
      expect([store.calls.get, (await chat.verify(token)).exists]).toEqual([19, true])
    })

    it('answers false and tells ended once the session is gone', async () => {
      const chat = new SessionManager({ secret, store, maxAge: 120, touchInterval: 30 })
      const ended: SessionEnded[] = []
      chat.on('ended', (event) => ended.push(event))
      const { token } = await chat.create('ada')
      const session = await chat.verify(token)
      jest.advanceTimersByTime(121_000)
      expect(await session.touch()).toBe(false)
      expect(ended).toEqual([{ id: session.id, uid: 'ada', reason: 'expired' }])
    })

    it('forgets a session once it ends, however it ends', async () => {
      const chat = new SessionManager({ secret, store, maxAge: 120, touchInterval: 30 })
      const single = new SessionManager({ secret, store, singleSession: true })
      for (let n = 0; n < 99; n++) {
        const uid = `user-${n}`
        const session = await chat.verify((await chat.create(uid)).token)
        await session.touch()
        if (n % 3 === 0) await session.destroy()
        if (n % 3 === 1) await (await chat.create(uid)).session.revoke(session.id!)
        if (n % 3 === 2) await single.create(uid)
      }
      // all within one touchInterval: only their ends can have dropped them
      expect(chat.throttledSessions).toBe(0)
      await single.close()
      await chat.close()
    })

    it('holds only the sessions verified or touched within the last touchInterval', async () => {
      const chat = new SessionManager({ secret, store, maxAge: 120, touchInterval: 30 })
      const tokens = await Promise.all(
        Array.from({ length: 100 }, async (_, n) => (await chat.create(`user-${n}`)).token),
      )
      // read-only sockets: verified, then never a message, so never a touch()
      for (const token of tokens) await chat.verify(token)
      jest.advanceTimersByTime(20_000)
      // one of them reconnects, ten seconds before the others fall out of the window
      await chat.verify(tokens[0]!)
      jest.advanceTimersByTime(11_000)
      const late = await chat.verify(tokens[1]!)
      expect(chat.throttledSessions).toBe(2)
      await late.touch()
      jest.advanceTimersByTime(31_000)
      await chat.verify(tokens[2]!)
      expect(chat.throttledSessions).toBe(1)
      await chat.close()
    })
  })

  describe("the 'ended' event", () => {
    it('tells every manager on the store why: logout, revoked, replaced, evicted', async () => {
      const small = countingStore(new MemoryStore({ heartbeat: 0, capacity: 4 }))
      const one = new SessionManager({ secret, store: small, singleSession: false })
      const two = new SessionManager({ secret, store: small })
      const heard: [string, SessionEnded][] = []
      one.on('ended', (event) => heard.push(['one', event]))
      two.on('ended', (event) => heard.push(['two', event]))
      const a = await one.create('ada')
      const b = await one.create('ada')
      const c = await one.create('ada')
      const d = await one.create('bob')
      const ids = [a, b, c, d].map(({ session }) => session.id)
      await a.session.destroy()
      await b.session.revoke(c.session.id!)
      await one.destroyAll('bob')
      const replacing = new SessionManager({ secret, store: small, singleSession: true })
      await replacing.create('ada')
      for (const uid of ['e', 'f', 'g', 'h']) await one.create(uid)
      const reasons = heard.filter(([who]) => who === 'two').map(([, event]) => [event.id, event.reason])
      expect(reasons.slice(0, 4)).toEqual([
        [ids[0], 'logout'],
        [ids[2], 'revoked'],
        [ids[3], 'revoked'],
        [ids[1], 'replaced'],
      ])
      expect(reasons.slice(4).map(([, reason]) => reason)).toEqual(['evicted'])
      expect(heard.filter(([who]) => who === 'one')).toHaveLength(heard.length / 2)
      await Promise.all([one.close(), two.close(), replacing.close()])
    })
  })

  describe("the 'ended' event of an idle expiry", () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask'] }))
    afterEach(() => jest.useRealTimers())

    it("is told when the MemoryStore's sweep removes the session, without a read or a touch()", async () => {
      const swept = new MemoryStore({ heartbeat: 10 })
      const chat = new SessionManager({ secret, store: swept, maxAge: 60 })
      const ended: SessionEnded[] = []
      chat.on('ended', (event) => ended.push(event))
      const { session } = await chat.create('ada')
      jest.advanceTimersByTime(59_000)
      expect(ended).toEqual([])
      // the sweep at 60 s finds it at its deadline
      jest.advanceTimersByTime(1_000)
      expect(ended).toEqual([{ id: session.id, uid: 'ada', reason: 'expired' }])
      await chat.close()
      await swept.close()
    })
  })

  describe('verifyRequest(req)', () => {
    it('reads the cookie or the header of an upgrade, and the query only when turned on', async () => {
      const { token } = await sessions.create('ada')
      const byCookie = await sessions.verifyRequest(upgrade({ cookie: `_cookie_vars=${token}` }))
      const byHeader = await sessions.verifyRequest(upgrade({ _cookie_vars: token }))
      const url = `/socket?token=${encodeURIComponent(token)}`
      const queryOff = await sessions.verifyRequest(upgrade({}, url))
      const queryOn = await sessions.verifyRequest(upgrade({}, url), { query: 'token' })
      expect([byCookie.exists, byHeader.exists, queryOff.error?.error, queryOn.exists]).toEqual([
        true,
        true,
        'TOKEN_EMPTY',
        true,
      ])
      expect(byCookie.exposesToken()).toBe(false)
    })

    it('refuses an Origin not allowed with CSRF_REJECTED before any store read', async () => {
      const { token } = await sessions.create('ada')
      store.calls.get = 0
      const headers = { cookie: `_cookie_vars=${token}`, origin: 'https://evil.example' }
      const refused = await sessions.verifyRequest(upgrade(headers), { origins: ['https://app.example'] })
      const allowed = await sessions.verifyRequest(upgrade({ ...headers, origin: 'https://app.example' }), {
        origins: ['https://app.example'],
      })
      expect([
        refused.exists,
        refused.error?.code,
        refused.error?.status,
        allowed.exists,
        store.calls.get,
      ]).toEqual([false, 214, 403, true, 1])
    })
  })

  it('serves HTTP through middleware() with the same sessions', async () => {
    const { token } = await sessions.create('ada', { count: 7 })
    const res = await request(httpApp(sessions)).get('/me').set('Cookie', `_cookie_vars=${token}`)
    expect(res.body).toEqual({ exists: true, values: { count: 7 } })
    expect(sessions.middleware()).toBe(sessions.middleware())
  })
})
