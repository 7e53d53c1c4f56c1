/**
 * The middleware's own CPU cost per request, in-process and without a network: real
 * IncomingMessage and ServerResponse objects (no socket) go through `sessionMiddleware` with a
 * MemoryStore and the scenario apps' read and write handlers, against the same handlers with no
 * session. Runs alternate in short batches and the medians are compared, so it resolves changes
 * of a few percent of the middleware's own code in seconds, where the HTTP phases need minutes
 * to resolve a few percent of a whole request. It measures our code alone: what Express adds
 * around it (see `property-cost.ts`), the network and the collector's share of a real server's
 * work are not in it, so a saving here shows up smaller in the HTTP figures.
 *
 * Run: `npx tsx bench/middleware-cost.ts [--against DIR]`, where DIR is another copy of lib/
 * (`git archive HEAD lib | tar -x -C ../before`) measured the same way, side by side. The suite runs it as
 * its `cost` phase, in a child process on the Node line measured: there it measures the bundle
 * the run built (`BENCH_LIBRARY`) and sends its figures over IPC as `{ type: 'result', result }`.
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type * as Library from './library'
import { median } from './stats'
import { buildLibrary } from './subject'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
type SessionRequest = IncomingMessage & { session: Library.Session<{ user: string; n: number }> }

const BATCH = 20_000
const ROUNDS = 21
const SECRET = 'bench-secret-bench-secret-bench-secret-0123'
const socket = new Socket()

function exchange(cookie: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(socket)
  req.method = 'GET'
  req.url = '/'
  req.headers = { host: 'localhost', cookie }
  return { req, res: new ServerResponse(req) }
}

/** The scenario apps' handlers (bench/apps.ts), answering with `res.end` instead of Express's `res.json`. */
const HANDLERS: Record<'read' | 'write', Handler> = {
  read(req, res) {
    const { session } = req as SessionRequest
    if (!session.exists) throw new Error('the session does not read back')
    res.end(JSON.stringify({ user: session.get('user'), n: session.get('n') }))
  },
  write(req, res) {
    const { session } = req as SessionRequest
    if (!session.exists) throw new Error('the session does not read back')
    const n = session.getNumber('n') + 1
    session.set('n', n)
    res.end(JSON.stringify({ n }))
  },
}

const BARE: Record<'read' | 'write', Handler> = {
  read: (_req, res) => void res.end(JSON.stringify({ user: 'u1', n: 0 })),
  write: (_req, res) => void res.end(JSON.stringify({ n: 1 })),
}

/** A middleware with a logged-in session, and the cookie that presents it. */
async function loggedIn(
  library: typeof Library,
): Promise<{ middleware: Library.SessionMiddleware; cookie: string }> {
  const middleware = library.sessionMiddleware({
    secret: SECRET,
    store: new library.MemoryStore({ heartbeat: 0 }),
    maxAge: 3600,
  })
  const { req, res } = exchange('')
  await new Promise<void>((resolve, reject) =>
    middleware(req, res, () => {
      ;(req as SessionRequest).session.create('u1', { user: 'u1', n: 0 }).then(() => resolve(), reject)
    }),
  )
  const cookie = String(res.getHeader('set-cookie')).split(';')[0]!
  return { middleware, cookie }
}

/** Nanoseconds per request over one batch. */
function batch(run: (cookie: string) => void, cookie: string): number {
  const started = process.hrtime.bigint()
  for (let index = 0; index < BATCH; index++) run(cookie)
  return Number(process.hrtime.bigint() - started) / BATCH
}

/** Nanoseconds a request above a bare handler, for one build and endpoint. */
export interface MiddlewareCost {
  endpoint: 'read' | 'write'
  build: string
  nanoseconds: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { against: { type: 'string' } } })
  const directory = join(__dirname, 'results', 'middleware-cost')
  const builds = {
    'lib/': process.env.BENCH_LIBRARY || (await buildLibrary(join(directory, 'lib'))),
  } as Record<string, string>
  if (values.against) builds[values.against] = await buildLibrary(join(directory, 'against'), values.against)
  const result: MiddlewareCost[] = []
  for (const endpoint of ['read', 'write'] as const) {
    const runs: Record<string, (cookie: string) => void> = {
      bare: () => {
        const { req, res } = exchange('')
        BARE[endpoint](req, res)
      },
    }
    const cookies: Record<string, string> = { bare: '' }
    for (const [name, file] of Object.entries(builds)) {
      const { middleware, cookie } = await loggedIn(require(file) as typeof Library)
      cookies[name] = cookie
      runs[name] = (presented) => {
        const { req, res } = exchange(presented)
        middleware(req, res, () => HANDLERS[endpoint](req, res))
      }
    }
    const names = Object.keys(runs)
    const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]))
    for (let round = 0; round < ROUNDS + 3; round++)
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const time = batch(runs[name]!, cookies[name]!)
        if (round >= 3) times[name]!.push(time)
      }
    const bare = median(times.bare!)
    for (const name of names.slice(1)) {
      const nanoseconds = median(times[name]!) - bare
      result.push({ endpoint, build: name, nanoseconds })
      console.log(
        `${endpoint.padEnd(5)}  ${name.padEnd(24)}  ${nanoseconds.toFixed(0).padStart(5)} ns a request above a bare handler`,
      )
    }
  }
  if (process.send) {
    await new Promise((resolve) => process.send!({ type: 'result', result }, resolve))
    process.disconnect()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
