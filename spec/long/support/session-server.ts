/**
 * A session server in its own process, for the long suites: Express 5 with the middleware on the
 * store named by the environment, driven over HTTP, and asked over IPC for its heap and store.
 *
 *   STORE=memory | redis (REDIS_URL) | cluster (REDIS_NODES=host:port,...), MAX_AGE, HEARTBEAT, PREFIX
 */

import express from 'express'
import { Cluster } from 'ioredis'
import { sendJson } from '../../../lib/http/answers'
import { sessionMiddleware } from '../../../lib/http/middleware'
import { MemoryStore } from '../../../lib/stores/memory/memory-store'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import type { Store } from '../../../lib/stores/store'

const secret = 'long-suite-secret-that-is-long-enough-0123'
const kind = process.env.STORE ?? 'memory'
const prefix = process.env.PREFIX ?? 'long'
const maxAge = Number(process.env.MAX_AGE ?? 3600)

function makeStore(): Store {
  if (kind === 'memory')
    return new MemoryStore({ heartbeat: Number(process.env.HEARTBEAT ?? 10), capacity: 1_000_000 })
  if (kind === 'redis') return new RedisStore(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { prefix })
  const nodes = (process.env.REDIS_NODES ?? '').split(',').map((node) => {
    const [host, port] = node.split(':')
    return { host: host ?? '127.0.0.1', port: Number(port) }
  })
  return new RedisStore(new Cluster(nodes, { enableOfflineQueue: true }), { prefix })
}

let unhandled = 0
process.on('unhandledRejection', (reason) => {
  unhandled++
  console.error('unhandled rejection', reason)
})

const store = makeStore()
const app = express()
app.use(sessionMiddleware({ secret, store, maxAge }))
app.use(express.json())
app.post('/login', async (req, res, next) => {
  try {
    sendJson(res, 200, {
      token: await req.session.create(String(req.body.uid ?? 'user'), req.body.values ?? {}),
    })
  } catch (error) {
    next(error)
  }
})
app.get('/read', (req, res) => {
  if (!req.session.exists) return sendJson(res, 401, { error: req.session.error?.error ?? 'TOKEN_EMPTY' })
  sendJson(res, 200, req.session)
})
app.post('/write', (req, res) => {
  if (!req.session.exists) return sendJson(res, 401, { error: req.session.error?.error ?? 'TOKEN_EMPTY' })
  req.session.update(req.body)
  sendJson(res, 200, {})
})
app.post('/logout', async (req, res, next) => {
  try {
    await req.session.destroy()
    sendJson(res, 200, {})
  } catch (error) {
    next(error)
  }
})
app.use(
  (
    error: { status?: number; code?: number },
    _req: express.Request,
    res: express.Response,
    _next: unknown,
  ) => {
    sendJson(res, error.status ?? 500, { code: error.code })
  },
)

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 })
})

process.on('message', async (message: { type: string }) => {
  if (message.type === 'heap') {
    for (let round = 0; round < 3; round++) global.gc?.()
    process.send?.({ type: 'heap', heapUsed: process.memoryUsage().heapUsed })
  } else if (message.type === 'stats') {
    process.send?.({ type: 'stats', size: store instanceof MemoryStore ? store.size : -1, unhandled })
  } else if (message.type === 'stop') {
    server.close()
    await store.close?.()
    process.exit(0)
  }
})
