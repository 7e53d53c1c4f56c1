/**
 * csrfGuard() in front of the session's routes on every framework: the browser's Sec-Fetch-Site
 * decides where it is sent; without it Origin, then Referer, is compared with the request's own
 * origin and the trusted ones; with none of the three only an API client's header token passes.
 */
import { createServer } from 'node:http'
import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { type CsrfGuardOptions, csrfGuard } from '../../lib/http/csrf-guard'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { createApp, FRAMEWORKS, type Framework, type Routes } from '../support/apps'

const secret = 'test-secret-that-is-long-enough-0123456789'

/** The Host every request names, so the app's own origin is known: `http://app.test`. */
const HOST = 'app.test'
const ORIGINS = {
  own: 'http://app.test',
  trusted: 'https://admin.example.com',
  other: 'https://evil.example',
  null: 'null',
} as const
type OriginKind = keyof typeof ORIGINS | 'absent'
const ORIGIN_KINDS: OriginKind[] = ['absent', 'own', 'trusted', 'other', 'null']

const done: Routes['x'] = (_req, res) => {
  res.statusCode = 204
  res.end()
}
const echoRoutes: Routes = Object.fromEntries(
  ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'].map((method) => [`${method} /echo`, done]),
)

function guardedApp(framework: Framework, options: CsrfGuardOptions = {}) {
  const guard = csrfGuard({ trustedOrigins: [ORIGINS.trusted], ...options })
  return createApp(framework, { secret, store: new MemoryStore({ heartbeat: 0 }) }, echoRoutes, [guard])
}

interface Sent {
  method?: 'get' | 'head' | 'options' | 'post' | 'put' | 'patch' | 'delete'
  path?: string
  site?: string
  origin?: string
  referer?: string
  headers?: Record<string, string>
}

function send(server: ReturnType<typeof createApp>, sent: Sent = {}) {
  const test = request(server)
    [sent.method ?? 'post'](sent.path ?? '/echo')
    .set('Host', HOST)
  if (sent.site !== undefined) test.set('Sec-Fetch-Site', sent.site)
  if (sent.origin !== undefined) test.set('Origin', sent.origin)
  if (sent.referer !== undefined) test.set('Referer', sent.referer)
  for (const [name, value] of Object.entries(sent.headers ?? {})) test.set(name, value)
  return test
}

const originOf = (kind: OriginKind) => (kind === 'absent' ? undefined : ORIGINS[kind])

/** Sec-Fetch-Site, allowSameSite, and the Origin kinds let through with them; the rest are refused. */
const FETCH_METADATA: [string, boolean, OriginKind[]][] = [
  ['same-origin', false, ORIGIN_KINDS],
  ['none', false, ORIGIN_KINDS],
  ['same-site', false, ['trusted']],
  ['same-site', true, ORIGIN_KINDS],
  ['cross-site', false, ['trusted']],
  ['cross-site', true, ['trusted']],
  ['cross-origin', false, ['trusted']],
  ['', false, ['trusted']],
]

describe.each(FRAMEWORKS)('csrfGuard() on %s', (framework) => {
  const server = guardedApp(framework)
  const sameSiteServer = guardedApp(framework, { allowSameSite: true })

  const login = async () => {
    const res = await send(server, { path: '/login', origin: ORIGINS.own }).send({ uid: 'ada' })
    return res.body.token as string
  }
  const countOf = async (token: string) =>
    (await send(server, { method: 'get', path: '/me', headers: { _cookie_vars: token } })).body.values.count

  it.each(['get', 'head', 'options'] as const)('lets %s through whatever it carries', async (method) => {
    const res = await send(server, {
      method,
      site: 'cross-site',
      origin: ORIGINS.other,
      headers: { cookie: '_cookie_vars=x' },
    })
    expect(res.status).toBe(204)
  })

  it.each(['post', 'put', 'patch', 'delete'] as const)('guards %s', async (method) => {
    const refused = await send(server, { method, site: 'cross-site', origin: ORIGINS.other })
    const allowed = await send(server, { method, site: 'same-origin', origin: ORIGINS.own })
    expect([refused.status, allowed.status]).toEqual([403, 204])
  })

  it('refuses with 403 { code: 214, error: CSRF_REJECTED, message } and never runs the route', async () => {
    const token = await login()
    const res = await send(server, {
      path: '/increment',
      site: 'cross-site',
      origin: ORIGINS.other,
      headers: { cookie: `_cookie_vars=${token}` },
    })
    expect([res.status, res.type, res.body.code, res.body.error]).toEqual([
      403,
      'application/json',
      214,
      'CSRF_REJECTED',
    ])
    expect(typeof res.body.message).toBe('string')
    expect(res.headers['set-cookie']).toBeUndefined()
    expect(await countOf(token)).toBeUndefined()
  })

  describe('with Sec-Fetch-Site', () => {
    const rows = FETCH_METADATA.flatMap(([site, allowSameSite, allowed]) =>
      ORIGIN_KINDS.map((kind) => [site, allowSameSite, kind, allowed.includes(kind) ? 204 : 403] as const),
    )
    it.each(rows)('%j, allowSameSite %s, Origin %s: %i', async (site, allowSameSite, kind, status) => {
      const origin = originOf(kind)
      const res = await send(allowSameSite ? sameSiteServer : server, {
        site,
        ...(origin === undefined ? {} : { origin }),
      })
      expect(res.status).toBe(status)
    })

    it('believes the browser over a Referer of its own origin', async () => {
      const res = await send(server, { site: 'cross-site', referer: `${ORIGINS.own}/profile` })
      expect(res.status).toBe(403)
    })
  })

  describe('without Fetch Metadata, by Origin', () => {
    it.each([
      ['its own origin', ORIGINS.own, 204],
      ['its own origin with the default port written out', 'http://app.test:80', 204],
      ['its own origin in capitals', 'HTTP://APP.TEST', 204],
      ['a trusted origin', ORIGINS.trusted, 204],
      ['another origin', ORIGINS.other, 403],
      ['its host over https', 'https://app.test', 403],
      ['another port of its host', 'http://app.test:8080', 403],
      ['a subdomain of its host', 'http://www.app.test', 403],
      ['null (a sandboxed frame, a file, a cross-origin redirect)', 'null', 403],
      ['text that is no origin', 'app.test', 403],
      ['an origin of another scheme', 'ftp://app.test', 403],
      ['two origins', `${ORIGINS.own}, ${ORIGINS.own}`, 403],
    ])('%s (%s): %i', async (_, origin, status) => {
      expect((await send(server, { origin })).status).toBe(status)
    })

    it('decides by Origin even when Referer says otherwise', async () => {
      const foreign = await send(server, { origin: ORIGINS.other, referer: `${ORIGINS.own}/profile` })
      const own = await send(server, { origin: ORIGINS.own, referer: `${ORIGINS.other}/attack` })
      expect([foreign.status, own.status]).toEqual([403, 204])
    })
  })

  describe('without Fetch Metadata or Origin, by Referer', () => {
    it.each([
      ['a page of its own origin', `${ORIGINS.own}/profile?tab=1#top`, 204],
      ['a page of a trusted origin', `${ORIGINS.trusted}/tools`, 204],
      ['a page of another origin', `${ORIGINS.other}/attack`, 403],
      ['a page of another port of its host', 'http://app.test:8080/', 403],
      ['text that is no URL', 'profile', 403],
      ['an empty Referer', '', 403],
    ])('%s (%j): %i', async (_, referer, status) => {
      expect((await send(server, { referer })).status).toBe(status)
    })
  })

  describe('with no Sec-Fetch-Site, Origin or Referer', () => {
    it('refuses a request that carries nothing', async () => {
      const res = await send(server)
      expect([res.status, res.body.code]).toEqual([403, 214])
    })

    it('refuses one that carries the session cookie: an old browser’s form post, say', async () => {
      const token = await login()
      const res = await send(server, { path: '/increment', headers: { cookie: `_cookie_vars=${token}` } })
      expect([res.status, res.body.code, await countOf(token)]).toEqual([403, 214, undefined])
    })

    it('lets an API client through that sends its token in the header and no cookie', async () => {
      const token = await login()
      const res = await send(server, { path: '/increment', headers: { _cookie_vars: token } })
      expect([res.status, res.body.count, await countOf(token)]).toEqual([200, 1, 1])
    })

    it('lets it through with cookies other than the session’s', async () => {
      const res = await send(server, { headers: { _cookie_vars: 'token', cookie: 'theme=dark' } })
      expect(res.status).toBe(204)
    })

    it.each([
      ['the header token and the session cookie', { _cookie_vars: 'token', cookie: '_cookie_vars=token' }],
      ['an empty header token', { _cookie_vars: '' }],
      ['a token in another header', { authorization: 'Bearer token' }],
    ])('refuses %s', async (_, headers) => {
      expect((await send(server, { headers })).status).toBe(403)
    })

    it('reads the names the app gave sessionMiddleware: name, and header', async () => {
      const named = createApp(framework, { secret, name: 'sid' }, echoRoutes, [csrfGuard({ name: 'sid' })])
      const split = createApp(framework, { secret }, echoRoutes, [csrfGuard({ header: 'x-session' })])
      const statuses = await Promise.all([
        send(named, { headers: { sid: 'token' } }),
        send(named, { headers: { _cookie_vars: 'token' } }),
        send(named, { headers: { sid: 'token', cookie: 'sid=token' } }),
        send(split, { headers: { 'x-session': 'token' } }),
        send(split, { headers: { 'x-session': 'token', cookie: '_cookie_vars=token' } }),
      ])
      expect(statuses.map((res) => res.status)).toEqual([204, 403, 403, 204, 403])
    })

    it('refuses header-token clients too with header: false', async () => {
      const closed = guardedApp(framework, { header: false })
      expect((await send(closed, { headers: { _cookie_vars: 'token' } })).status).toBe(403)
    })
  })
})

describe('csrfGuard()', () => {
  it('needs no session: it guards a node:http server that has none', async () => {
    const guard = csrfGuard()
    const server = createServer((req, res) => guard(req, res, () => res.end('changed')))
    const refused = await send(server, { site: 'cross-site' })
    const allowed = await send(server, { site: 'same-origin' })
    expect([refused.status, refused.body.code, allowed.status, allowed.text]).toEqual([
      403,
      214,
      200,
      'changed',
    ])
  })

  it.each(['express 5', 'express 4'] as const)(
    'compares with the origin a trusted proxy forwarded to %s',
    async (version) => {
      const app = (version === 'express 5' ? express5() : express4()) as ReturnType<typeof express5>
      app.set('trust proxy', 'loopback')
      app.use(csrfGuard())
      app.post('/', (_req, res) => res.sendStatus(204))
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' }
      const statuses = await Promise.all(
        ['https://app.example', 'http://app.example', ORIGINS.own].map(
          async (origin) => (await send(createServer(app), { path: '/', origin, headers: forwarded })).status,
        ),
      )
      expect(statuses).toEqual([204, 403, 403])
    },
  )

  it('compares trusted origins as a browser writes them', async () => {
    const guard = csrfGuard({ trustedOrigins: ['HTTPS://Admin.Example.com:443/'] })
    const server = createServer((req, res) => guard(req, res, () => res.end()))
    expect((await send(server, { origin: ORIGINS.trusted })).status).toBe(200)
  })

  it('leaves the caller’s options untouched', () => {
    const options = Object.freeze({ trustedOrigins: Object.freeze([ORIGINS.trusted]), allowSameSite: true })
    expect(() => csrfGuard(options)).not.toThrow()
  })

  it.each<[string, unknown]>([
    ['options must be an object', null],
    [
      'unknown option "trustedOrigin"; the known ones are trustedOrigins, allowSameSite, name, header',
      { trustedOrigin: [] },
    ],
    ['option trustedOrigins must be an array', { trustedOrigins: ORIGINS.trusted }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['admin.example.com'] }],
    [
      'option trustedOrigins[1] must be an origin',
      { trustedOrigins: [ORIGINS.trusted, 'https://a.example/path'] },
    ],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['https://*.example.com'] }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['https://user@a.example'] }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['https://a.example?'] }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['null'] }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: ['file:///etc'] }],
    ['option trustedOrigins[0] must be an origin', { trustedOrigins: [42] }],
    ['option allowSameSite must be true or false', { allowSameSite: 'yes' }],
    ['option name must be a cookie and header name', { name: '' }],
    ['option header must be a cookie and header name', { header: 'bad header' }],
  ])('throws a TypeError at setup: %s', (message, options) => {
    expect(() => csrfGuard(options as CsrfGuardOptions)).toThrow(TypeError)
    expect(() => csrfGuard(options as CsrfGuardOptions)).toThrow(message)
  })
})
