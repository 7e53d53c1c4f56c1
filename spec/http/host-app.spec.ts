/**
 * The middleware through Express's own answers (res.json, send, redirect, render, sendFile,
 * express.static, a pipe), its error middleware and final handler, with compression and helmet
 * mounted, on a store that answers synchronously, one that answers after a delay, and Redis: a
 * write is stored before any byte of the answer goes out, and once the app has answered, nothing
 * that runs afterwards changes the answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import compression from 'compression'
import express5 from 'express'
import express4 from 'express4'
import helmet from 'helmet'
import request from 'supertest'
import { sessionMiddleware } from '../../lib/http/middleware'
import type { SessionOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { Store } from '../../lib/stores/store'
import { type RedisUnderTest, useRedis } from '../support/redis-server'
import { failingStore, slowStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'
const BODY = 'cosgo-session streams this file.\n'.repeat(8192)

let redis: RedisUnderTest
let files: string
beforeAll(async () => {
  redis = await useRedis()
  files = mkdtempSync(join(tmpdir(), 'cosgo-host-app-'))
  writeFileSync(join(files, 'large.txt'), BODY)
  writeFileSync(join(files, 'page.tpl'), 'rendered {{name}}')
})
afterAll(async () => {
  await redis.stop()
  rmSync(files, { recursive: true, force: true })
})

const STORES: [string, () => Store][] = [
  ['MemoryStore', () => new MemoryStore({ heartbeat: 0 })],
  ['a store that answers after a delay', () => slowStore(new MemoryStore({ heartbeat: 0 }))],
  ['RedisStore', () => new RedisStore(redis.url, { prefix: redis.nextPrefix() })],
]
const EXPRESSES = [
  ['Express 5', express5],
  ['Express 4', express4 as unknown as typeof express5],
] as const

type App = ReturnType<typeof express5>

/** An Express app with compression, helmet, CORS headers, the middleware, and the routes of the tests. */
function hostApp(express: typeof express5, store: Store, options: SessionOptions = {}): App {
  const app = express()
  app.engine('tpl', (path, data, callback) =>
    callback(null, `rendered ${(data as { name?: string }).name ?? ''} from ${path.endsWith('page.tpl')}`),
  )
  app.set('views', files)
  app.use(compression({ threshold: 0 }))
  app.use(helmet())
  app.use((_req, res, next) => {
    res.setHeader('access-control-allow-origin', 'https://app.example')
    res.setHeader('vary', 'Origin')
    next()
  })
  app.use(express.json())
  app.use(sessionMiddleware({ secret, store, ...options }))
  app.post('/login', async (req, res) => {
    await req.session.create('ada', {})
    res.json({ token: req.session.token })
  })
  app.get('/value', (req, res) => {
    res.json({ value: req.session.get('value') ?? null })
  })
  const write = (req: express5.Request) => req.session.set('value', String(req.query.v))
  app.post('/json', (req, res) => {
    write(req)
    res.json({ ok: true })
  })
  app.post('/send', (req, res) => {
    write(req)
    res.send('sent')
  })
  app.post('/redirect', (req, res) => {
    write(req)
    res.redirect(303, '/value')
  })
  app.post('/render', (req, res) => {
    write(req)
    res.render('page.tpl', { name: 'ada' })
  })
  app.post('/file', (req, res) => {
    write(req)
    res.sendFile(join(files, 'large.txt'))
  })
  app.post('/pipe', (req, res) => {
    write(req)
    res.setHeader('content-type', 'text/plain')
    res.setHeader('content-length', Buffer.byteLength(BODY))
    Readable.from([BODY.slice(0, 1000), BODY.slice(1000)]).pipe(res)
  })
  app.use('/static', (req, _res, next) => {
    write(req)
    next()
  })
  app.use('/static', express.static(files))
  app.post('/fail-after-answer', (req, res, next) => {
    write(req)
    res.json({ first: true })
    next(new Error('after the answer'))
  })
  app.post('/server-error', (req, res) => {
    write(req)
    res.status(500).json({ failed: true })
  })
  app.use((error: Error, _req: express5.Request, res: express5.Response, next: express5.NextFunction) => {
    if (res.headersSent) return next(error)
    res.status(500).json({ message: error.message })
  })
  return app
}

async function loggedIn(app: App): Promise<{ server: Server; cookie: string }> {
  const server = createServer(app)
  const login = await request(server).post('/login')
  const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? [])[0]!.split(';')[0]!
  return { server, cookie }
}

const storedValue = async (server: Server, cookie: string) =>
  (await request(server).get('/value').set('Cookie', cookie)).body.value

describe.each(EXPRESSES)('on %s', (_, express) => {
  describe.each(STORES)('with %s', (_, makeStore) => {
    let store: Store
    beforeEach(() => {
      store = makeStore()
    })
    afterEach(() => store.close?.())

    it.each([
      ['res.json', 'POST', '/json', 200, '{"ok":true}'],
      ['res.send', 'POST', '/send', 200, 'sent'],
      ['res.redirect', 'POST', '/redirect', 303, undefined],
      ['res.render', 'POST', '/render', 200, 'rendered ada from true'],
      ['res.sendFile', 'POST', '/file', 200, BODY],
      ['a pipe with a Content-Length', 'POST', '/pipe', 200, BODY],
      ['express.static', 'GET', '/static/large.txt', 200, BODY],
    ])(
      'stores the write before %s answers, so the next request reads it',
      async (_, method, path, status, body) => {
        const { server, cookie } = await loggedIn(hostApp(express, store))
        const call = method === 'GET' ? request(server).get(path) : request(server).post(path)
        const res = await call
          .query({ v: path })
          .set('Cookie', cookie)
          .buffer(true)
          .parse(textParser as never)
        expect(res.status).toBe(status)
        if (body !== undefined) expect(res.body).toBe(body)
        expect(await storedValue(server, cookie)).toBe(path)
      },
    )

    it('keeps the first answer when an error arrives after it, and the error middleware defers', async () => {
      const { server, cookie } = await loggedIn(hostApp(express, store))
      const res = await request(server)
        .post('/fail-after-answer')
        .query({ v: 'kept' })
        .set('Cookie', cookie)
        .then(
          (answer) => answer,
          (error: NodeJS.ErrnoException) => error,
        )
      // the final handler closes the connection of a response already under way: the request may
      // fail, but it is never answered with the error's page
      if (typeof (res as { status?: unknown }).status === 'number')
        expect([(res as request.Response).status, (res as request.Response).body]).toEqual([
          200,
          { first: true },
        ])
      expect(await storedValue(server, cookie)).toBe('kept')
    })

    it('stores nothing from a response of 500, unless saveOnServerError', async () => {
      const dropping = await loggedIn(hostApp(express, store))
      await request(dropping.server)
        .post('/server-error')
        .query({ v: 'dropped' })
        .set('Cookie', dropping.cookie)
      expect(await storedValue(dropping.server, dropping.cookie)).toBeNull()
      const saving = await loggedIn(hostApp(express, store, { saveOnServerError: true }))
      await request(saving.server).post('/server-error').query({ v: 'saved' }).set('Cookie', saving.cookie)
      expect(await storedValue(saving.server, saving.cookie)).toBe('saved')
    })
  })

  describe('when the store write fails', () => {
    const broken = () => failingStore(slowStore(new MemoryStore({ heartbeat: 0 })), { update: true })

    it('answers 503 in place of res.json, keeping CORS, security and cookie headers', async () => {
      const { server, cookie } = await loggedIn(hostApp(express, broken()))
      const res = await request(server).post('/json').query({ v: 'x' }).set('Cookie', cookie)
      expect([res.status, res.body.code, res.headers['content-type']]).toEqual([
        503,
        210,
        'application/json; charset=utf-8',
      ])
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example',
        vary: expect.stringContaining('Origin'),
        'content-security-policy': expect.any(String),
        'strict-transport-security': expect.any(String),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'retry-after': '1',
      })
      expect(res.headers.etag).toBeUndefined()
    })

    it.each([
      ['res.sendFile', '/file'],
      ['a pipe with a Content-Length', '/pipe'],
    ])('never lets %s complete a response that was not stored', async (_, path) => {
      const { server, cookie } = await loggedIn(hostApp(express, broken()))
      const outcome = await request(server)
        .post(path)
        .query({ v: 'x' })
        .set('Cookie', cookie)
        .buffer(true)
        .parse(textParser as never)
        .then(
          (res) => (res.status === 200 && res.body === BODY ? 'complete' : `answered ${res.status}`),
          () => 'aborted',
        )
      expect(outcome).not.toBe('complete')
    })
  })
})

/** Collects a body as text whatever its type, so every answer compares the same way. */
function textParser(res: NodeJS.ReadableStream, done: (error: Error | null, body: string) => void): void {
  let text = ''
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => {
    text += chunk
  })
  res.on('end', () => done(null, text))
  res.on('error', (error: Error) => done(error, text))
}
