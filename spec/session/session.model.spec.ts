/**
 * Model-based concurrency: random programs of many clients over a few sessions, each request a
 * random mix of writes, reads, refreshes and logouts with pauses between them, run concurrently
 * against a real server. Afterwards the store must hold exactly what a reference model gets by
 * applying each successful request's dirty keys in the order the store received them, and every
 * read inside a request must have seen that request's own writes. A request may fail only for a
 * reason its program explains: SESSION_REPLACED where a client of its session refreshes (of two
 * concurrent refreshes one loses, and its request stops there), SESSION_NOT_EXIST where one logs
 * out; a session lost to a race in any other way fails the test.
 */
import type { Server } from 'node:http'
import express from 'express'
import fc from 'fast-check'
import request from 'supertest'
import type { JsonValue } from '../../lib/core/values'
import { sendJson } from '../../lib/http/answers'
import { sessionMiddleware } from '../../lib/http/middleware'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { SessionChange, Store } from '../../lib/stores/store'
import { type RedisUnderTest, useRedis } from '../support/redis-server'

const secret = 'test-secret-that-is-long-enough-0123456789'
const KEYS = ['a', 'b', 'c', '__proto__'] as const

type Op =
  | { op: 'set'; key: string; value: number; pause: number }
  | { op: 'unset'; key: string; pause: number }
  | { op: 'update'; values: Record<string, number>; pause: number }
  | { op: 'read'; key: string; pause: number }
  | { op: 'refresh'; pause: number }
  | { op: 'destroy'; pause: number }

const keyArb = fc.constantFrom(...KEYS)
const pauseArb = fc.integer({ min: 0, max: 3 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      key: keyArb,
      value: fc.integer({ min: 0, max: 99 }),
      pause: pauseArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unset' as const), key: keyArb, pause: pauseArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      values: fc.dictionary(keyArb, fc.integer({ min: 0, max: 99 }), { minKeys: 1, maxKeys: 3 }),
      pause: pauseArb,
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), key: keyArb, pause: pauseArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('refresh' as const), pause: pauseArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('destroy' as const), pause: pauseArb }) },
)
const clientArb = fc.record({
  session: fc.integer({ min: 0, max: 2 }),
  requests: fc.array(fc.array(opArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
})
const programArb = fc.array(clientArb, { minLength: 2, maxLength: 6 })

/** Lets other requests run: `turns` trips through the event loop. */
const pause = async (turns: number) => {
  for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
}

/** The server runs each request's ops in order and reports what its reads saw. */
function programServer(store: Store, refreshGrace: number): Server {
  const app = express()
  app.use(sessionMiddleware({ secret, store, refreshGrace }))
  app.use(express.json())
  app.post('/login', async (req, res) => {
    sendJson(res, 200, { token: await req.session.create('user', req.body) })
  })
  app.post('/program', async (req, res, next) => {
    try {
      if (!req.session.exists) return sendJson(res, 401, { error: req.session.error?.error })
      const snapshot = req.session.toJSON()
      const reads: (JsonValue | null)[] = []
      let token: string | undefined
      for (const op of req.body as Op[]) {
        if (op.op === 'set') req.session.set(op.key, op.value)
        else if (op.op === 'unset') req.session.unset(op.key)
        else if (op.op === 'update') req.session.update(op.values)
        else if (op.op === 'read') reads.push(req.session.get(op.key) ?? null)
        else if (op.op === 'refresh') token = await req.session.refresh()
        else {
          await req.session.destroy()
          return sendJson(res, 200, { snapshot, reads, destroyed: true })
        }
        await pause(op.pause)
      }
      sendJson(res, 200, { snapshot, reads, token })
    } catch (error) {
      next(error)
    }
  })
  app.use(
    (
      error: { status?: number; error?: string },
      _req: express.Request,
      res: express.Response,
      _next: unknown,
    ) => sendJson(res, error.status ?? 500, { error: error.error }),
  )
  return app.listen(0, '127.0.0.1')
}

/** What a request's reads must have seen: its snapshot plus its own writes, in order. */
function expectedReads(snapshot: Record<string, JsonValue>, ops: Op[]): (JsonValue | null)[] {
  const view = new Map(Object.entries(snapshot))
  const reads: (JsonValue | null)[] = []
  for (const op of ops) {
    if (op.op === 'set') view.set(op.key, op.value)
    else if (op.op === 'unset') view.delete(op.key)
    else if (op.op === 'update') for (const [key, value] of Object.entries(op.values)) view.set(key, value)
    else if (op.op === 'read') reads.push(view.get(op.key) ?? null)
    else if (op.op === 'destroy') break
  }
  return reads
}

/**
 * The dirty keys a request may leave, the last write of each key winning: those of all its ops,
 * and those of the ops before each refresh, where it stops if that refresh loses to another.
 */
function possibleDirtyKeys(ops: Op[]): Map<string, number | undefined>[] {
  const dirty = new Map<string, number | undefined>()
  const possible = []
  for (const op of ops) {
    if (op.op === 'set') dirty.set(op.key, op.value)
    else if (op.op === 'unset') dirty.set(op.key, undefined)
    else if (op.op === 'update') for (const [key, value] of Object.entries(op.values)) dirty.set(key, value)
    else if (op.op === 'refresh') possible.push(new Map(dirty))
    else if (op.op === 'destroy') return possible
  }
  return [...possible, dirty]
}

/** The errors a request of `session` may meet, by what the clients of that session do. */
function explainedErrors(program: { session: number; requests: Op[][] }[], session: number): string[] {
  const ops = program
    .filter((client) => client.session === session)
    .flatMap((client) => client.requests.flat())
  return [
    ...(ops.some((op) => op.op === 'refresh') ? ['SESSION_REPLACED'] : []),
    ...(ops.some((op) => op.op === 'destroy') ? ['SESSION_NOT_EXIST'] : []),
  ]
}

let redis: RedisUnderTest
beforeAll(async () => {
  redis = await useRedis()
})
afterAll(() => redis.stop())

const stores: [string, () => Promise<{ store: Store; close(): Promise<void> }>][] = [
  [
    'MemoryStore',
    async () => {
      const store = new MemoryStore({ heartbeat: 0 })
      return { store, close: () => store.close() }
    },
  ],
  [
    'RedisStore',
    async () => {
      const store = new RedisStore(redis.url, { prefix: redis.nextPrefix() })
      return { store, close: () => store.close() }
    },
  ],
]

/** Programs and requests run, printed at the end for the README's reliability figures. */
const modelFigures = { programs: 0, requests: 0 }

afterAll(() => console.log(`model: ${modelFigures.programs} programs, ${modelFigures.requests} requests`))

describe.each(stores)('concurrent requests on %s', (_, makeStore) => {
  it.each([
    ['with a refresh grace window', 3600],
    ['without a refresh grace window', 0],
  ])('lose no update and always read their own writes, %s', async (_, refreshGrace) => {
    await fc.assert(
      fc.asyncProperty(programArb, async (program) => {
        const { store: backing, close } = await makeStore()
        const log: { id: string; change: SessionChange; stored: boolean }[] = []
        const store = new Proxy(backing, {
          get(target, property) {
            if (property === 'update')
              return async (id: string, change: SessionChange) => {
                const entry = { id, change, stored: false }
                log.push(entry)
                entry.stored = await target.update(id, change)
                return entry.stored
              }
            const value = Reflect.get(target, property)
            return typeof value === 'function' ? value.bind(target) : value
          },
        })
        const server = programServer(store, refreshGrace)
        try {
          const tokens: string[] = []
          const ids: string[] = []
          for (let index = 0; index < 3; index++) {
            const res = await request(server).post('/login').send({ a: index })
            tokens.push(res.body.token)
            ids.push(res.body.token.split('.')[0])
          }
          const destroyed = new Set<number>()
          await Promise.all(
            program.map(async (client) => {
              for (const ops of client.requests) {
                const res = await request(server)
                  .post('/program')
                  .set('_cookie_vars', tokens[client.session]!)
                  .send(ops)
                modelFigures.requests++
                if (res.status !== 200) {
                  expect(explainedErrors(program, client.session)).toContain(res.body.error)
                  continue
                }
                expect(res.body.reads).toEqual(expectedReads(res.body.snapshot, ops))
                if (res.body.token) tokens[client.session] = res.body.token
                if (res.body.destroyed) destroyed.add(client.session)
              }
            }),
          )
          for (let session = 0; session < 3; session++) {
            const id = ids[session]!
            const record = await backing.get(id)
            if (destroyed.has(session)) {
              expect(record).toBeUndefined()
              continue
            }
            const model = new Map<string, JsonValue>([['a', session]])
            for (const { change } of log.filter((entry) => entry.id === id && entry.stored)) {
              for (const key of change.unset ?? []) model.delete(key)
              for (const [key, value] of change.set ?? []) model.set(key, value)
            }
            expect(record && Object.fromEntries(record.values)).toEqual(Object.fromEntries(model))
          }
          const sent = log
            .filter(({ change }) => change.set?.size || change.unset?.length)
            .map(({ change }) => {
              const dirty = new Map<string, number | undefined>()
              for (const key of change.unset ?? []) dirty.set(key, undefined)
              for (const [key, value] of change.set ?? []) dirty.set(key, value as number)
              return dirty
            })
          const requested = program
            .flatMap((client) => client.requests.flatMap(possibleDirtyKeys))
            .filter((dirty) => dirty.size > 0)
          for (const dirty of sent) expect(requested).toContainEqual(dirty)
          modelFigures.programs++
        } finally {
          await new Promise((resolve) => server.close(resolve))
          await close()
        }
      }),
      { numRuns: Number(process.env.MODEL_RUNS ?? 60) },
    )
  })
})
