import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import { untilSubscribed } from './socket-stores'

/** What the second process serves: the `ws` example or the socket.io one. */
export type SocketKind = 'ws' | 'socketio'

/**
 * Another app server on the same Redis, as a second process: `socket-process.ts` forked with
 * the example of `kind` on a RedisStore under `prefix`. Its sockets hear `ended` only through
 * the store's channel, never from this process's store events.
 */
export class SocketServerProcess {
  readonly port: number
  readonly #child: ChildProcess

  private constructor(child: ChildProcess, port: number) {
    this.#child = child
    this.port = port
  }

  /** Forks the process and waits until it listens and hears the store's `ended` channel. */
  static async start(options: {
    kind: SocketKind
    redisUrl: string
    prefix: string
    secret: string
  }): Promise<SocketServerProcess> {
    const { kind, redisUrl, prefix, secret } = options
    const child = fork(join(__dirname, 'socket-process.ts'), [], {
      env: { ...process.env, KIND: kind, REDIS_URL: redisUrl, PREFIX: prefix, SECRET: secret },
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', (code) => reject(new Error(`socket process exited with ${code}`)))
      child.on('message', (message: { type: string; port?: number }) => {
        if (message.type === 'listening') resolve(message.port ?? 0)
      })
    })
    child.removeAllListeners('exit')
    await untilSubscribed(redisUrl, prefix, 1)
    return new SocketServerProcess(child, port)
  }

  /** How many times the process has read its store (`get`) so far. */
  reads(): Promise<number> {
    return new Promise((resolve) => {
      const listener = (message: { type: string; count?: number }) => {
        if (message.type !== 'reads') return
        this.#child.off('message', listener)
        resolve(message.count ?? -1)
      }
      this.#child.on('message', listener)
      this.#child.send({ type: 'reads' })
    })
  }

  /** Closes its server, manager and store, and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return
    const exited = new Promise((resolve) => this.#child.once('exit', resolve))
    this.#child.send({ type: 'stop' })
    await exited
  }
}
