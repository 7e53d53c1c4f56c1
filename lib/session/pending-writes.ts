import { storeUnavailable } from '../core/errors'
import type { JsonValue } from '../core/values'
import { type Awaitable, isPromise, type SessionChange } from '../stores/store'

const UNSET = Symbol('unset')
type DirtyKeys = Map<string, JsonValue | typeof UNSET>
/** The shared empty Map of a session with nothing to store, so reads allocate none. */
const CLEAN: DirtyKeys = new Map()

/**
 * The keys a session changed that the store does not have yet, and the flushes that send them:
 * one `update` a flush, one flush at a time, in order. A flush that fails puts its keys back
 * (unless written since), so a later save sends them again.
 */
export class PendingWrites {
  #dirty = CLEAN
  /** The last flush in flight, which the next one queues behind; `undefined` once all settled. */
  #flushing: Promise<void> | undefined
  #changes = 0

  /**
   * `firstWrite` is called when there is first something to store; `write` sends a change and
   * answers `false` when the session no longer exists, and then `lost` throws the error to report.
   */
  constructor(
    readonly firstWrite: () => void,
    readonly write: (change: SessionChange) => Awaitable<boolean>,
    readonly lost: () => never,
  ) {}

  set(key: string, value: JsonValue): void {
    this.#writable().set(key, value)
  }

  unset(key: string): void {
    this.#writable().set(key, UNSET)
  }

  /** How many sets and unsets there have been: a response knows from it which came before its output. */
  get changes(): number {
    return this.#changes
  }

  /** Whether something is not stored yet: dirty keys, or a flush still in flight. */
  get pending(): boolean {
    return this.#dirty.size > 0 || this.#flushing !== undefined
  }

  /** Forgets the dirty keys: the session ended, or was replaced, so they have nowhere to go. */
  discard(): void {
    this.#dirty = CLEAN
  }

  /** Sends the dirty keys after any flush in flight; rejects with the failure. */
  save(): Promise<void> {
    const previous = this.#flushing
    if (previous === undefined) return settled(() => this.#flush())
    const next = () => this.#flush()
    return this.#track(previous.then(next, next))
  }

  /** Like `save()`, but answers `undefined` when the store took the change synchronously. */
  commit(): Promise<void> | undefined {
    if (this.#flushing) return this.save()
    try {
      return this.#flush()
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /**
   * Sends the dirty keys in one `write`; answers `undefined` when the store answered synchronously,
   * else the write, which stays the flush in flight until it settles.
   */
  #flush(): Promise<void> | undefined {
    if (this.#dirty.size === 0) return
    const taken = this.#dirty
    this.#dirty = CLEAN
    let stored: Awaitable<boolean>
    try {
      stored = this.write(toChange(taken))
    } catch (error) {
      return this.#restore(taken, error)
    }
    if (!isPromise(stored)) return stored ? undefined : this.lost()
    const flushing: Promise<void> = stored.then(
      (done) => {
        this.#settleFlush(flushing)
        if (!done) this.lost()
      },
      (error: unknown) => {
        this.#settleFlush(flushing)
        return this.#restore(taken, error)
      },
    )
    this.#flushing = flushing
    return flushing
  }

  /** A flush failed: its keys are dirty again (unless written since), and the failure is reported. */
  #restore(taken: DirtyKeys, error: unknown): never {
    for (const [key, value] of taken) if (!this.#dirty.has(key)) this.#writable().set(key, value)
    throw storeUnavailable(error)
  }

  /** Keeps a queued save as the flush in flight until it settles: `pending` stays true, later saves queue behind it. */
  #track(flush: Promise<void>): Promise<void> {
    const tracked: Promise<void> = flush.then(
      () => this.#settleFlush(tracked),
      () => this.#settleFlush(tracked),
    )
    this.#flushing = tracked
    return flush
  }

  #settleFlush(flush: Promise<void>): void {
    if (this.#flushing === flush) this.#flushing = undefined
  }

  #writable(): DirtyKeys {
    this.#changes++
    if (this.#dirty === CLEAN) {
      this.#dirty = new Map()
      this.firstWrite()
    }
    return this.#dirty
  }
}

/** Runs `flush` now, as a promise whether it answered, threw or returned one. */
function settled(flush: () => Promise<void> | undefined): Promise<void> {
  try {
    return flush() ?? Promise.resolve()
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The dirty keys as a store change; without unsets, the dirty Map itself is the set. */
function toChange(dirty: DirtyKeys): SessionChange {
  const unset: string[] = []
  for (const [key, value] of dirty) if (value === UNSET) unset.push(key)
  if (unset.length === 0) return { set: dirty as Map<string, JsonValue> }
  const set = new Map<string, JsonValue>()
  for (const [key, value] of dirty) if (value !== UNSET) set.set(key, value)
  return { set, unset }
}
