// Sessions in Redis: `REDIS_URL=redis://localhost:6379 npx tsx examples/redis-store.ts`.
import express from 'express'
import { sessionMiddleware } from '../lib/index'
import { type RedisClient, RedisStore } from '../lib/redis'

// A client of its own, opened from a URL and closed by store.close()
const store = new RedisStore(process.env.REDIS_URL ?? 'redis://localhost:6379', { prefix: 'app' })

// or a client you already have, new Redis(url) or new Cluster([{ host: 'redis-1', port: 6379 }]),
// which the store never closes
export const storeOn = (client: RedisClient) => new RedisStore(client, { prefix: 'app', timeout: 1000 })

const app = express()
app.use(
  sessionMiddleware({
    secret: process.env.SESSION_SECRET ?? 'dev-only-secret-at-least-32-characters!',
    store,
  }),
)
app.get('/', (req, res) => res.json({ signedIn: req.session.uid !== undefined }))

const server = app.listen(3002, () => console.log('listening on http://localhost:3002'))
process.once('SIGINT', () => server.close(() => void store.close()))
