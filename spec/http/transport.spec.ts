import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import cookieParser from 'cookie-parser'
import express from 'express'
import request from 'supertest'
import { sendJson } from '../../lib/http/answers'
import { sessionMiddleware } from '../../lib/http/middleware'
import { type TokenRequest, TokenTransport } from '../../lib/http/transport'
import type { SessionOptions } from '../../lib/session/options'
import { resolveOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { createApp, FRAMEWORKS, type Framework } from '../support/apps'

const secret = 'test-secret-that-is-long-enough-0123456789'
const cookieOf = (res: request.Response): string | undefined =>
  ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((line) => /^(_cookie_vars|sid)=/.test(line))

describe.each(FRAMEWORKS)('where the token travels, on %s', (framework: Framework) => {
  const app = (options: SessionOptions = {}) =>
    createApp(framework, { secret, store: new MemoryStore({ heartbeat: 0 }), ...options })

  it('sends no Set-Cookie in header-only mode (cookie: false) and reads the header token', async () => {
    const server = app({ cookie: false })
    const login = await request(server).post('/login').send({ uid: 'u' })
    expect(login.headers['set-cookie']).toBeUndefined()
    expect(login.headers._cookie_vars).toBe(login.body.token)
    expect((await request(server).get('/me').set('_cookie_vars', login.body.token)).status).toBe(200)
    expect((await request(server).get('/me').set('Cookie', `_cookie_vars=${login.body.token}`)).status).toBe(
      401,
    )
  })

  it('ignores header tokens when header is false', async () => {
    const server = app({ header: false })
    const login = await request(server).post('/login').send({ uid: 'u' })
    const token = /^_cookie_vars=([^;]+)/.exec(cookieOf(login) ?? '')![1]!
    expect([login.headers._cookie_vars, login.body.token]).toEqual([undefined, undefined])
    expect((await request(server).get('/me').set('_cookie_vars', token)).body.error).toBe('TOKEN_EMPTY')
    expect((await request(server).get('/me').set('Cookie', `_cookie_vars=${token}`)).status).toBe(200)
  })

  it('uses a custom name for the cookie and the header, and a custom header', async () => {
    const server = app({ name: 'sid', header: 'x-session' })
    const login = await request(server).post('/login').send({ uid: 'u' })
    expect(cookieOf(login)).toMatch(/^sid=/)
    expect(login.headers['x-session']).toBe(login.body.token)
    expect((await request(server).get('/me').set('x-session', login.body.token)).status).toBe(200)
    expect((await request(server).get('/me').set('Cookie', `sid=${login.body.token}`)).status).toBe(200)
  })

  it('writes every configured cookie attribute', async () => {
    const server = app({
      cookie: {
        path: '/app',
        domain: 'example.test',
        sameSite: 'strict',
        secure: true,
        partitioned: true,
        priority: 'high',
      },
    })
    const cookie = cookieOf(await request(server).post('/login').send({ uid: 'u' }))
    for (const attribute of [
      'Path=/app',
      'Domain=example.test',
      'SameSite=Strict',
      'Secure',
      'Partitioned',
      'Priority=High',
    ])
      expect(cookie).toContain(`; ${attribute}`)
  })
})

describe('secure: auto', () => {
  it('marks the cookie Secure behind a TLS-terminating proxy when Express trusts it', async () => {
    const app = express()
    app.set('trust proxy', 'loopback')
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post('/login', async (req, res) => {
      await req.session.create('u')
      res.end()
    })
    const proxied = await request(app).post('/login').set('X-Forwarded-Proto', 'https')
    expect(cookieOf(proxied)).toMatch(/; Secure/)
    const plain = await request(app).post('/login')
    expect(cookieOf(plain)).not.toMatch(/; Secure/)
  })

  it('ignores X-Forwarded-Proto when Express does not trust the proxy', async () => {
    const app = express()
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post('/login', async (req, res) => {
      await req.session.create('u')
      res.end()
    })
    expect(cookieOf(await request(app).post('/login').set('X-Forwarded-Proto', 'https'))).not.toMatch(
      /; Secure/,
    )
  })

  it('marks the cookie Secure on a plain node:https server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cosgo-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    const middleware = sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) })
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (req, res) =>
        middleware(req, res, async () => {
          await (req as typeof req & { session: { create(uid: string): Promise<string> } }).session.create(
            'u',
          )
          sendJson(res, 200, {})
        }),
    )
    const res = await request(server).post('/login').trustLocalhost(true).disableTLSCerts()
    expect(cookieOf(res)).toMatch(/; Secure/)
  })
})

describe('with cookie-parser', () => {
  it('reads the token from req.cookies', async () => {
    const app = express()
    app.use(cookieParser())
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post('/login', async (req, res) => res.json({ token: await req.session.create('u') }))
    app.get('/me', (req, res) => res.json({ exists: req.session.exists, uid: req.session.uid }))
    const { token } = (await request(app).post('/login')).body
    expect((await request(app).get('/me').set('Cookie', `_cookie_vars=${token}`)).body).toEqual({
      exists: true,
      uid: 'u',
    })
  })

  /** An app whose requests carry `cookies` as an adapter would set them, before the middleware runs. */
  const withCookies = (cookies: (token: string) => Record<string, string>) => {
    let issued = ''
    const app = express()
    app.use((req, _res, next) => {
      ;(req as typeof req & { cookies: unknown }).cookies = cookies(issued)
      next()
    })
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post('/login', async (req, res) => {
      issued = await req.session.create('u')
      res.json({ token: issued })
    })
    app.get('/me', (req, res) => res.json({ exists: req.session.exists }))
    return app
  }

  it('reads req.cookies when the request has no Cookie header', async () => {
    const app = withCookies((token) => ({ _cookie_vars: token }))
    await request(app).post('/login')
    expect((await request(app).get('/me')).body).toEqual({ exists: true })
  })

  it('reads req.cookies when the Cookie header does not carry the token', async () => {
    const app = withCookies((token) => ({ _cookie_vars: token }))
    await request(app).post('/login')
    expect((await request(app).get('/me').set('Cookie', 'other=1')).body).toEqual({ exists: true })
  })

  it('reads the Cookie header first, since req.cookies holds the same cookies', async () => {
    const app = withCookies(() => ({ _cookie_vars: 'not-the-token' }))
    const { token } = (await request(app).post('/login')).body
    expect((await request(app).get('/me').set('Cookie', `_cookie_vars=${token}`)).body).toEqual({
      exists: true,
    })
  })
})

describe('TokenTransport.read()', () => {
  const transport = new TokenTransport(
    resolveOptions({ secret: 'test-secret-that-is-long-enough-0123456789' }),
  )
  const read = (headers: Record<string, string>) => transport.read({ headers } as unknown as TokenRequest)

  it('calls a Cookie header too long to parse unusable, so it answers as a forged token, not as none', () => {
    expect(read({ cookie: `_cookie_vars=a.b.c.d; pad=${'x'.repeat(17000)}` })).toEqual({
      unusable: expect.stringMatching(/over 16384/),
    })
  })

  it.each(['constructor', '__proto__', 'toString'])(
    'reads a cookie named %s as its own property only',
    (name) => {
      const named = new TokenTransport(
        resolveOptions({ secret: 'test-secret-that-is-long-enough-0123456789', name }),
      )
      const presented = (headers: Record<string, string>) =>
        named.read({ headers } as unknown as TokenRequest)
      expect(presented({ cookie: 'other=1' })).toBeUndefined()
      expect(presented({ cookie: `${name}=tok` })).toEqual({ token: 'tok', via: 'cookie' })
      expect(presented({ [name.toLowerCase()]: 'head' } as Record<string, string>)).toEqual({
        token: 'head',
        via: 'header',
      })
    },
  )
})
