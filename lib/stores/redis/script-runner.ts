import { debug } from '../../core/debug'
import { SessionError, storeUnavailable } from '../../core/errors'
import { BoundedCommands, checkDatabase, connection, openClient, type RedisClient } from './redis-client'
import type { RedisScript } from './scripts'

type ScriptReply = Promise<unknown>

/** A SELECT that Redis refused: ioredis goes on in database 0, where the store must never write. */
const REFUSED_DATABASE = /^ERR (invalid )?DB index/

/**
 * Runs the Redis store's scripts on its client, each within `timeout`: by SHA-1, sent whole only
 * to a connection that lacks it, and never queued while the client is disconnected. Opens and
 * closes the client when the store was given a URL; a client it was given stays the caller's.
 */
export class ScriptRunner {
  readonly #timeout: number
  /** Whether the runner opened the client, and so closes it. */
  readonly #owned: boolean
  /** How scripts go out on the runner's own client, each bounded by `timeout`: `undefined` on a client it was given. */
  readonly #bounded: BoundedCommands | undefined
  /** The client the scripts run on: the store's own, opened from the URL, or the one it was given. */
  readonly client: RedisClient
  #readyWait: Promise<void> | undefined
  #closing: Promise<void> | undefined
  /** The scripts sent whole on each connection, which runs them by SHA-1 from then on. */
  readonly #scriptsSent = new WeakMap<object, Set<string>>()
  /** Why the runner's own client last failed to connect, for `ready()` to say. */
  #lastError: Error | undefined
  /** A failure no reconnect mends (a database Redis refused to select): every call fails with it. */
  #fatal: Error | undefined

  constructor(redis: string | RedisClient, timeout: number) {
    this.#timeout = timeout
    this.#owned = typeof redis === 'string'
    if (typeof redis !== 'string') {
      this.client = redis
      this.#bounded = undefined
      return
    }
    const client = openClient(redis, timeout)
    this.#bounded = new BoundedCommands(client, timeout)
    client.on('error', (error: Error) => {
      this.#lastError = error
      if (REFUSED_DATABASE.test(error.message)) this.#fatal = error
    })
    this.client = client
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
    const client = this.client
    if (this.#fatal) return Promise.reject(unavailable(script, this.#fatal))
    const bounded = this.#bounded
    if (bounded === undefined || client.status !== 'ready')
      return this.#whenReady(script, (ready) => this.#send(ready, script, numberOfKeys, keysAndArgs)).then(
        read,
      )
    // The store's own client, connected: no timer of ours, and the reply is read in the same step.
    const answered = (read ?? identity) as (reply: unknown) => T
    const failed = (error: unknown): never => {
      throw unavailable(script, error)
    }
    const numberOfKeysText = String(numberOfKeys)
    try {
      if (this.#sentWhole(client, script))
        return bounded.send('eval', [script.lua, numberOfKeysText, keysAndArgs], answered, failed)
      return bounded.send('evalsha', [script.sha, numberOfKeysText, keysAndArgs], answered, (error) =>
        messageOf(error).startsWith('NOSCRIPT')
          ? bounded.send('eval', [script.lua, numberOfKeysText, keysAndArgs], answered, failed)
          : failed(error),
      )
    } catch (error) {
      return Promise.reject(unavailable(script, error))
    }
  }

  /**
   * `run`, then Redis `WAIT` on the same connection (one pipeline, one round trip): resolves once
   * `replicas` replicas have the script's writes, else fails with STORE_UNAVAILABLE, although
   * the write may have been kept.
   */
  runReplicated<T = unknown>(
    script: RedisScript,
    numberOfKeys: number,
    keysAndArgs: string[],
    replicas: number,
    read?: (reply: unknown) => T,
  ): Promise<T> {
    if (this.#fatal) return Promise.reject(unavailable(script, this.#fatal))
    return this.#whenReady(script, async (client) => {
      // WAIT gives up a little before the store does, so that its answer, not a timer, says why
      const waitMs = Math.max(1, Math.floor(this.#timeout * 0.8))
      const attempt = async (whole: boolean) => {
        const pipeline = client.pipeline()
        if (whole) pipeline.eval(script.lua, numberOfKeys, keysAndArgs)
        else pipeline.evalsha(script.sha, numberOfKeys, keysAndArgs)
        const [ran, waited] = ((await pipeline.wait(replicas, waitMs).exec()) ?? []) as [
          Error | null,
          unknown,
        ][]
        return { ran: ran ?? [new Error('no reply'), null], waited: waited ?? [new Error('no reply'), null] }
      }
      let { ran, waited } = await attempt(false)
      if (ran[0] && messageOf(ran[0]).startsWith('NOSCRIPT')) ({ ran, waited } = await attempt(true))
      if (ran[0]) throw ran[0]
      if (waited[0]) throw waited[0]
      if (Number(waited[1]) < replicas)
        throw new Error(`${waited[1]} of ${replicas} replicas acknowledged the write within ${waitMs} ms`)
      return ran[1]
    }).then(read)
  }

  /** Runs a plain command of `client` within `timeout`, failing as a script does. */
  command<T>(name: string, call: (client: RedisClient) => Promise<T>): Promise<T> {
    const attempt = this.#readyClient().then(call)
    return withTimeout(attempt, this.#timeout).catch((error: unknown) => {
      debug('redis store: %s failed: %s', name, messageOf(error))
      throw storeUnavailable(error)
    })
  }

  /**
   * Connects if not yet, sends PING and checks the database; rejects within `timeout` with
   * STORE_UNAVAILABLE whose message and `cause` carry Redis's own reason.
   */
  async ready(): Promise<void> {
    const client = this.client
    try {
      await withTimeout(
        (async () => {
          if (this.#fatal) throw this.#fatal
          await connection(client)
          await client.ping()
          await checkDatabase(client)
        })(),
        this.#timeout,
      )
    } catch (error) {
      const reason = this.#fatal ?? (isTimeout(error) ? (this.#lastError ?? error) : error)
      throw new SessionError('STORE_UNAVAILABLE', `redis is not ready: ${messageOf(reason)}`, {
        cause: reason,
      })
    }
  }

  /** `send` on a client given to the store, or its own while not connected: bounded by a timer. */
  async #whenReady(script: RedisScript, send: (client: RedisClient) => ScriptReply): ScriptReply {
    let abandoned = false
    const attempt = this.#readyClient().then((client) => {
      if (abandoned) throw new Error('gave up before sending')
      return send(client)
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
    if (this.#sentWhole(client, script)) return client.eval(script.lua, numberOfKeys, keysAndArgs)
    return client.evalsha(script.sha, numberOfKeys, keysAndArgs).catch((error: unknown) => {
      if (!messageOf(error).startsWith('NOSCRIPT')) throw error
      return client.eval(script.lua, numberOfKeys, keysAndArgs)
    })
  }

  /** Whether `script` goes whole on the client's connection, which has not had it yet: noted as sent from now on. */
  #sentWhole(client: RedisClient, script: RedisScript): boolean {
    // a single client's socket is new after each reconnect; a Cluster's nodes answer NOSCRIPT
    const connection: object = 'stream' in client && client.stream ? client.stream : client
    let sent = this.#scriptsSent.get(connection)
    if (!sent) {
      sent = new Set()
      this.#scriptsSent.set(connection, sent)
    }
    if (sent.has(script.sha)) return false
    sent.add(script.sha)
    return true
  }

  async #readyClient(): Promise<RedisClient> {
    const client = this.client
    if (this.#fatal) throw this.#fatal
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
    this.#closing ??= this.#owned ? this.#quit(this.client) : Promise.resolve()
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

/** A failed script, logged for NODE_DEBUG and reported as STORE_UNAVAILABLE. */
function unavailable(script: RedisScript, error: unknown): SessionError {
  debug('redis store: %s failed: %s', script.name, messageOf(error))
  return storeUnavailable(error)
}

class TimeoutError extends Error {}

function isTimeout(error: unknown): boolean {
  return error instanceof TimeoutError
}

/** `promise`, or a rejection once `milliseconds` have passed. */
export function withTimeout<T>(promise: Promise<T>, milliseconds: number, onExpiry = noop): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpiry()
      reject(new TimeoutError(`redis gave no answer within ${milliseconds} ms`))
    }, milliseconds)
  })
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer))
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function noop(): void {}

function identity<T>(value: T): T {
  return value
}
