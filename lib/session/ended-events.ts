import { randomBytes } from 'node:crypto'
import { debug } from '../core/debug'
import {
  type EndedChannel,
  type EndReason,
  hasEndedChannel,
  type SessionEnded,
} from '../stores/ended-channel'
import type { SessionEvent, Store } from '../stores/store'

type Listener = (event: SessionEnded) => void
type StoreEmitter = Store & {
  on(event: string, listener: (event: SessionEvent) => void): unknown
  off(event: string, listener: (event: SessionEvent) => void): unknown
}

/** How long an ended id is remembered, so that one end heard twice (store and channel) is told once. */
const REMEMBER_MS = 60_000

/**
 * Where every `SessionManager` of a process on one store hears that a session ended: from the
 * store's own events (`destroyed`, `expired`, `evicted`), with the reason the operation that
 * ended it announced, and from the store's channel for the ends other processes saw. One hub a
 * store, so two managers on one store hear each end once each and with the same reason.
 */
export class EndedHub {
  readonly #store: Store
  /** Tells this hub's own messages apart on the channel. */
  readonly #origin = randomBytes(9).toString('base64url')
  readonly #listeners = new Set<Listener>()
  readonly #reasons = new Map<string, EndReason[]>()
  readonly #told = new Map<string, number>()
  #channel: EndedChannel | undefined
  readonly #onDestroyed = (event: SessionEvent) => this.#heard(event, this.#announced(event))
  readonly #onExpired = (event: SessionEvent) => this.#heard(event, 'expired')
  readonly #onEvicted = (event: SessionEvent) => this.#heard(event, 'evicted')

  constructor(store: Store) {
    this.#store = store
  }

  /** Calls `listener` for every session that ends from now on; answers the function that stops it. */
  subscribe(listener: Listener): () => Promise<void> {
    if (this.#listeners.size === 0) this.#open()
    this.#listeners.add(listener)
    return async () => {
      if (!this.#listeners.delete(listener) || this.#listeners.size > 0) return
      await this.#shut()
    }
  }

  /**
   * Runs a store operation that ends sessions of `key` (a session id or a uid), so that what the
   * store reports meanwhile carries `reason`. Costs a Map entry while it runs, nothing without listeners.
   */
  async during<T>(reason: EndReason, key: string, operation: () => Promise<T>): Promise<T> {
    if (this.#listeners.size === 0) return operation()
    const reasons = this.#reasons.get(key) ?? []
    reasons.push(reason)
    this.#reasons.set(key, reasons)
    try {
      return await operation()
    } finally {
      reasons.splice(reasons.indexOf(reason), 1)
      if (reasons.length === 0 && this.#reasons.get(key) === reasons) this.#reasons.delete(key)
    }
  }

  /** Tells the listeners of this process that a session ended, as the store would. */
  told(event: SessionEnded): void {
    this.#tell(event, true)
  }

  #announced(event: SessionEvent): EndReason {
    return this.#reasons.get(event.id)?.at(-1) ?? this.#reasons.get(event.uid)?.at(-1) ?? 'revoked'
  }

  #heard(event: SessionEvent, reason: EndReason): void {
    this.#tell({ id: event.id, uid: event.uid, reason }, true)
  }

  #tell(event: SessionEnded, publish: boolean): void {
    if (!this.#firstTime(event.id)) return
    if (publish) this.#channel?.publish(event, this.#origin)
    for (const listener of [...this.#listeners]) listener(event)
  }

  #firstTime(id: string): boolean {
    const now = Date.now()
    if (this.#told.has(id)) return false
    for (const [old, at] of this.#told) {
      if (at > now - REMEMBER_MS) break
      this.#told.delete(old)
    }
    this.#told.set(id, now)
    return true
  }

  #open(): void {
    const store = this.#store as Partial<StoreEmitter>
    if (typeof store.on === 'function') {
      store.on('destroyed', this.#onDestroyed)
      store.on('expired', this.#onExpired)
      store.on('evicted', this.#onEvicted)
    } else debug('the store emits no events: ended is told only for ends through a SessionManager')
    if (hasEndedChannel(this.#store)) {
      const channel = this.#store.openEndedChannel()
      channel.listen((event, origin) => {
        if (origin !== this.#origin) this.#tell(event, false)
      })
      this.#channel = channel
    }
  }

  #shut(): Promise<void> {
    const store = this.#store as Partial<StoreEmitter>
    store.off?.('destroyed', this.#onDestroyed)
    store.off?.('expired', this.#onExpired)
    store.off?.('evicted', this.#onEvicted)
    const channel = this.#channel
    this.#channel = undefined
    return (channel?.close() ?? Promise.resolve()).catch((error: unknown) =>
      debug('ended channel: close failed: %s', String(error)),
    )
  }
}

const hubs = new WeakMap<Store, EndedHub>()

/** The hub of `store`, made at first use. */
export function endedHubOf(store: Store): EndedHub {
  let hub = hubs.get(store)
  if (!hub) {
    hub = new EndedHub(store)
    hubs.set(store, hub)
  }
  return hub
}
