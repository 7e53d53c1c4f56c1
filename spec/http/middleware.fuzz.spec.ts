/**
 * Hostile input: random and mutated tokens, cookie headers no browser would send, header tokens,
 * and values of every kind. The server never crashes, never answers 5xx for a bad token, never
 * reads the store for a token it did not sign, and every existing session stays intact.
 */
import type { AddressInfo } from 'node:net'
import express from 'express'
import fc from 'fast-check'
import request from 'supertest'
import { isSessionError } from '../../lib/core/errors'
import { sendJson } from '../../lib/http/answers'
import { sessionMiddleware } from '../../lib/http/middleware'
import type { Session } from '../../lib/session/session'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import type { Store } from '../../lib/stores/store'
import { rawRequest } from '../support/raw-http'
import { countingStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'
const runs = Number(process.env.FUZZ_RUNS ?? 300)

/** Cases tried, printed at the end for the README's reliability figures. */
const fuzzFigures = { cases: 0 }

function fuzzServer(store: Store) {
  const app = express()
  app.use(sessionMiddleware({ secret, store }))
  app.use(express.json())
  app.post('/login', async (req, res) =>
    sendJson(res, 200, { token: await req.session.create('user', req.body) }),
  )
  app.get('/peek', (req, res) =>
    sendJson(res, 200, { exists: req.session.exists, error: req.session.error?.code }),
  )
  return app.listen(0, '127.0.0.1')
}

describe('fuzzed input', () => {
  const store = countingStore(new MemoryStore({ heartbeat: 0 }))
  const server = fuzzServer(store)
  const port = () => (server.address() as AddressInfo).port
  const url = () => `http://127.0.0.1:${port()}`
  const sessions: { token: string; values: Record<string, number> }[] = []

  beforeAll(async () => {
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve))
    for (let index = 0; index < 5; index++) {
      const values = { n: index }
      const res = await request(url()).post('/login').send(values)
      sessions.push({ token: res.body.token, values })
    }
  })
  afterAll(async () => {
    console.log(`fuzz: ${fuzzFigures.cases} cases, ${store.calls.get} store reads (all for signed tokens)`)
    await new Promise((resolve) => server.close(resolve))
    for (const { token, values } of sessions) {
      const record = await store.get(token.split('.')[0]!)
      expect(record && Object.fromEntries(record.values)).toEqual(values)
    }
  })

  const mutatedToken = fc
    .tuple(fc.nat(4), fc.nat(200), fc.string({ minLength: 1, maxLength: 4 }), fc.nat(3))
    .map(([which, position, insert, kind]) => {
      const token = sessions[which % sessions.length]!.token
      const at = position % token.length
      if (kind === 0) return token.slice(0, at) + insert + token.slice(at + 1)
      if (kind === 1) return token.slice(0, at)
      if (kind === 2) return token + insert
      return token.split('.').reverse().join('.')
    })
    .filter((token) => !sessions.some((session) => session.token === token))
  const anyToken = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.stringMatching(/^[A-Za-z0-9_.-]{0,120}$/),
    mutatedToken,
  )

  it('answers every random or mutated cookie token as no session, without reading the store', async () => {
    await fc.assert(
      fc.asyncProperty(anyToken, async (token) => {
        fuzzFigures.cases++
        const gets = store.calls.get
        const res = await request(url())
          .get('/peek')
          .set('Cookie', `_cookie_vars=${encodeURIComponent(token)}`)
        expect([res.status, res.body.exists]).toEqual([200, false])
        expect(store.calls.get).toBe(gets)
      }),
      { numRuns: runs },
    )
  })

  it('answers every random or mutated header token as no session, without reading the store', async () => {
    const headerSafe = anyToken.filter((token) => /^[\t\x20-\x7e]*$/.test(token) && token.trim() === token)
    await fc.assert(
      fc.asyncProperty(headerSafe, async (token) => {
        fuzzFigures.cases++
        const gets = store.calls.get
        const res = await request(url()).get('/peek').set('_cookie_vars', token)
        expect(res.status).toBe(200)
        expect(res.body.exists).toBe(false)
        expect(store.calls.get).toBe(gets)
      }),
      { numRuns: runs },
    )
  })

  it('survives raw Cookie headers with bad encodings, control characters, duplicates and sheer size', async () => {
    const cookieHeader = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .array(fc.tuple(fc.constantFrom('_cookie_vars', 'x', ''), fc.string({ maxLength: 40 })), {
          maxLength: 300,
        })
        .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; ')),
      fc.nat(12_000).map((size) => `_cookie_vars=${'%'.repeat(size)}`),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    )
    await fc.assert(
      fc.asyncProperty(cookieHeader, fc.boolean(), async (header, twice) => {
        fuzzFigures.cases++
        const gets = store.calls.get
        const line = `Cookie: ${header.replace(/[\r\n]/g, ' ')}\r\n`
        const head = `GET /peek HTTP/1.1\r\nHost: localhost\r\n${line}${twice ? line : ''}Connection: close\r\n\r\n`
        const status = await rawRequest(port(), Buffer.from(head, 'latin1'))
        expect(status === undefined || status < 500).toBe(true)
        expect(store.calls.get).toBe(gets)
      }),
      { numRuns: runs },
    )
    expect((await request(url()).get('/peek')).status).toBe(200)
  })

  it('either stores a value exactly as a JSON round trip gives it back or refuses it with SESSION_ERROR', async () => {
    const token = sessions[0]!.token
    let finish = () => {}
    const session = await new Promise<Session>((resolve) => {
      const probe = express()
      probe.use(sessionMiddleware({ secret, store }))
      probe.get('/', (req, res) => {
        // the response stays open while the values are fuzzed: set() after it ended would throw
        finish = () => res.end()
        resolve(req.session as Session)
      })
      request(probe)
        .get('/')
        .set('_cookie_vars', token)
        .end(() => {})
    })
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
        (value) => {
          fuzzFigures.cases++
          try {
            session.set('fuzzed', value as never)
          } catch (error) {
            expect(isSessionError(error, 'SESSION_ERROR')).toBe(true)
            return
          }
          expect(session.get('fuzzed')).toEqual(JSON.parse(JSON.stringify(value)))
        },
      ),
      { numRuns: runs * 3 },
    )
    // what was fuzzed is not kept: the session's stored values stay as the other tests check them
    session.unset('fuzzed')
    finish()
  })
})
