import type { Cluster, Redis } from 'ioredis'
import { debug } from '../../core/debug'
import { type SessionError, storeUnavailable } from '../../core/errors'
import type { RedisScript } from './scripts'

/** An ioredis client the store can work through: a single `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster

type ScriptReply = Promise<unknown>

/**
 * Runs the Redis store's scripts on its client, each within `timeout`: by SHA-1, sent whole only
 * to a connection that lacks it, and never queued while the client is disconnected. Opens and
 * closes the client when the store was given a URL; a client it was given stays the caller's.
 */
export class ScriptRunner {
  readonly #timeout: number
  /** Whether the runner opened the client, and so closes it. */
  readonly #owned: boolean
  /** The client, once ioredis is loaded (at once when one was given). */
  readonly #client: Promise<RedisClient>
  #readyWait: Promise<void> | undefined
  /** The runner's own client once it exists, for the fast path of `run`. */
  #ownClient: RedisClient | undefined
  #closing: Promise<void> | undefined
  /** The scripts sent whole on each connection, which runs them by SHA-1 from then on. */
  readonly #scriptsSent = new WeakMap<object, Set<string>>()

  constructor(redis: string | RedisClient, timeout: number) {
    this.#timeout = timeout
    this.#owned = typeof redis === 'string'
    this.#client = typeof redis === 'string' ? openClient(redis, timeout) : Promise.resolve(redis)
    this.#client.then(
      (client) => {
        if (this.#owned) this.#ownClient = client
      },
      (error: unknown) => debug('redis store: no client: %s', messageOf(error)),
    )
  }

  /**
   * Runs one script (its `numberOfKeys` keys, then its arguments), failing with STORE_UNAVAILABLE
   * once `timeout` has passed. Nothing is sent unless the client is connected, so no call sits in
   * ioredis' offline queue to run long after its request has given up.
   */
  run<T = unknown>(
    script: RedisScript,
    numberOfKeys: number,
    keysAndArgs: string[],
    read?: (reply: unknown) => T,
  ): Promise<T> {
    const own = this.#ownClient
    if (own?.status !== 'ready') return this.#scriptWhenReady(script, numberOfKeys, keysAndArgs).then(read)
    // The store's own client bounds every command itself (commandTimeout, no offline queue),
    // so the common case needs no timer of ours, and the reply is read in the same step.
    const failed = (error: unknown): never => {
      throw unavailable(script, error)
    }
    try {
      return this.#send(own, script, numberOfKeys, keysAndArgs).then(read, failed) as Promise<T>
    } catch (error) {
      return Promise.reject(unavailable(script, error))
    }
  }

  /** Runs a plain command of the client within `timeout`, failing as a script does. */
  command<T>(name: string, call: (client: RedisClient) => Promise<T>): Promise<T> {
    const attempt = this.#readyClient().then(call)
    return withTimeout(attempt, this.#timeout).catch((error: unknown) => {
      debug('redis store: %s failed: %s', name, messageOf(error))
      throw storeUnavailable(error)
    })
  }

  /** `run` on a client given to the store, or its own while not connected: bounded by a timer. */
  async #scriptWhenReady(script: RedisScript, numberOfKeys: number, keysAndArgs: string[]): ScriptReply {
    let abandoned = false
    const attempt = this.#readyClient().then((client) => {
      if (abandoned) throw new Error('gave up before sending')
      return this.#send(client, script, numberOfKeys, keysAndArgs)
    })
    try {
      return await withTimeout(attempt, this.#timeout, () => {
        abandoned = true
      })
    } catch (error) {
      throw unavailable(script, error)
    }
  }

  /**
   * Runs a script by its SHA-1, or whole on a connection that has not had it yet, as ioredis'
   * `defineCommand` does, but without its per-call wrapper (a closure, a WeakSet lookup and an
   * array copy). A Redis that lost its scripts (SCRIPT FLUSH, a failover) is sent them again.
   */
  #send(client: RedisClient, script: RedisScript, numberOfKeys: number, keysAndArgs: string[]): ScriptReply {
    // a single client's socket is new after each reconnect; a Cluster's nodes answer NOSCRIPT
    const connection: object = 'stream' in client && client.stream ? client.stream : client
    let sent = this.#scriptsSent.get(connection)
    if (!sent) {
      sent = new Set()
      this.#scriptsSent.set(connection, sent)
    }
    if (!sent.has(script.sha)) {
      sent.add(script.sha)
      return client.eval(script.lua, numberOfKeys, keysAndArgs)
    }
    return client.evalsha(script.sha, numberOfKeys, keysAndArgs).catch((error: unknown) => {
      if (!messageOf(error).startsWith('NOSCRIPT')) throw error
      return client.eval(script.lua, numberOfKeys, keysAndArgs)
    })
  }

  async #readyClient(): Promise<RedisClient> {
    const client = await this.#client
    switch (client.status) {
      case 'ready':
        return client
      case 'end':
        throw new Error('the redis client is closed')
      case 'reconnecting':
        throw new Error('redis is unreachable; the client is reconnecting')
      case 'wait':
        client.connect().catch(noop)
    }
    await this.#readiness(client)
    return client
  }

  /** Settles when the client next becomes ready (or gives up): one set of listeners for all waiting calls. */
  #readiness(client: RedisClient): Promise<void> {
    this.#readyWait ??= new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        client.off('ready', onReady)
        client.off('reconnecting', onDown)
        client.off('end', onDown)
        this.#readyWait = undefined
        if (error) reject(error)
        else resolve()
      }
      const onReady = () => settle()
      const onDown = () => settle(new Error('redis is unreachable'))
      client.on('ready', onReady)
      client.on('reconnecting', onDown)
      client.on('end', onDown)
    })
    this.#readyWait.catch(noop)
    return this.#readyWait
  }

  /** Closes the client the runner opened from a URL; a client it was given stays open. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#owned
      ? this.#client.then((client) => this.#quit(client), noop)
      : Promise.resolve()
    return this.#closing
  }

  async #quit(client: RedisClient): Promise<void> {
    if (client.status === 'ready') {
      const quit = client.quit()
      const quitted = await withTimeout(quit, this.#timeout).then(
        () => true,
        () => false,
      )
      if (quitted) return
    }
    client.disconnect()
  }
}

/**
 * The client of a store made from a URL: ioredis is loaded only here, so apps that never use
 * Redis need not install it. Nothing queues while disconnected, unanswered commands are not
 * replayed after a reconnect, and errors go to the debug log instead of crashing the process.
 */
async function openClient(url: string, timeout: number): Promise<RedisClient> {
  const { Redis } = await import('ioredis')
  const client = new Redis(url, {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeout,
    connectTimeout: timeout,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    // close() ends the socket gracefully only after a QUIT; this bounds the rest (and ioredis'
    // timer for a socket that had already failed, which would otherwise hold the process 2 s)
    disconnectTimeout: 100,
  })
  client.on('error', (error: Error) => debug('redis store: %s', error.message))
  return client
}

/** A failed script, logged for NODE_DEBUG and reported as STORE_UNAVAILABLE. */
function unavailable(script: RedisScript, error: unknown): SessionError {
  debug('redis store: %s failed: %s', script.name, messageOf(error))
  return storeUnavailable(error)
}

/** `promise`, or a rejection once `milliseconds` have passed. */
export function withTimeout<T>(promise: Promise<T>, milliseconds: number, onExpiry = noop): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpiry()
      reject(new Error(`redis gave no answer within ${milliseconds} ms`))
    }, milliseconds)
  })
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function noop(): void {}
