import type { Cluster, Command, Redis } from 'ioredis'
import { debug } from '../../core/debug'

/** An ioredis client the store can work through: a single `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster

/**
 * ioredis, loaded only by a store made from a URL (apps on MemoryStore need not install it), and
 * at its construction: a missing install then fails at start-up, saying what to do, instead of
 * as a 503 on every request.
 */
export function loadIoredis(): typeof import('ioredis') {
  try {
    return require('ioredis') as typeof import('ioredis')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error
    throw new Error('RedisStore needs ioredis to connect to a Redis URL: npm install ioredis', {
      cause: error,
    })
  }
}

/**
 * The client of a store made from a URL. Nothing queues while disconnected, unanswered commands
 * are not replayed after a reconnect, and errors go to the debug log instead of crashing the process.
 * Its commands have no timeout of their own: the store bounds each call (`BoundedCommands`).
 */
export function openClient(url: string, timeout: number): Redis {
  const { Redis } = loadIoredis()
  const client = new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeout,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    // close() ends the socket gracefully only after a QUIT; this bounds the rest (and ioredis'
    // timer for a socket that had already failed, which would otherwise hold the process 2 s)
    disconnectTimeout: 100,
  })
  client.on('error', (error: Error) => debug('redis store: %s', error.message))
  return client
}

/**
 * Sends commands on a client of the store's own, each rejected once `timeout` has passed without
 * an answer, by one timer for all of them. (ioredis' `commandTimeout` arms a timer a command, and
 * deletes it from the command once answered.) Redis answers a connection's commands in order, so
 * the oldest command sent is the next to time out, and the one the next answer settles.
 */
export class BoundedCommands {
  readonly #client: Redis
  readonly #timeout: number
  readonly #Command: typeof Command
  /** The commands sent and not settled yet, oldest first, and when each gives up (`performance.now()`). */
  readonly #sent: Command[] = []
  readonly #deadlines: number[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(client: Redis, timeout: number) {
    this.#client = client
    this.#timeout = timeout
    this.#Command = loadIoredis().Command
  }

  /**
   * Sends `name` with `args` (an array among them is sent as its items), answering its reply
   * through `answered`, or its failure (a timeout too) through `failed`.
   */
  send<T>(
    name: string,
    args: (string | string[])[],
    answered: (reply: unknown) => T,
    failed: (error: unknown) => T | Promise<T>,
  ): Promise<T> {
    const command = new this.#Command(name, args, { replyEncoding: 'utf8' })
    const reply = this.#client.sendCommand(command) as Promise<unknown>
    this.#sent.push(command)
    this.#deadlines.push(performance.now() + this.#timeout)
    this.#timer ??= this.#arm(this.#timeout)
    return reply.then(
      (value) => {
        this.#settled(command)
        return answered(value)
      },
      (error: unknown) => {
        this.#settled(command)
        return failed(error)
      },
    )
  }

  #settled(command: Command): void {
    const index = this.#sent.indexOf(command)
    if (index === 0) {
      this.#sent.shift()
      this.#deadlines.shift()
    } else if (index > 0) {
      this.#sent.splice(index, 1)
      this.#deadlines.splice(index, 1)
    }
  }

  #arm(milliseconds: number): NodeJS.Timeout {
    return setTimeout(() => this.#expire(), Math.ceil(milliseconds)).unref()
  }

  /** Rejects the commands whose time is up, and waits for the next one's. */
  #expire(): void {
    this.#timer = undefined
    const now = performance.now()
    while (this.#deadlines.length > 0 && this.#deadlines[0]! <= now) {
      this.#deadlines.shift()
      this.#sent.shift()!.reject(new Error(`redis gave no answer within ${this.#timeout} ms`))
    }
    if (this.#deadlines.length > 0) this.#timer = this.#arm(this.#deadlines[0]! - now)
  }
}

/**
 * Settles when `client` is next ready: at once if it is, else on its `ready` event, or rejects
 * with the first error it reports meanwhile (a refused connection, NOAUTH, a database index
 * Redis refused) or when it is closed. Connects a client made with `lazyConnect`.
 */
export function connection(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(new Error('the redis client is closed'))
  if (client.status === 'wait') client.connect().catch(noop)
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: Error) => {
      client.off('ready', onReady)
      client.off('error', onError)
      client.off('end', onEnd)
      if (error) reject(error)
      else resolve()
    }
    const onReady = () => settle()
    const onError = (error: Error) => settle(error)
    const onEnd = () => settle(new Error('the redis client is closed'))
    client.on('ready', onReady)
    client.on('error', onError)
    client.on('end', onEnd)
  })
}

/**
 * Checks that a single client works in the database it was asked for: ioredis goes on in database
 * 0 when `SELECT` fails. Skipped on a Cluster (one database) or where `CLIENT INFO` is refused.
 */
export async function checkDatabase(client: RedisClient): Promise<void> {
  if ('nodes' in client) return
  const wanted = client.options.db ?? 0
  const info = await client.call('CLIENT', 'INFO').then(String, () => '')
  const actual = /\bdb=(\d+)/.exec(info)?.[1]
  if (actual !== undefined && Number(actual) !== wanted)
    throw new Error(`connected to database ${actual}, not ${wanted}: redis refused SELECT ${wanted}`)
}

/**
 * The `maxmemory-policy` of each server the store writes to (every master of a Cluster), read
 * with CONFIG GET; a server that refuses it (managed Redis often does) is left out and logged.
 */
export async function evictionPolicies(client: RedisClient): Promise<string[]> {
  const servers = 'nodes' in client ? client.nodes('master') : [client]
  const policies: string[] = []
  for (const server of servers) {
    try {
      const [, policy] = (await server.config('GET', 'maxmemory-policy')) as string[]
      if (policy !== undefined) policies.push(policy)
    } catch (error) {
      debug(
        'redis store: could not read maxmemory-policy: %s',
        error instanceof Error ? error.message : error,
      )
    }
  }
  return policies
}

function noop(): void {}
