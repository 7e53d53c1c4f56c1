import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import connect from 'connect'
import express from 'express'
import request from 'supertest'
import { sendJson } from '../../lib/http/answers'
import { login, logout, requireSession } from '../../lib/http/helpers'
import { sessionMiddleware } from '../../lib/http/middleware'
import { MemoryStore } from '../../lib/stores/memory/memory-store'

const secret = 'test-secret-that-is-long-enough-0123456789'

const browserApp = () => {
  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
  app.post(
    '/login',
    login(
      (req) =>
        req.body.password === 'demo' ? { uid: req.body.user, values: { name: req.body.user } } : null,
      {
        successRedirect: '/profile',
        failureRedirect: '/login?failed=1',
      },
    ),
  )
  app.get('/profile', requireSession({ redirect: '/login' }), (req, res) =>
    res.send(`hello ${req.session.get('name')}`),
  )
  app.post('/logout', logout({ redirect: '/login' }))
  return app
}

describe('login()', () => {
  it('redirects with 303 to successRedirect and sets the cookie', async () => {
    const res = await request(browserApp())
      .post('/login')
      .type('form')
      .send({ user: 'ann', password: 'demo' })
    expect([res.status, res.headers.location]).toEqual([303, '/profile'])
    expect(String(res.headers['set-cookie'])).toMatch(/^_cookie_vars=/)
  })

  it('redirects with 303 to failureRedirect on refused credentials, setting no cookie', async () => {
    const res = await request(browserApp())
      .post('/login')
      .type('form')
      .send({ user: 'ann', password: 'nope' })
    expect([res.status, res.headers.location, res.headers['set-cookie']]).toEqual([
      303,
      '/login?failed=1',
      undefined,
    ])
  })

  it('passes an error thrown by authenticate to next()', async () => {
    const app = express()
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post(
      '/login',
      login(async () => {
        throw new Error('directory down')
      }),
    )
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(502).json({ message: error.message })
    })
    const res = await request(app).post('/login')
    expect([res.status, res.body.message]).toEqual([502, 'directory down'])
  })

  it('answers next(SESSION_ERROR) when sessionMiddleware() is not mounted', async () => {
    const app = connect()
    app.use('/login', login(() => ({ uid: 'u' })) as never)
    app.use(
      (
        error: { status: number; toJSON(): object },
        _req: IncomingMessage,
        res: ServerResponse,
        _next: unknown,
      ) => sendJson(res, error.status, error.toJSON()),
    )
    const res = await request(createServer(app)).post('/login')
    expect([res.status, res.body.code, res.body.error]).toEqual([500, 201, 'SESSION_ERROR'])
  })
})

describe('requireSession()', () => {
  it('redirects a browser without a session to the login page', async () => {
    const res = await request(browserApp()).get('/profile')
    expect([res.status, res.headers.location]).toEqual([303, '/login'])
  })

  it('lets a logged-in browser through', async () => {
    const agent = request.agent(browserApp())
    await agent.post('/login').type('form').send({ user: 'ann', password: 'demo' })
    expect((await agent.get('/profile')).text).toBe('hello ann')
  })
})

describe('logout()', () => {
  it('redirects with 303 and the browser lands on the login page afterwards', async () => {
    const agent = request.agent(browserApp())
    await agent.post('/login').type('form').send({ user: 'ann', password: 'demo' })
    const res = await agent.post('/logout')
    expect([res.status, res.headers.location]).toEqual([303, '/login'])
    expect((await agent.get('/profile')).headers.location).toBe('/login')
  })

  it('answers 204 without a session too, setting no cookie', async () => {
    const app = express()
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    app.post('/logout', logout())
    const res = await request(app).post('/logout')
    expect([res.status, res.headers['set-cookie']]).toEqual([204, undefined])
  })
})
