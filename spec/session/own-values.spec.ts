/**
 * The size limit of a session's values (maxSessionBytes): a change that would pass it throws
 * SESSION_TOO_LARGE at once and changes nothing, in the request or in the store.
 */
import request from 'supertest'
import type { JsonValue } from '../../lib/core/values'
import { OwnValues, storedBytes } from '../../lib/session/own-values'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { Store } from '../../lib/stores/store'
import { createApp, type Routes } from '../support/apps'
import { type RedisUnderTest, useRedis } from '../support/redis-server'

const secret = 'test-secret-that-is-long-enough-0123456789'

describe('OwnValues', () => {
  it('counts stored JSON as the store keeps it: keys and values', () => {
    const values = new Map<string, JsonValue>([
      ['a', 'xyz'],
      ['b', { c: [1, 2] }],
    ])
    expect(storedBytes(values)).toBe(JSON.stringify(Object.fromEntries(values)).length + 1)
  })

  it('sets every entry or none, and counts a replaced or removed value out', () => {
    const own = new OwnValues(new Map([['big', 'x'.repeat(60)]]), 100)
    expect(() =>
      own.set([
        ['a', 1],
        ['more', 'y'.repeat(40)],
      ]),
    ).toThrow(expect.objectContaining({ code: 215 }))
    expect([...own.map.keys()]).toEqual(['big'])
    own.set([['big', 'small']])
    own.set([['more', 'y'.repeat(40)]])
    own.delete('more')
    own.set([['again', 'z'.repeat(40)]])
    expect([...own.map.keys()]).toEqual(['big', 'again'])
  })
})

let redis: RedisUnderTest
beforeAll(async () => {
  redis = await useRedis()
})
afterAll(() => redis.stop())

describe.each([
  ['MemoryStore', () => new MemoryStore({ heartbeat: 0 }) as Store],
  ['RedisStore', () => new RedisStore(redis.url, { prefix: redis.nextPrefix() }) as Store],
])('maxSessionBytes on %s', (_, makeStore) => {
  let store: Store
  beforeEach(() => {
    store = makeStore()
  })
  afterEach(() => store.close?.())

  const routes: Routes = {
    'POST /put': (req, res) => {
      res.setHeader('content-type', 'application/json')
      try {
        req.session.set(String(req.body?.key), String(req.body?.value))
        res.end(JSON.stringify({ ok: true }))
      } catch (error) {
        res.statusCode = (error as { status?: number }).status ?? 500
        res.end(JSON.stringify({ error: (error as { error?: string }).error }))
      }
    },
  }

  it('refuses a write past the limit with SESSION_TOO_LARGE, storing nothing of it', async () => {
    const server = createApp('express 5', { secret, store, maxSessionBytes: 1000 }, routes)
    const token = (
      await request(server)
        .post('/login')
        .send({ uid: 'ada', values: { kept: 'yes' } })
    ).body.token
    const big = await request(server)
      .post('/put')
      .set('_cookie_vars', token)
      .send({ key: 'big', value: 'x'.repeat(2000) })
    expect([big.status, big.body.error]).toEqual([413, 'SESSION_TOO_LARGE'])
    const small = await request(server)
      .post('/put')
      .set('_cookie_vars', token)
      .send({ key: 'small', value: 'y' })
    expect(small.status).toBe(200)
    const me = await request(server).get('/me').set('_cookie_vars', token)
    expect(me.body.values).toEqual({ kept: 'yes', small: 'y' })
  })

  it('refuses a login whose values pass the limit, creating no session', async () => {
    const server = createApp('express 5', { secret, store, maxSessionBytes: 1000 })
    const login = await request(server)
      .post('/login')
      .send({ uid: 'ada', values: { big: 'x'.repeat(2000) } })
    expect([login.status, login.body.error]).toEqual([413, 'SESSION_TOO_LARGE'])
  })

  it('lets 0 turn the limit off', async () => {
    const server = createApp('express 5', { secret, store, maxSessionBytes: 0 }, routes)
    const token = (await request(server).post('/login').send({ uid: 'ada' })).body.token
    const big = await request(server)
      .post('/put')
      .set('_cookie_vars', token)
      .send({ key: 'big', value: 'x'.repeat(100_000) })
    expect(big.status).toBe(200)
  })
})
