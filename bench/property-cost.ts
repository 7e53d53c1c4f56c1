/**
 * What it costs a middleware to add one property to `res` (the `res.end` hold of a write) or
 * to `req` (`req.session`), on Express and on plain node:http: the time of that one assignment,
 * averaged over 12,000 requests after 12,000 of warm-up. Express gives every request and
 * response its app's prototype with `Object.setPrototypeOf`, and V8 then keeps no transition
 * for properties added afterwards: each assignment builds a new hidden class, where node:http's
 * objects reuse one. Run: `npx tsx bench/property-cost.ts`.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'

type Adder = (req: IncomingMessage, res: ServerResponse) => void

const ADDERS: Record<string, Adder> = {
  'nothing (the timer alone)': () => {},
  'res.end = wrapper': (_req, res) => {
    res.end = wrapperOf(res.end)
  },
  'req.session = object': (req) => {
    ;(req as IncomingMessage & { session?: object }).session = {}
  },
}

/**
 * A wrapper like the middleware's hold. Returned anonymous, because tsx would give a function
 * expression with a name a `__name()` call, which costs more than the assignment measured.
 */
function wrapperOf(end: ServerResponse['end']): ServerResponse['end'] {
  return function (this: ServerResponse, ...args: unknown[]) {
    return end.apply(this, args as Parameters<typeof end>)
  } as ServerResponse['end']
}

/** Nanoseconds per assignment on a server whose middleware runs `add`. */
async function measure(framework: 'express' | 'node:http', add: Adder): Promise<number> {
  let total = 0n
  let count = 0
  const timed = (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint()
    add(req, res)
    total += process.hrtime.bigint() - started
    count++
  }
  let server: ReturnType<typeof createServer>
  if (framework === 'express') {
    const app = express()
    app.use((req, res, next) => {
      timed(req, res)
      next()
    })
    app.get('/', (_req, res) => void res.json({ ok: true }))
    server = createServer(app)
  } else
    server = createServer((req, res) => {
      timed(req, res)
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const agent = new Agent({ keepAlive: true, maxSockets: 4 })
  const one = () =>
    new Promise<void>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: '/', agent }, (response) => {
        response.resume()
        response.on('end', resolve)
      })
        .on('error', reject)
        .end()
    })
  const requests = async (times: number) => {
    for (let batch = 0; batch < times / 4; batch++) await Promise.all([one(), one(), one(), one()])
  }
  await requests(12_000)
  total = 0n
  count = 0
  await requests(12_000)
  agent.destroy()
  await new Promise((resolve) => server.close(resolve))
  return Number(total) / count
}

async function main(): Promise<void> {
  for (const framework of ['express', 'node:http'] as const)
    for (const [name, add] of Object.entries(ADDERS))
      console.log(
        `${framework.padEnd(9)}  ${name.padEnd(26)}  ${(await measure(framework, add)).toFixed(0)} ns`,
      )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
