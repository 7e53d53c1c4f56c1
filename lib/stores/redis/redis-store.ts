import { EventEmitter } from 'node:events'
import type { Cluster, Redis } from 'ioredis'
import { debug } from '../../core/debug'
import { type SessionError, storeUnavailable } from '../../core/errors'
import { deadlineOf } from '../../core/expiry'
import { randomText } from '../../core/random-text'
import type { JsonValue } from '../../core/values'
import type {
  CreateOptions,
  SessionChange,
  SessionRecord,
  SessionSummary,
  StoreEvents,
  UserSessionStore,
} from '../store'
import {
  META,
  type RedisScript,
  type StoreScripts,
  sessionKey,
  storeScripts,
  userIndexKey,
  userTag,
  VALUE_FIELD,
} from './scripts'

/** An ioredis client the store can work through: a single `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster

/** Options of `new RedisStore()`. */
export interface RedisStoreOptions {
  /**
   * Start of every key the store writes, so that several apps can share one Redis. No `{` or `}`:
   * the store places the Cluster hash tags itself.
   * @default 'session'
   */
  prefix?: string
  /**
   * Milliseconds any store call may take before it fails with STORE_UNAVAILABLE (210), whether
   * Redis is down, stopped or slow. The call never waits for a reconnect beyond it.
   * @default 1000
   */
  timeout?: number
}

const DEFAULTS = { prefix: 'session', timeout: 1000 } as const

type ScriptReply = Promise<unknown>

/**
 * Sessions in Redis or a Redis Cluster through ioredis: one hash per session with one field per
 * value, a sorted set per user, and one Lua script (one round trip, one atomic step) for each
 * operation. Redis TTLs and each session's own metadata both enforce idle and absolute expiry.
 * Every call settles within `timeout`, failing with STORE_UNAVAILABLE (210) while Redis is away,
 * and works again once it is back. Given a URL it opens (and `close()` closes) its own client;
 * given a client it never closes it.
 *
 * @example
 * app.use(sessionMiddleware({ store: new RedisStore('redis://localhost:6379', { prefix: 'app' }) }))
 */
export class RedisStore extends EventEmitter<StoreEvents> implements UserSessionStore {
  readonly #prefix: string
  /** The scripts, with the key prefix as Redis sees it (the client's `keyPrefix`, then the store's) written in. */
  readonly #scripts: StoreScripts
  readonly #timeout: number
  /** Whether the store opened the client, and so closes it. */
  readonly #owned: boolean
  /** The client, once ioredis is loaded (at once when one was given). */
  readonly #client: Promise<RedisClient>
  #readyWait: Promise<void> | undefined
  /** The store's own client once it exists, for the fast path of #script. */
  #ownClient: RedisClient | undefined
  #closing: Promise<void> | undefined
  /** The scripts sent whole on each connection, which runs them by SHA-1 from then on. */
  readonly #scriptsSent = new WeakMap<object, Set<string>>()

  constructor(redis: string | RedisClient, options: RedisStoreOptions = {}) {
    super()
    const { prefix = DEFAULTS.prefix, timeout = DEFAULTS.timeout } = options
    if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix))
      throw new TypeError(`option prefix must be a non-empty string without { or }, got ${String(prefix)}`)
    if (!(Number.isFinite(timeout) && timeout > 0))
      throw new TypeError(`option timeout must be a number of milliseconds > 0, got ${timeout}`)
    this.#prefix = prefix
    this.#timeout = timeout
    this.#owned = typeof redis === 'string'
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis))
        throw new TypeError(`a Redis URL must start with redis:// or rediss://, got ${redis}`)
      this.#client = openClient(redis, timeout)
      this.#scripts = storeScripts(prefix, prefix)
    } else {
      if (typeof redis?.evalsha !== 'function')
        throw new TypeError('RedisStore takes a Redis URL or an ioredis Redis or Cluster client')
      this.#client = Promise.resolve(redis)
      this.#scripts = storeScripts((redis.options.keyPrefix ?? '') + prefix, prefix)
    }
    this.#client.then(
      (client) => {
        if (this.#owned) this.#ownClient = client
      },
      (error: unknown) => debug('redis store: no client: %s', messageOf(error)),
    )
  }

  /**
   * An id whose first characters are the hash tag of `uid`'s keys (a hash, never the uid), then
   * 128 random bits: a session and its user's index then share a Cluster slot.
   */
  createId(uid: string): string {
    return userTag(this.#prefix, uid) + randomText(16)
  }

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<void> {
    const fields: string[] = [
      META.uid,
      record.uid,
      META.tokenHash,
      record.tokenHash,
      META.createdAt,
      String(record.createdAt),
      META.lastActiveAt,
      String(record.lastActiveAt),
      META.maxAge,
      String(record.maxAge),
      META.lifetime,
      String(record.lifetime),
    ]
    if (record.previousTokenHash)
      fields.push(
        META.previousTokenHash,
        record.previousTokenHash,
        META.previousTokenExpiresAt,
        String(record.previousTokenExpiresAt ?? 0),
      )
    const marker = record.ended === 'replaced'
    if (marker) fields.push(META.ended, 'replaced')
    else for (const [key, value] of record.values) fields.push(VALUE_FIELD + key, JSON.stringify(value))
    const ended = await this.#script(this.#scripts.create, [
      sessionKey(this.#prefix, record.id),
      userIndexKey(this.#prefix, record.uid),
      String(Date.now()),
      record.uid,
      String(record.createdAt),
      String(record.lastActiveAt),
      String(record.maxAge),
      String(record.lifetime),
      options.replaceOthers ? '1' : '0',
      marker ? '1' : '0',
      ...fields,
    ])
    for (const id of ended as string[]) this.emit('destroyed', { id, uid: record.uid })
    this.emit('created', { id: record.id, uid: record.uid })
  }

  get(id: string): Promise<SessionRecord | undefined> {
    const args = [sessionKey(this.#prefix, id), String(Date.now())]
    return this.#script(this.#scripts.get, args, (reply) => {
      if (reply === null) return undefined
      const record = toRecord(id, reply as GetReply)
      if (record.ended === 'expired') this.emit('expired', { id, uid: record.uid })
      return record
    })
  }

  update(id: string, change: SessionChange): Promise<boolean> {
    const unset = change.unset ?? []
    const set = change.set ?? new Map<string, JsonValue>()
    const args = [sessionKey(this.#prefix, id), String(Date.now()), String(unset.length), String(set.size)]
    for (const key of unset) args.push(VALUE_FIELD + key)
    for (const [key, value] of set) args.push(VALUE_FIELD + key, JSON.stringify(value))
    const token = change.token
    if (token)
      args.push(token.tokenHash, token.previousTokenHash ?? '', String(token.previousTokenExpiresAt ?? 0))
    return this.#script(this.#scripts.update, args, (reply) => {
      if (reply === null) return false
      if (typeof reply === 'string') {
        this.emit('expired', { id, uid: reply })
        return false
      }
      return true
    })
  }

  async delete(id: string): Promise<void> {
    const uid = (await this.#script(this.#scripts.delete, [
      sessionKey(this.#prefix, id),
      String(Date.now()),
    ])) as string | null
    if (uid !== null) this.emit('destroyed', { id, uid })
  }

  async list(uid: string): Promise<SessionSummary[]> {
    const [live, expired] = (await this.#script(this.#scripts.list, [
      userIndexKey(this.#prefix, uid),
      String(Date.now()),
      uid,
    ])) as [string[], string[]]
    for (const id of expired) this.emit('expired', { id, uid })
    const summaries: SessionSummary[] = []
    for (let index = 0; index + 4 < live.length; index += 5) {
      const [createdAt, lastActiveAt, maxAge, lifetime] = live.slice(index + 1, index + 5).map(Number) as [
        number,
        number,
        number,
        number,
      ]
      const expiresAt = deadlineOf({ createdAt, lastActiveAt, maxAge, lifetime })
      summaries.push({ id: live[index]!, uid, createdAt, lastActiveAt, expiresAt })
    }
    return summaries
  }

  async deleteAll(uid: string, options: { except?: string; replaced?: boolean } = {}): Promise<number> {
    const ended = (await this.#script(this.#scripts.deleteAll, [
      userIndexKey(this.#prefix, uid),
      String(Date.now()),
      uid,
      options.except ?? '',
      options.replaced ? '1' : '0',
    ])) as string[]
    for (const id of ended) this.emit('destroyed', { id, uid })
    return ended.length
  }

  /** Closes the client the store opened from a URL; a client it was given stays open. Safe to call twice. */
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

  /**
   * Runs one script (its keys, then now in epoch ms, then its own arguments), failing with STORE_UNAVAILABLE once `timeout` has passed. Nothing is sent
   * unless the client is connected, so no call sits in ioredis' offline queue to run long after
   * its request has given up.
   */
  #script<T = unknown>(script: RedisScript, keysAndArgs: string[], read?: (reply: unknown) => T): Promise<T> {
    const own = this.#ownClient
    if (own?.status !== 'ready') return this.#scriptWhenReady(script, keysAndArgs).then(read)
    // The store's own client bounds every command itself (commandTimeout, no offline queue),
    // so the common case needs no timer of ours, and the reply is read in the same step.
    const failed = (error: unknown): never => {
      throw unavailable(script, error)
    }
    try {
      return this.#send(own, script, keysAndArgs).then(read, failed) as Promise<T>
    } catch (error) {
      return Promise.reject(unavailable(script, error))
    }
  }

  /** `#script` on a client given to the store, or its own while not connected: bounded by a timer. */
  async #scriptWhenReady(script: RedisScript, keysAndArgs: string[]): ScriptReply {
    let abandoned = false
    const attempt = this.#readyClient().then((client) => {
      if (abandoned) throw new Error('gave up before sending')
      return this.#send(client, script, keysAndArgs)
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
  #send(client: RedisClient, script: RedisScript, keysAndArgs: string[]): ScriptReply {
    // a single client's socket is new after each reconnect; a Cluster's nodes answer NOSCRIPT
    const connection: object = 'stream' in client && client.stream ? client.stream : client
    let sent = this.#scriptsSent.get(connection)
    if (!sent) {
      sent = new Set()
      this.#scriptsSent.set(connection, sent)
    }
    if (!sent.has(script.sha)) {
      sent.add(script.sha)
      return client.eval(script.lua, script.numberOfKeys, keysAndArgs)
    }
    return client.evalsha(script.sha, script.numberOfKeys, keysAndArgs).catch((error: unknown) => {
      if (!messageOf(error).startsWith('NOSCRIPT')) throw error
      return client.eval(script.lua, script.numberOfKeys, keysAndArgs)
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

/** The get script's reply: state, metadata by position (null where absent), then key/JSON pairs. */
type GetReply = [
  state: 'live' | 'ended' | 'expired',
  uid: string,
  tokenHash: string | null,
  createdAt: number | null,
  lastActiveAt: number | null,
  maxAge: number | null,
  lifetime: number | null,
  previousTokenHash: string | null,
  previousTokenExpiresAt: number | null,
  ended: string | null,
  ...values: string[],
]

/** Where the get script's reply starts listing values. */
const FIRST_VALUE = 10

function toRecord(id: string, reply: GetReply): SessionRecord {
  const [state, uid, tokenHash, createdAt, lastActiveAt, maxAge, lifetime, previousTokenHash] = reply
  const values = new Map<string, JsonValue>()
  for (let index = FIRST_VALUE; index + 1 < reply.length; index += 2)
    values.set(reply[index] as string, JSON.parse(reply[index + 1] as string))
  const record: SessionRecord = {
    id,
    uid,
    tokenHash: tokenHash ?? '',
    createdAt: numberOf(createdAt),
    lastActiveAt: numberOf(lastActiveAt),
    maxAge: numberOf(maxAge),
    lifetime: numberOf(lifetime),
    values,
  }
  if (previousTokenHash !== null) {
    record.previousTokenHash = previousTokenHash
    record.previousTokenExpiresAt = numberOf(reply[8])
  }
  if (state === 'expired') record.ended = 'expired'
  else if (reply[9] === 'replaced') record.ended = 'replaced'
  return record
}

/** A metadata number; `NaN` when the field is missing, as from a damaged hash. */
function numberOf(value: number | null | undefined): number {
  return value ?? Number.NaN
}

/** A failed store call, logged for NODE_DEBUG and reported as STORE_UNAVAILABLE. */
function unavailable(script: RedisScript, error: unknown): SessionError {
  debug('redis store: %s failed: %s', script.name, messageOf(error))
  return storeUnavailable(error)
}

function withTimeout<T>(promise: Promise<T>, milliseconds: number, onExpiry = noop): Promise<T> {
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
