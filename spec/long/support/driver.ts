import { type ChildProcess, fork } from 'node:child_process'
import { Agent, request } from 'node:http'
import { join } from 'node:path'

/** A session server process and the IPC calls the long suites make to it. */
export class SessionServerProcess {
  readonly port: number
  readonly #child: ChildProcess

  private constructor(child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
  }

  /** Forks `session-server.ts` with `env` and waits until it listens. */
  static async start(env: Record<string, string>): Promise<SessionServerProcess> {
    const child = fork(join(__dirname, 'session-server.ts'), [], {
      env: { ...process.env, ...env },
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`session server exited with ${code}`)))
      child.on('message', (message: { type: string; port?: number }) => {
        if (message.type === 'listening') resolve(message.port ?? 0)
      })
    })
    child.removeAllListeners('exit')
    return new SessionServerProcess(child, port)
  }

  /** Whether the process still runs (it has not crashed). */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** Heap in use after forced garbage collection. */
  heapUsed(): Promise<number> {
    return this.#ask('heap').then((reply) => reply.heapUsed as number)
  }

  /** Sessions held by a memory store (-1 for Redis) and unhandled rejections seen. */
  stats(): Promise<{ size: number; unhandled: number }> {
    return this.#ask('stats') as Promise<{ size: number; unhandled: number }>
  }

  async stop(): Promise<void> {
    if (!this.alive) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.send({ type: 'stop' })
    await exited
  }

  #ask(type: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const listener = (message: Record<string, unknown>) => {
        if (message.type !== type) return
        this.#child.off('message', listener)
        resolve(message)
      }
      this.#child.on('message', listener)
      this.#child.send({ type })
    })
  }
}

/** The answer to one request: status (0 when the connection failed), body and how long it took. */
export interface Reply {
  status: number
  body: Record<string, unknown>
  milliseconds: number
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 })

/** One JSON request to a session server over a keep-alive connection, with the header token. */
export function call(
  port: number,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Reply> {
  const started = performance.now()
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          ...(token ? { _cookie_vars: token } : {}),
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString()
          let parsed: Record<string, unknown> = {}
          try {
            parsed = text ? JSON.parse(text) : {}
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed, milliseconds: performance.now() - started })
        })
        res.on('error', () => resolve({ status: 0, body: {}, milliseconds: performance.now() - started }))
      },
    )
    req.on('error', () => resolve({ status: 0, body: {}, milliseconds: performance.now() - started }))
    req.end(payload)
  })
}

/** Closes the keep-alive connections so the test process can exit. */
export function closeConnections(): void {
  agent.destroy()
}
