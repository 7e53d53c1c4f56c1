import { EventEmitter } from 'node:events'
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
import { RedisEndedChannel } from './ended-channel'
import { META, sessionKey, userIndexKey, userTag, VALUE_FIELD } from './key-layout'
import { type GetReply, toRecord } from './records'
import { type RedisClient, ScriptRunner } from './script-runner'
import { type StoreScripts, storeScripts } from './scripts'

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
  readonly #runner: ScriptRunner
  /** What the `ended` channel opens its own connections from: the URL, or the client to duplicate. */
  readonly #source: string | RedisClient
  readonly #keyPrefix: string

  constructor(redis: string | RedisClient, options: RedisStoreOptions = {}) {
    super()
    const { prefix = DEFAULTS.prefix, timeout = DEFAULTS.timeout } = options
    if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix))
      throw new TypeError(`option prefix must be a non-empty string without { or }, got ${String(prefix)}`)
    if (!(Number.isFinite(timeout) && timeout > 0))
      throw new TypeError(`option timeout must be a number of milliseconds > 0, got ${timeout}`)
    this.#prefix = prefix
    if (typeof redis === 'string') {
      if (!/^rediss?:\/\//.test(redis))
        throw new TypeError(`a Redis URL must start with redis:// or rediss://, got ${redis}`)
      this.#scripts = storeScripts(prefix, prefix)
    } else {
      if (typeof redis?.evalsha !== 'function')
        throw new TypeError('RedisStore takes a Redis URL or an ioredis Redis or Cluster client')
      this.#scripts = storeScripts((redis.options.keyPrefix ?? '') + prefix, prefix)
    }
    this.#runner = new ScriptRunner(redis, timeout)
    this.#source = redis
    this.#keyPrefix = (typeof redis === 'string' ? '' : (redis.options.keyPrefix ?? '')) + prefix
  }

  /** Opens the channel that carries `ended` to every process on this Redis (see ended-channel.ts). */
  openEndedChannel(): RedisEndedChannel {
    return new RedisEndedChannel(this.#source, this.#keyPrefix)
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
    const ended = await this.#runner.run(this.#scripts.create, [
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
    return this.#runner.run(this.#scripts.get, args, (reply) => {
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
    if (token) args.push(token.tokenHash, token.replaces, String(token.previousTokenExpiresAt ?? ''))
    return this.#runner.run(this.#scripts.update, args, (reply) => {
      if (reply === null) return false
      if (typeof reply === 'string') {
        this.emit('expired', { id, uid: reply })
        return false
      }
      return true
    })
  }

  async delete(id: string): Promise<void> {
    const uid = (await this.#runner.run(this.#scripts.delete, [
      sessionKey(this.#prefix, id),
      String(Date.now()),
    ])) as string | null
    if (uid !== null) this.emit('destroyed', { id, uid })
  }

  async list(uid: string): Promise<SessionSummary[]> {
    const [live, expired] = (await this.#runner.run(this.#scripts.list, [
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
    const ended = (await this.#runner.run(this.#scripts.deleteAll, [
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
    return this.#runner.close()
  }
}
