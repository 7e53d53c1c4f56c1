/**
 * A held response keeps Node's response contract: from the app's end() on, everything else in the
 * process sees an ended response, and exactly one well-formed answer goes out on the connection.
 */
import { once } from 'node:events'
import { createServer, type Server, type ServerResponse } from 'node:http'
import net from 'node:net'
import express from 'express'
import { sessionMiddleware } from '../../lib/http/middleware'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import type { Store } from '../../lib/stores/store'
import { gatedStore } from '../support/stores'

const secret = 'test-secret-that-is-long-enough-0123456789'

/**
 * Sends `requests` on one keep-alive socket, each once the answer to the one before has arrived
 * whole (or the server closed), and answers every byte the server sent back.
 */
async function onOneSocket(server: Server, requests: string[]): Promise<string> {
  const { port } = server.address() as net.AddressInfo
  const socket = net.connect(port, '127.0.0.1')
  let received = ''
  let closed = false
  let wake = () => {}
  socket.on('data', (chunk) => {
    received += chunk.toString('latin1')
    wake()
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    closed = true
    wake()
  })
  await once(socket, 'connect')
  for (const [index, head] of requests.entries()) {
    socket.write(head)
    while (!closed && completeResponses(received) <= index)
      await new Promise<void>((resolve) => (wake = resolve))
    if (closed) break
  }
  if (!closed) await once(socket, 'close')
  return received
}

/** How many whole responses `bytes` holds. */
function completeResponses(bytes: string): number {
  try {
    return parseResponses(bytes).length
  } catch {
    return 0
  }
}

/** The responses in `bytes`, each parsed by its Content-Length; throws on stray bytes. */
function parseResponses(bytes: string): { status: number; body: string }[] {
  const responses: { status: number; body: string }[] = []
  let rest = bytes
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) throw new Error(`stray bytes on the connection: ${JSON.stringify(rest.slice(0, 80))}`)
    const head = rest.slice(0, end)
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)
    const length = /\r\ncontent-length: (\d+)/i.exec(head)
    if (!status || !length) throw new Error(`not a response head: ${JSON.stringify(head.slice(0, 80))}`)
    if (rest.length < end + 4 + Number(length[1])) throw new Error('a response cut short')
    const body = rest.slice(end + 4, end + 4 + Number(length[1]))
    responses.push({ status: Number(status[1]), body })
    rest = rest.slice(end + 4 + Number(length[1]))
  }
  return responses
}

const get = (path: string, cookie: string, close = false) =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`

describe('a response held for its store write', () => {
  let gated: ReturnType<typeof gatedStore<MemoryStore>>
  let server: Server
  let cookie: string
  let seen: Record<string, unknown>
  let guards: unknown[][]

  /** An app on a gated store whose routes answer, then misbehave as real apps do. */
  async function start(store: Store = gated.store): Promise<void> {
    const app = express()
    app.use(sessionMiddleware({ secret, store }))
    app.post('/login', async (req, res) => {
      await req.session.create('ada', {})
      res.end()
    })
    app.get('/answer-then-misbehave', (req, res) => {
      req.session.set('seen', true)
      res.status(200).json({ first: true })
      seen.headersSent = res.headersSent
      seen.writableEnded = res.writableEnded
      for (const [name, change] of [
        ['setHeader', () => res.setHeader('x-late', '1')],
        ['writeHead', () => res.writeHead(500)],
        ['removeHeader', () => res.removeHeader('content-type')],
      ] as const)
        try {
          change()
          seen[name] = 'allowed'
        } catch (error) {
          seen[name] = (error as NodeJS.ErrnoException).code
        }
      res.on('error', (error: NodeJS.ErrnoException) => {
        seen.writeError = error.code
      })
      res.write('late', (error) => {
        seen.writeCallback = (error as NodeJS.ErrnoException | null | undefined)?.code
      })
      res.statusCode = 418
    })
    app.get('/answer-then-error', (req, res, next) => {
      req.session.set('seen', true)
      res.json({ first: true })
      next(new Error('after the answer'))
    })
    app.use((error: Error, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (res.headersSent) return next(error)
      res.status(500).json({ message: error.message })
    })
    app.get('/note-guards', (req, res) => {
      req.session.set('seen', true)
      res.json({})
      guards.push(
        ['headersSent', 'writableEnded', 'setHeader', 'writeHead'].map((key) => {
          const descriptor = Object.getOwnPropertyDescriptor(res, key)
          return descriptor?.get ?? descriptor?.value
        }),
      )
    })
    app.get('/me', (req, res) => res.json({ seen: req.session.get('seen') ?? null }))
    server = createServer(app).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as net.AddressInfo
    const login = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' })
    cookie = login.headers.get('set-cookie')!.split(';')[0]!
  }

  beforeEach(() => {
    gated = gatedStore(new MemoryStore({ heartbeat: 0 }))
    seen = {}
    guards = []
  })
  afterEach(() => new Promise((resolve) => server.close(resolve)))

  it('reads as ended to the rest of the process, and refuses changes as Node does', async () => {
    await start()
    const answered = onOneSocket(server, [get('/answer-then-misbehave', cookie), get('/me', cookie, true)])
    await gated.updateEntered
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toEqual({
      headersSent: true,
      writableEnded: true,
      setHeader: 'ERR_HTTP_HEADERS_SENT',
      writeHead: 'ERR_HTTP_HEADERS_SENT',
      removeHeader: 'ERR_HTTP_HEADERS_SENT',
      writeError: 'ERR_STREAM_WRITE_AFTER_END',
      writeCallback: 'ERR_STREAM_WRITE_AFTER_END',
    })
    gated.open()
    const responses = parseResponses(await answered)
    expect(responses).toEqual([
      { status: 200, body: '{"first":true}' },
      { status: 200, body: '{"seen":true}' },
    ])
    expect((await answered).includes('x-late')).toBe(false)
  })

  it('never lets an error that arrives after the answer rewrite it or leave bytes on the connection', async () => {
    await start()
    const answered = onOneSocket(server, [get('/answer-then-error', cookie), get('/me', cookie, true)])
    await gated.updateEntered
    gated.open()
    const responses = parseResponses(await answered)
    // Express's final handler closes a connection whose response is under way: the first answer
    // arrives whole, or not at all, and nothing else follows it on that connection
    expect(responses.length).toBeLessThanOrEqual(1)
    for (const response of responses) expect(response).toEqual({ status: 200, body: '{"first":true}' })
  })

  it('guards every held response with the same functions, so that none takes a shape of its own', async () => {
    await start()
    gated.open()
    const { port } = server.address() as net.AddressInfo
    for (const _ of [1, 2])
      await (await fetch(`http://127.0.0.1:${port}/note-guards`, { headers: { cookie } })).text()
    expect(guards).toHaveLength(2)
    expect(guards[0]!.every((guard) => typeof guard === 'function')).toBe(true)
    expect(guards[1]).toEqual(guards[0])
  })

  it('keeps a stray status change from reaching the client', async () => {
    await start()
    const answered = onOneSocket(server, [get('/answer-then-misbehave', cookie, true)])
    await gated.updateEntered
    gated.open()
    expect(parseResponses(await answered).map((response) => response.status)).toEqual([200])
  })
})

describe('a response whose session only reads', () => {
  it('is left as Node made it: no wrapper, no own property', async () => {
    const app = express()
    app.use(sessionMiddleware({ secret, store: new MemoryStore({ heartbeat: 0 }) }))
    let own: string[] = []
    app.get('/', (_req, res: ServerResponse) => {
      own = ['write', 'end', 'headersSent', 'writableEnded', 'setHeader'].filter((key) =>
        Object.hasOwn(res, key),
      )
      res.end('ok')
    })
    const server = createServer(app).listen(0, '127.0.0.1')
    await once(server, 'listening')
    await fetch(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`)
    server.close()
    expect(own).toEqual([])
  })
})
