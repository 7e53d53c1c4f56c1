/**
 * New tokens for a session: refresh() with and without a grace window, from the current token
 * and from the one it replaced, alone and two at once.
 */
import request from 'supertest'
import { requireSession } from '../../lib/http/helpers'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { Store } from '../../lib/stores/store'
import { createApp, type Routes, standardRoutes } from '../support/apps'
import { type RedisUnderTest, useRedis } from '../support/redis-server'
import { slowStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'

let redis: RedisUnderTest
beforeAll(async () => {
  redis = await useRedis()
})
afterAll(() => redis.stop())

describe.each([
  ['a store that answers after a delay', () => slowStore(new MemoryStore({ heartbeat: 0 }))],
  ['RedisStore', () => new RedisStore(redis.url, { prefix: redis.nextPrefix() }) as Store],
])('refresh() on %s', (_, makeStore) => {
  let store: Store
  beforeEach(() => {
    store = makeStore()
  })
  afterEach(() => store.close?.())

  const login = async (server: ReturnType<typeof createApp>) =>
    (await request(server).post('/login').send({ uid: 'ada' })).body.token as string
  const status = async (server: ReturnType<typeof createApp>, token: string) =>
    (await request(server).get('/me').set('_cookie_vars', token)).status

  it('lets the replaced token read inside the grace window, but not refresh again', async () => {
    const server = createApp('express 5', { secret, store, refreshGrace: 60 })
    const first = await login(server)
    const refreshed = await request(server).post('/refresh').set('_cookie_vars', first)
    expect(refreshed.status).toBe(200)
    expect(await status(server, first)).toBe(200)
    const again = await request(server).post('/refresh').set('_cookie_vars', first)
    expect([again.status, again.body.error]).toEqual([401, 'SESSION_REPLACED'])
    const revoke = await request(server).post('/destroy-all').set('_cookie_vars', first)
    expect([revoke.status, revoke.body.error]).toEqual([401, 'SESSION_REPLACED'])
    expect(await status(server, refreshed.body.token)).toBe(200)
  })

  it.each([
    ['with a grace window', 60],
    ['without one', 0],
  ])(
    'lets one of two concurrent refreshes win, %s, and leaves no issued token refused',
    async (_, refreshGrace) => {
      // the loser may lose at verification (the winner already replaced its token) or in refresh()
      const guarded: Routes = {
        'POST /guarded-refresh': [requireSession(), standardRoutes['POST /refresh'] as never],
      }
      const server = createApp('express 5', { secret, store, refreshGrace }, guarded)
      const first = await login(server)
      const answers = await Promise.all([
        request(server).post('/guarded-refresh').set('_cookie_vars', first),
        request(server).post('/guarded-refresh').set('_cookie_vars', first),
      ])
      const won = answers.filter((answer) => answer.status === 200)
      const lost = answers.filter((answer) => answer.status !== 200)
      expect(won).toHaveLength(1)
      expect(lost.map((answer) => [answer.status, answer.body.error])).toEqual([[401, 'SESSION_REPLACED']])
      expect(await status(server, won[0]!.body.token)).toBe(200)
      expect(await status(server, first)).toBe(refreshGrace > 0 ? 200 : 401)
    },
  )
})
