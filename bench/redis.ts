/** A private redis-server for the bench: its own free port, no persistence, stopped at the end. */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, pinned } from './children'

export class RedisServer {
  readonly port: number
  readonly url: string
  readonly #process: ChildProcess
  readonly #dir: string

  private constructor(port: number, process: ChildProcess, dir: string) {
    this.port = port
    this.url = `redis://127.0.0.1:${port}`
    this.#process = process
    this.#dir = dir
  }

  /** Starts `redis-server` from PATH on a free loopback port, optionally pinned to `cpus`. */
  static async start(cpus?: string): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const dir = mkdtempSync(join(tmpdir(), 'cosgo-bench-redis-'))
      const [command, args] = pinned(cpus, 'redis-server', [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        '',
        '--loglevel',
        'warning',
      ])
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk
      })
      const server = new RedisServer(port, child, dir)
      if (await server.#waitReady()) return server
      await server.stop()
      if (attempt === 3) throw new Error(`redis-server did not start: ${stderr}`)
    }
  }

  get pid(): number | undefined {
    return this.#process.pid
  }

  /** A fresh ioredis client straight to this server (not through any proxy). */
  client(): Redis {
    return new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1 })
  }

  /** Calls of every command so far (`INFO commandstats`), by lower-case command name. */
  async commandCalls(client: Redis): Promise<Map<string, number>> {
    const info = await client.info('commandstats')
    const calls = new Map<string, number>()
    for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
      calls.set(match[1]!.toLowerCase(), Number(match[2]))
    return calls
  }

  async stop(): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      const exited = new Promise((resolve) => this.#process.once('exit', resolve))
      this.#process.kill('SIGTERM')
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }

  async #waitReady(): Promise<boolean> {
    const deadline = Date.now() + 5000
    while (Date.now() < deadline) {
      if (this.#process.exitCode !== null) return false
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      probe.on('error', () => {})
      try {
        await probe.connect()
        if ((await probe.ping()) === 'PONG') return true
      } catch {
        // not listening yet
      } finally {
        probe.disconnect()
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return false
  }
}

/** Per-command call counts of `after` minus `before`, leaving out the bench's own INFO calls. */
export function commandDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const delta = new Map<string, number>()
  for (const [command, calls] of after) {
    if (command === 'info') continue
    const difference = calls - (before.get(command) ?? 0)
    if (difference > 0) delta.set(command, difference)
  }
  return delta
}
