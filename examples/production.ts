// Production settings: `SESSION_SECRET=… REDIS_URL=redis://… npx tsx examples/production.ts`.
import express, { type ErrorRequestHandler } from 'express'
import { isSessionError, sessionMiddleware } from '../lib/index'
import { RedisStore } from '../lib/redis'

const { SESSION_SECRET, PREVIOUS_SESSION_SECRET, REDIS_URL, PORT = '3000' } = process.env
if (!SESSION_SECRET || !REDIS_URL) throw new Error('set SESSION_SECRET (32 characters or more) and REDIS_URL')

// What to watch: sessions created, ended and expired, and store failures (503, code 210).
const counts = { created: 0, destroyed: 0, expired: 0, storeUnavailable: 0 }
const store = new RedisStore(REDIS_URL, { prefix: 'app', timeout: 1000 })
for (const event of ['created', 'destroyed', 'expired'] as const) store.on(event, () => counts[event]++)

const app = express()
// One proxy in front: req.secure, and so the cookie's Secure, follow its X-Forwarded-Proto.
app.set('trust proxy', 1)
app.use(
  sessionMiddleware({
    // the first key signs, both verify: drop the previous one once its tokens have expired
    secret: PREVIOUS_SESSION_SECRET ? [SESSION_SECRET, PREVIOUS_SESSION_SECRET] : SESSION_SECRET,
    store,
    // nginx drops request headers whose names have underscores, such as the default _cookie_vars
    header: 'x-session-token',
  }),
)
app.get('/metrics', (_req, res) => res.json(counts))
app.use(((error, _req, _res, next) => {
  if (isSessionError(error, 'STORE_UNAVAILABLE')) counts.storeUnavailable++
  next(error)
}) satisfies ErrorRequestHandler)

app.listen(Number(PORT))
