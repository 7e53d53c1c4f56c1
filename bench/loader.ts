/**
 * The load generator, in its own process so its CPU is not the server's: runs autocannon on
 * request and answers the figures. Each connection carries one session's cookie for its life.
 */
import { type Message, serveRequests } from './children'
import { autocannon } from './vendor'

/** What one load run measured. */
export interface LoadResult {
  requestsPerSecond: number
  requests: number
  seconds: number
  /** Milliseconds, autocannon's histogram (whole milliseconds). */
  p50: number
  p99: number
  mean: number
  errors: number
  timeouts: number
  non2xx: number
}

export interface LoadRequest {
  url: string
  method: 'GET' | 'POST'
  connections: number
  seconds: number
  cookies: string[]
}

async function run(request: LoadRequest): Promise<LoadResult> {
  let nextClient = 0
  const result = await autocannon({
    url: request.url,
    method: request.method,
    connections: request.connections,
    pipelining: 1,
    duration: request.seconds,
    setupClient: (client) => {
      client.setHeaders({ cookie: request.cookies[nextClient++ % request.cookies.length]! })
    },
  })
  return {
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  }
}

serveRequests(async (message: Message) => ({ result: await run(message.load as LoadRequest) }))
process.on('message', (message: Message) => {
  if (message.type === 'stop') process.exit(0)
})
process.on('disconnect', () => process.exit(0))
process.send?.({ type: 'ready' })
