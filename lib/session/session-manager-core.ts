import { EventEmitter } from 'node:events'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import { TokenSigner, VerifiedTokens } from '../core/token'
import type { SessionValues } from '../core/values'
import type { SessionEnded } from '../stores/ended-channel'
import type { Store } from '../stores/store'
import { DetachedContext } from './detached-context'
import { endedHubOf } from './ended-events'
import { ManagedSession } from './managed-session'
import { checkSeconds } from './option-checks'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options'
import type { Session } from './session'
import { type SessionInfo, toSessionInfo } from './session-info'
import { storeCall, userStoreOf } from './store-calls'
import { TouchThrottle } from './touch-throttle'
import { endAllSessions } from './user-sessions'
import { verdictOn } from './verdict'

/** Options of `new SessionManager()`: those of `sessionMiddleware()`, and how often `touch()` writes. */
export interface SessionManagerOptions extends SessionOptions {
  /**
   * Least seconds between two store writes of one session's `touch()`; calls in between cost
   * nothing. At most half of `maxAge`, so steady traffic always slides the expiry in time.
   * @default 60, or half of maxAge when that is less
   */
  touchInterval?: number
}

/** A write that a session outside a response stored by itself, and that failed. */
export interface SaveFailure {
  id: string | undefined
  uid: string | undefined
  /** STORE_UNAVAILABLE (210), or SESSION_NOT_EXIST (205) when the session ended meanwhile. */
  error: SessionError
}

/** The events of a `SessionManager`. */
export interface SessionManagerEvents {
  /** A session ended, here or in another process on the same store. */
  ended: [SessionEnded]
  /** A write stored at the end of a tick failed; `await session.save()` would have rejected with it. */
  saveFailed: [SaveFailure]
}

const DEFAULT_TOUCH_INTERVAL = 60

/**
 * What a `SessionManager` is without HTTP: verifies tokens and creates sessions wherever they
 * arrive (sockets, jobs), stores what those sessions write without a response, throttles their
 * `touch()`, and tells `ended` for every session of its store that ends, in any process.
 */
export class SessionManagerCore<T extends object = SessionValues> extends EventEmitter<SessionManagerEvents> {
  /** The resolved options, shared with `middleware()`. */
  readonly options: ResolvedOptions
  readonly signer: TokenSigner
  readonly touchInterval: number
  readonly #tokens: VerifiedTokens
  readonly #throttle: TouchThrottle
  readonly #saving = new Set<Promise<void>>()
  /** Sessions whose automatic write just failed; their keys stay dirty for the next `save()`. */
  readonly #failed = new WeakSet<Session>()
  #unsubscribe: (() => Promise<void>) | undefined

  constructor(options: SessionManagerOptions = {}) {
    super()
    const { touchInterval, ...sessionOptions } = options ?? {}
    this.options = resolveOptions(sessionOptions)
    this.signer = new TokenSigner(this.options.secret)
    this.#tokens = new VerifiedTokens(this.signer)
    const maxAge = this.options.maxAge
    const longest = maxAge > 0 ? Math.floor(maxAge / 2) : Infinity
    this.touchInterval =
      checkSeconds('touchInterval', touchInterval) ?? Math.min(DEFAULT_TOUCH_INTERVAL, longest)
    if (this.touchInterval > longest)
      throw new TypeError(
        `option touchInterval must be at most half of maxAge (${longest}), got ${this.touchInterval}`,
      )
    this.#throttle = new TouchThrottle(this.touchInterval)
    // every manager listens, and so publishes what ends through it to the other processes
    this.#unsubscribe = endedHubOf(this.options.store).subscribe((ended) => {
      this.#throttle.forget(ended.id)
      this.emit('ended', ended)
    })
  }

  get store(): Store {
    return this.options.store
  }

  /**
   * The session a token names, read from the store once, as the middleware reads it: `exists`
   * false and `error` set when the token is refused (TOKEN_EMPTY, SESSION_ILLEGAL before any
   * store read, SESSION_NOT_EXIST, SESSION_EXPIRED, SESSION_REPLACED). Rejects only with
   * STORE_UNAVAILABLE (210).
   */
  async verify(token: string | undefined): Promise<ManagedSession<T>> {
    return this.verifyToken(token, true)
  }

  /** @internal `verify`, for a token that may or may not travel outside the cookie. */
  async verifyToken(token: string | undefined, exposes: boolean): Promise<ManagedSession<T>> {
    if (typeof token !== 'string' || token === '')
      return this.refused(new SessionError('TOKEN_EMPTY', 'no session token was presented'))
    const parts = this.#tokens.verify(token)
    if (!parts)
      return this.refused(new SessionError('SESSION_ILLEGAL', 'the session token is malformed or forged'))
    const store = this.options.store
    const record = await storeCall(() => store.get(parts.sessionId))
    const verdict = verdictOn(record, parts)
    if (verdict instanceof SessionError || !record) {
      if (record?.ended === 'replaced')
        this.#ended({ id: record.id, uid: record.uid ?? '', reason: 'replaced' })
      return this.refused(verdict instanceof SessionError ? verdict : undefined)
    }
    this.#throttle.slid(record.id, Date.now())
    return new ManagedSession<T>(this.#toucher, this.#context(exposes), record, token, verdict.graceOnly)
  }

  /**
   * Creates a session of `uid` without a request (seed `New`): a new id and token, the manager's
   * expiry policy, and with `singleSession` the uid's other sessions replaced. Pass the token on
   * to the client yourself.
   */
  async create(uid: string, values: Partial<T> = {}): Promise<{ session: ManagedSession<T>; token: string }> {
    const session = new ManagedSession<T>(this.#toucher, this.#context(true))
    const token = await session.create(uid, values)
    return { session, token }
  }

  /** Ends every session of `uid` (a password reset, an account closed); resolves how many ended. */
  destroyAll(uid: string): Promise<number> {
    return endAllSessions(this.options.store, uid)
  }

  /** The live sessions of `uid`, oldest first, without tokens; `current` is always false here. */
  async list(uid: string): Promise<SessionInfo[]> {
    const store = userStoreOf(this.options.store)
    const summaries = await storeCall(() => store.list(uid))
    return summaries.map((summary) => toSessionInfo(summary, ''))
  }

  /**
   * Waits for the writes under way, stops telling `ended` and closes the channel the manager
   * opened on the store. The store stays open: it is the app's to close.
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#saving])
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    await unsubscribe?.()
  }

  /** @internal How many sessions the `touch()` throttle holds: those slid within one `touchInterval`. */
  get throttledSessions(): number {
    return this.#throttle.size
  }

  /** @internal A session with nothing in it but why its token was refused. */
  refused(error: SessionError | undefined): ManagedSession<T> {
    const session = new ManagedSession<T>(this.#toucher, this.#context(false), undefined, '')
    session.error = error
    return session
  }

  #context(exposes: boolean): DetachedContext {
    return new DetachedContext(this.options, this.signer, this.#autosave, exposes)
  }

  /** Stores what a session wrote in the tick that just ended; a failure is an event, never lost. */
  readonly #autosave = (session: Session): void => {
    // a failed write puts its keys back, which asks for a save again: that one is not retried in a loop
    if (this.#failed.delete(session)) return
    const saving = session.beforeOutput()
    if (!saving) return
    const tracked = saving.catch((error: unknown) => {
      this.#failed.add(session)
      const failure = { id: session.id, uid: session.uid, error: storeUnavailable(error) }
      if (this.listenerCount('saveFailed') > 0) this.emit('saveFailed', failure)
      else
        process.emitWarning(
          `cosgo-session: a session write failed: ${failure.error.message}`,
          'SessionWarning',
        )
    })
    this.#saving.add(tracked)
    tracked.then(() => this.#saving.delete(tracked))
  }

  readonly #toucher = async (session: Session): Promise<boolean> => {
    const id = session.id
    if (id === undefined) return false
    const now = Date.now()
    if (this.#throttle.isRecent(id, now)) return true
    this.#throttle.slid(id, now)
    const record = await storeCall(() => this.options.store.get(id))
    if (record !== undefined && record.ended === undefined) return true
    debug('touch: session %s has ended', id)
    this.#throttle.forget(id)
    const reason = record?.ended === 'replaced' ? 'replaced' : 'expired'
    this.#ended({ id, uid: session.uid ?? '', reason })
    return false
  }

  /** An end this manager noticed itself (the store reported none): every manager on the store hears it. */
  #ended(event: SessionEnded): void {
    endedHubOf(this.options.store).told(event)
  }
}
