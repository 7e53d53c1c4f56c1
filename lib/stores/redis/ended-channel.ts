import type { Redis } from 'ioredis'
import { debug } from '../../core/debug'
import type { EndedChannel, EndReason, SessionEnded } from '../ended-channel'
import type { RedisClient } from './redis-client'

type Listener = (event: SessionEnded, origin: string | undefined) => void
const REASONS: readonly string[] = ['logout', 'revoked', 'replaced', 'expired', 'evicted']

/**
 * `ended` between processes on one Redis: a pub/sub channel `<prefix>:ended` with a subscriber
 * connection and a publisher connection of its own (the store's client never blocks on it), both
 * reconnecting and resubscribing by themselves. Where the server has keyspace notifications on
 * for expiries (`notify-keyspace-events` with `E` and `x`, which this never sets), an idle
 * session whose key Redis expires is told as `expired` with `uid` empty; elsewhere the next
 * `touch()` of it tells it. On a Cluster those notifications are per node, and the subscriber
 * sits on the one node ioredis picked: only that node's expiries are heard.
 */
export class RedisEndedChannel implements EndedChannel {
  readonly #channel: string
  readonly #sessionKey: RegExp
  readonly #connections: Promise<[Redis, Redis]>
  readonly #listeners: Listener[] = []
  #closing: Promise<void> | undefined

  /** `keyPrefix`: the store's prefix as Redis sees it (the client's `keyPrefix`, then the store's). */
  constructor(source: string | RedisClient, keyPrefix: string) {
    this.#channel = `${keyPrefix}:ended`
    this.#sessionKey = new RegExp(`^${escapeRegExp(keyPrefix)}:\\{[^}]*\\}:s:(.+)$`)
    this.#connections = open(source).then(async (connections) => {
      const [subscriber] = connections
      subscriber.on('message', (channel: string, message: string) => this.#received(channel, message))
      await subscriber.subscribe(this.#channel, await this.#expiryChannel(connections[1]))
      return connections
    })
    this.#connections.catch((error: unknown) => debug('ended channel: %s', String(error)))
  }

  publish(event: SessionEnded, origin: string): void {
    const message = JSON.stringify([event.id, event.uid, event.reason, origin])
    this.#connections
      .then(([, publisher]) => publisher.publish(this.#channel, message))
      .catch((error: unknown) => debug('ended channel: publish failed: %s', String(error)))
  }

  listen(listener: Listener): void {
    this.#listeners.push(listener)
  }

  /** Settles once both connections are subscribed: for tests and for a clean start. */
  async ready(): Promise<void> {
    await this.#connections
  }

  close(): Promise<void> {
    this.#closing ??= this.#connections.then(
      (connections) =>
        Promise.all(
          connections.map((connection) => connection.quit().catch(() => connection.disconnect())),
        ).then(() => undefined),
      () => undefined,
    )
    return this.#closing
  }

  /** The server's expiry notifications for this database when it sends them, else the channel again. */
  async #expiryChannel(publisher: Redis): Promise<string> {
    try {
      const [, flags = ''] = (await publisher.config('GET', 'notify-keyspace-events')) as string[]
      if (flags.includes('E') && (flags.includes('x') || flags.includes('A')))
        return `__keyevent@${publisher.options.db ?? 0}__:expired`
    } catch (error) {
      debug('ended channel: no CONFIG GET, so no keyspace notifications: %s', String(error))
    }
    return this.#channel
  }

  #received(channel: string, message: string): void {
    let event: SessionEnded
    let origin: string | undefined
    if (channel === this.#channel) {
      const parsed = safeParse(message)
      if (!parsed) return
      ;[event, origin] = parsed
    } else {
      const id = this.#sessionKey.exec(message)?.[1]
      if (id === undefined) return
      event = { id, uid: '', reason: 'expired' }
    }
    for (const listener of this.#listeners) listener(event, origin)
  }
}

function safeParse(message: string): [SessionEnded, string] | undefined {
  try {
    const [id, uid, reason, origin] = JSON.parse(message) as unknown[]
    if (typeof id !== 'string' || typeof uid !== 'string' || typeof origin !== 'string') return undefined
    if (!REASONS.includes(reason as string)) return undefined
    return [{ id, uid, reason: reason as EndReason }, origin]
  } catch {
    return undefined
  }
}

/** A subscriber and a publisher: new ones from a URL, duplicates of a given client. */
async function open(source: string | RedisClient): Promise<[Redis, Redis]> {
  const make = async (): Promise<Redis> => {
    if (typeof source !== 'string') return source.duplicate() as Redis
    const { Redis } = await import('ioredis')
    return new Redis(source, { retryStrategy: (attempt) => Math.min(attempt * 100, 1000) })
  }
  const connections = await Promise.all([make(), make()])
  for (const connection of connections)
    connection.on('error', (error: Error) => debug('ended channel: %s', error.message))
  return connections
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
