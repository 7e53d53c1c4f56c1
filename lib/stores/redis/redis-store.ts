import { EventEmitter } from 'node:events'
import { debug } from '../../core/debug'
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
import { handleOf, indexKey, retiredKey, sessionKey, userHandle, VALUE_FIELD } from './key-layout'
import { type GetReply, hashFields, toRecord, toSummaries } from './records'
import { evictionPolicies, type RedisClient } from './redis-client'
import { checkStoreOptions, type RedisStoreOptions } from './redis-options'
import { ScriptRunner, withTimeout } from './script-runner'
import { isIndexReply, type RedisScript, STORE_SCRIPTS as SCRIPTS } from './scripts'

/** Something in how Redis is set up that the store works with, but that you should change. */
export interface RedisStoreWarning {
  /** `EVICTION_POLICY`: `maxmemory-policy` lets Redis evict session keys, logging users out. */
  code: 'EVICTION_POLICY'
  /** The server's `maxmemory-policy`. */
  policy: string
  message: string
}

/** The events of a `RedisStore`: the store events, and `warning` for how Redis is set up. */
export interface RedisStoreEvents extends StoreEvents {
  warning: [RedisStoreWarning]
}

/**
 * Sessions in Redis 7 or a Redis 7 Cluster through ioredis: one hash per session with one field
 * per value, a sorted set per user that admits its sessions, and one Lua script (one atomic step)
 * for each operation, each O(log n) or better in the user's session count; a `deleteAll` goes in
 * chunks. Deadlines follow Redis's clock. Every call settles within `timeout`, failing with
 * STORE_UNAVAILABLE (210) while Redis is away, and works again once it is back. Given a URL it
 * opens (and `close()` closes) its own client; given a client it never closes it.
 *
 * @example
 * const store = new RedisStore('redis://localhost:6379', { prefix: 'app' })
 * await store.ready()
 * app.use(sessionMiddleware({ store }))
 */
export class RedisStore extends EventEmitter<RedisStoreEvents> implements UserSessionStore {
  readonly #prefix: string
  readonly #timeout: number
  readonly #maxSessionsPerUser: number
  readonly #waitForReplicas: number
  readonly #runner: ScriptRunner
  /** Opens the `ended` channel's own connections, from the URL or by duplicating the client. */
  readonly #openChannel: () => RedisEndedChannel
  #policyCheck: Promise<void> | undefined

  /** Throws a TypeError for a bad option, and an Error saying what to install when a URL is given without ioredis. */
  constructor(redis: string | RedisClient, options: RedisStoreOptions = {}) {
    super()
    const { prefix, timeout, maxSessionsPerUser, waitForReplicas } = checkStoreOptions(redis, options)
    this.#prefix = prefix
    this.#timeout = timeout
    this.#maxSessionsPerUser = maxSessionsPerUser
    this.#waitForReplicas = waitForReplicas
    this.#runner = new ScriptRunner(redis, timeout)
    const keyPrefix = (typeof redis === 'string' ? '' : (redis.options.keyPrefix ?? '')) + prefix
    this.#openChannel = () => new RedisEndedChannel(redis, keyPrefix)
    const client = this.#runner.client // the eviction policy is read once, at the first connection or in ready()
    if (client.status === 'ready') void this.#checkPolicy()
    else if (typeof redis === 'string') client.once('ready', () => void this.#checkPolicy())
  }

  /** Opens the channel that carries `ended` to every process on this Redis (see ended-channel.ts). */
  openEndedChannel(): RedisEndedChannel {
    return this.#openChannel()
  }

  /**
   * Connects (if not yet), sends PING and reads `maxmemory-policy` (emitting `warning` when it can
   * evict session keys): await it at start-up. Rejects within `timeout` with STORE_UNAVAILABLE,
   * whose message and `cause` give Redis's own reason (NOAUTH, a refused connection, a database
   * Redis refused to select).
   */
  async ready(): Promise<void> {
    await this.#runner.ready()
    await withTimeout(this.#checkPolicy(), this.#timeout).catch((error: unknown) =>
      debug('redis store: maxmemory-policy unknown: %s', error instanceof Error ? error.message : error),
    )
  }

  /**
   * An id whose first characters are the handle of `uid`'s keys (a hash, never the uid), then
   * 128 random bits: the store finds the uid's index from the id alone, in the same Cluster slot.
   */
  createId(uid: string): string {
    return userHandle(this.#prefix, uid) + randomText(16)
  }

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<void> {
    const prefix = this.#prefix
    const { id, uid } = record
    // an anonymous session has no index: its hash alone admits it
    const handle = uid === undefined ? undefined : userHandle(prefix, uid)
    const keys = [sessionKey(prefix, id)]
    if (handle !== undefined) keys.push(indexKey(prefix, handle))
    if (handle !== undefined && options.replaceOthers) keys.push(retiredKey(prefix, handle, randomText(9)))
    const { createdAt, lastActiveAt, maxAge, lifetime } = record
    const args = [...keys, id, String(this.#maxSessionsPerUser), record.ended === 'replaced' ? '1' : '0']
    args.push(String(createdAt), String(lastActiveAt), String(maxAge), String(lifetime))
    args.push(...hashFields(record, handleOf(id) === handle ? undefined : handle))
    const reply = await this.#call(SCRIPTS.create, keys.length, args, true)
    const [evicted, moved] = reply as [string[], string[]]
    if (uid !== undefined && evicted.length > 0) this.#evicted(uid, evicted)
    if (uid !== undefined && keys[2]) await this.#endSessions(keys[2], uid, true, moved)
    this.emit('created', { id, uid: uid ?? '' })
  }

  get(id: string): Promise<SessionRecord | undefined> {
    return this.#onSession(SCRIPTS.get, id, [], (reply) => {
      if (!Array.isArray(reply) || isIndexReply(reply)) return undefined
      const record = toRecord(id, reply as GetReply)
      if (record.ended === 'expired') this.emit('expired', { id, uid: record.uid ?? '' })
      return record
    })
  }

  update(id: string, change: SessionChange): Promise<boolean> {
    const unset = change.unset ?? []
    const set = change.set ?? new Map<string, JsonValue>()
    const args = [String(unset.length), String(set.size)]
    for (const key of unset) args.push(VALUE_FIELD + key)
    for (const [key, value] of set) args.push(VALUE_FIELD + key, JSON.stringify(value))
    const token = change.token
    if (token) args.push(token.tokenHash, token.replaces, String(token.previousTokenExpiresAt ?? ''))
    return this.#onSession(SCRIPTS.update, id, args, (reply) => {
      if (typeof reply === 'string') this.emit('expired', { id, uid: reply })
      return reply === 1
    })
  }

  async delete(id: string): Promise<void> {
    const uid = await this.#onSession(SCRIPTS.delete, id, [], (reply) =>
      typeof reply === 'string' ? reply : undefined,
    )
    if (uid !== undefined) this.emit('destroyed', { id, uid })
  }

  /** The uid's live sessions, oldest first, read a chunk at a time; entries of ended sessions are pruned on the way. */
  async list(uid: string): Promise<SessionSummary[]> {
    const prefix = this.#prefix
    const index = indexKey(prefix, userHandle(prefix, uid))
    const summaries = new Map<string, SessionSummary>()
    let page: string[] = []
    let rank = 0
    do {
      const keys = [index, ...page.map((id) => sessionKey(prefix, id))]
      const reply = await this.#runner.run(SCRIPTS.list, keys.length, [...keys, uid, String(rank), ...page])
      const [live, expired, next, nextRank] = reply as [string[], string[], string[], number]
      for (const id of expired) this.emit('expired', { id, uid })
      for (const summary of toSummaries(uid, live)) summaries.set(summary.id, summary)
      page = next
      rank = nextRank
    } while (page.length > 0)
    return [...summaries.values()].sort((a, b) => a.createdAt - b.createdAt)
  }

  /**
   * Ends the uid's sessions but `except`: all of them unadmitted in one O(1) step, then deleted
   * (or made markers, `replaced`) in chunks that each hold Redis about a millisecond.
   */
  async deleteAll(uid: string, options: { except?: string; replaced?: boolean } = {}): Promise<number> {
    const prefix = this.#prefix
    const handle = userHandle(prefix, uid)
    const keys = [indexKey(prefix, handle), retiredKey(prefix, handle, randomText(9))]
    const first = (await this.#call(SCRIPTS.deleteAll, 2, [...keys, options.except ?? ''], true)) as string[]
    return this.#endSessions(keys[1]!, uid, options.replaced ?? false, first)
  }

  /** Closes the client the store opened from a URL; a client it was given stays open. Safe to call twice. */
  close(): Promise<void> {
    return this.#runner.close()
  }

  /**
   * Runs a script of one session on its keys (its hash, and the index its id names); for an id
   * made elsewhere, whose session names its index itself, once more with that index.
   */
  #onSession<T>(script: RedisScript, id: string, args: string[], read: (reply: unknown) => T): Promise<T> {
    const prefix = this.#prefix
    const key = sessionKey(prefix, id)
    const handle = handleOf(id)
    const writes = script !== SCRIPTS.get
    const first =
      handle === undefined
        ? this.#call(script, 1, [key, id, '', ...args], writes)
        : this.#call(script, 2, [key, indexKey(prefix, handle), id, handle, ...args], writes)
    return first.then((reply) =>
      isIndexReply(reply)
        ? this.#call(script, 2, [key, indexKey(prefix, reply[1]), id, reply[1], ...args], writes).then(read)
        : read(reply),
    )
  }

  /** Runs a script; one that `writes` waits for `waitForReplicas` replicas to have its writes. */
  #call(script: RedisScript, numberOfKeys: number, keysAndArgs: string[], writes: boolean): Promise<unknown> {
    return writes && this.#waitForReplicas > 0
      ? this.#runner.runReplicated(script, numberOfKeys, keysAndArgs, this.#waitForReplicas)
      : this.#runner.run(script, numberOfKeys, keysAndArgs)
  }

  /** Ends the sessions of a moved index chunk by chunk, from `chunk` on; resolves how many were live. */
  async #endSessions(moved: string, uid: string, replaced: boolean, chunk: string[]): Promise<number> {
    let ended = 0
    while (chunk.length > 0) {
      const keys = [moved, ...chunk.map((id) => sessionKey(this.#prefix, id))]
      const args = [...keys, uid, replaced ? '1' : '0', ...chunk]
      const [done, next] = (await this.#call(SCRIPTS.endSessions, keys.length, args, true)) as [
        string[],
        string[],
      ]
      for (const id of done) this.emit('destroyed', { id, uid })
      ended += done.length
      chunk = next
    }
    return ended
  }

  /** Deletes the hashes of sessions the per-user limit took out of the index (which ended them). */
  #evicted(uid: string, ids: string[]): void {
    for (const id of ids) this.emit('evicted', { id, uid, reason: 'per-user limit' })
    const keys = ids.map((id) => sessionKey(this.#prefix, id))
    // best effort: an unadmitted hash is never served, and its TTL removes it anyway
    this.#runner.command('unlink', (client) => client.unlink(...keys)).catch(() => {})
  }

  /** Reads `maxmemory-policy` once, and warns when it lets Redis evict session keys. */
  #checkPolicy(): Promise<void> {
    this.#policyCheck ??= evictionPolicies(this.#runner.client).then((policies) => {
      for (const policy of new Set(policies)) {
        if (policy === 'noeviction') continue
        const message = `maxmemory-policy is ${policy}: Redis may evict session keys, logging users out; set it to noeviction`
        debug('redis store: %s', message)
        this.emit('warning', { code: 'EVICTION_POLICY', policy, message })
      }
    }, noop)
    return this.#policyCheck
  }
}

function noop(): void {}
