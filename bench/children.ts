/** Starting bench processes (TypeScript through tsx) and talking to them over IPC. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'

export const ROOT = join(__dirname, '..')

/** A message a bench child sends or receives: a `type` and whatever that type carries. */
export interface Message {
  type: string
  id?: number
  [field: string]: unknown
}

export interface ChildOptions {
  /** The Node binary to run the script on: by default the one running this process. */
  node?: string
  /** Node flags placed before the script, e.g. `--expose-gc` or `--cpu-prof`. */
  nodeFlags?: string[]
  /** CPUs the process may run on (`taskset -c`), when pinning is available. */
  cpus?: string | undefined
  env?: Record<string, string>
}

/** Whether processes can be pinned to CPUs here: `taskset` present and at least 2 CPUs. */
export function canPin(): boolean {
  if (availableParallelism() < 2) return false
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The command line that runs `command args` on `cpus`, or unchanged when `cpus` is undefined. */
export function pinned(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]]
}

/**
 * A TypeScript bench script in its own Node process, with an IPC channel. It runs on the Node that
 * runs this process unless `node` says otherwise; a run of the suite on several lines starts one
 * orchestrator per line on that line's binary, so that its servers and other children run there.
 */
export class Child {
  readonly process: ChildProcess
  #nextId = 1
  #exited: Promise<number | null>

  constructor(script: string, args: string[], options: ChildOptions = {}) {
    const [command, commandArgs] = pinned(options.cpus, options.node ?? process.execPath, [
      ...(options.nodeFlags ?? []),
      '--import',
      'tsx',
      join(ROOT, 'bench', script),
      ...args,
    ])
    this.process = spawn(command, commandArgs, {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)))
  }

  /** The next message of `type`; rejects if the child exits first. */
  next(type: string, id?: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: Message) => {
        if (message.type === 'error' && (id === undefined || message.id === id)) {
          cleanup()
          reject(new Error(`bench child: ${String(message.message)}`))
        } else if (message.type === type && (id === undefined || message.id === id)) {
          cleanup()
          resolve(message)
        }
      }
      const onExit = (code: number | null) => {
        cleanup()
        reject(new Error(`bench child exited with ${code} while waiting for ${type}`))
      }
      const cleanup = () => {
        this.process.off('message', onMessage)
        this.process.off('exit', onExit)
      }
      this.process.on('message', onMessage)
      this.process.once('exit', onExit)
    })
  }

  /** Sends a request and resolves the child's answer to it (same `id`, type `done`). */
  request(message: Message): Promise<Message> {
    const id = this.#nextId++
    const answer = this.next('done', id)
    this.process.send({ ...message, id })
    return answer
  }

  /** Asks the child to stop and waits for it; kills it after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    // a child that has just disconnected may still read as connected: ignore a failed send
    if (this.process.connected) this.process.send({ type: 'stop' }, () => {})
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
    await this.#exited
    clearTimeout(timer)
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()))
    })
  })
}

/** In a child: answers each request `handle` resolves, reporting failures instead of dying. */
export function serveRequests(handle: (message: Message) => Promise<Record<string, unknown>>): void {
  process.on('message', (message: Message) => {
    if (message.type === 'stop') return
    handle(message).then(
      (answer) => process.send?.({ ...answer, type: 'done', id: message.id }),
      (error: unknown) =>
        process.send?.({
          type: 'error',
          id: message.id,
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    )
  })
}
