// `npm start`: the example app on PORT (default 3000), in memory or in Redis when REDIS_URL is set.
import { MemoryStore, type Store } from '../lib/index'
import { RedisStore } from '../lib/redis'
import { createExample } from './app'

/** Signs tokens when SESSION_SECRET is unset: fine on a laptop, never in production. */
const DEV_SECRET = 'cosgo-session-example-dev-secret-do-not-deploy'

const port = Number(process.env.PORT ?? 3000)
const maxAge = Number(process.env.SESSION_MAX_AGE ?? 1800)
const redisUrl = process.env.REDIS_URL

const secret = process.env.SESSION_SECRET || DEV_SECRET
if (secret === DEV_SECRET)
  console.warn('SESSION_SECRET is not set: signing with the fixed development secret (never deploy this)')

async function main(): Promise<void> {
  let store: Store & { close?: () => Promise<void> } = new MemoryStore()
  if (redisUrl) {
    const redisStore = new RedisStore(redisUrl, { prefix: 'example' })
    redisStore.on('warning', (warning) => console.warn(`redis: ${warning.message}`))
    // Fail at start-up with Redis's own reason (NOAUTH, connection refused, …), not with a 503 per request.
    try {
      await redisStore.ready()
    } catch (error) {
      console.error(`cannot use Redis at ${new URL(redisUrl).host}: ${(error as Error).message}`)
      await redisStore.close()
      process.exit(1)
    }
    store = redisStore
  }

  const example = createExample({ secret, store, maxAge })
  const { app, live } = example
  const server = app.listen(port, (error?: Error) => {
    if (error) throw error
    const where = redisUrl ? `Redis at ${new URL(redisUrl).host}` : 'memory'
    console.log(
      `cosgo-session example on http://localhost:${port} (sessions in ${where}, idle timeout ${maxAge} s)`,
    )
  })
  live.attach(server)

  // Answer the requests in flight, then close the store's connection; the process then ends by itself.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      console.log(`${signal}: shutting down`)
      void example.close()
      server.close(() => void store.close?.())
      server.closeIdleConnections()
    })
}

void main()
