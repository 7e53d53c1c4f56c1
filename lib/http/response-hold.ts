import { ServerResponse } from 'node:http'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import { answerFailure } from './failure-answer'
import { headersSentError, inheritedGetter, writeAfterEnd } from './node-errors'

type Write = ServerResponse['write']
type End = ServerResponse['end']
type Method = (...args: unknown[]) => unknown

/** Where a guarded response keeps its hold, for the guards that all guarded responses share. */
const HOLD = Symbol('cosgo-session.hold')
type GuardedResponse = ServerResponse & { [HOLD]?: ResponseHold }

/** The header methods refused while a response is held, and the verb of Node's error for each. */
const GUARDED_METHODS = [
  ['setHeader', 'set'],
  ['appendHeader', 'append'],
  ['removeHeader', 'remove'],
  ['writeHead', 'write'],
  ['flushHeaders', 'write'],
] as const

const NOT_GUARDED: readonly never[] = []

/** Node's own `headersSent` and `writableEnded` getters, by the prototype that responses inherit them through. */
const nodeGetters = new WeakMap<object, NodeGetters>()
type NodeGetters = { headersSent: () => unknown; writableEnded: () => unknown }

function nodeGettersOf(res: ServerResponse): NodeGetters {
  const prototype = Object.getPrototypeOf(res) as object
  let getters = nodeGetters.get(prototype)
  if (getters === undefined) {
    getters = {
      headersSent: inheritedGetter(res, 'headersSent'),
      writableEnded: inheritedGetter(res, 'writableEnded'),
    }
    nodeGetters.set(prototype, getters)
  }
  return getters
}

/** What a hold needs from the session whose writes the response waits for. */
export interface HeldSession {
  /**
   * What must be stored before any byte of the response goes out: in-flight token operations and
   * the dirty keys; `undefined` when there is nothing, or the store took it synchronously.
   */
  beforeOutput(): Promise<void> | undefined
  /** How many changes the session has had, so that output knows which of them came before it. */
  readonly changes: number
  /** Forgets the dirty keys: the handler failed, so what it wrote is not stored. */
  discardWrites(): void
}

/** Options of a hold. */
export interface ResponseHoldOptions {
  /** Store the writes of a response of 500 or above too. */
  saveOnServerError: boolean
}

/** One call of the app's output, waiting for the store. */
interface Output {
  kind: 'write' | 'end'
  args: unknown[]
  /** The session's `changes` when the app made the call: those before it are stored first. */
  changes: number
}

/**
 * Holds one response's output until its session's writes are stored, so the client's next request
 * reads them and nothing is acknowledged that was not stored. It wraps `write` and `end` of this
 * response only, as compression and on-headers do, and while it holds, the response reads to the
 * rest of the process as Node's would after the app's calls: `headersSent` and `writableEnded`
 * are true once the app ended it, header changes throw ERR_HTTP_HEADERS_SENT, a late write fails
 * as Node fails it, and the status the app ended with is the one that goes out. A failed store
 * write becomes a 503 (code 210) when the app ended with one `end()` and no header was sent, and
 * aborts the response otherwise: a streamed response is never completed unstored.
 */
export class ResponseHold {
  readonly #res: ServerResponse
  readonly #session: HeldSession
  readonly #options: ResponseHoldOptions
  readonly #write: Write
  readonly #end: End
  /** The app's output while the store write is in flight, in order. */
  #queue: Output[] = []
  #holding = false
  /** The session's `changes` that the write in flight covers. */
  #covered = 0
  /** Whether the accessors and header guards are in place: done at the first hold only. */
  #guarded = false
  /** The app called `write` or `end` while held: from its side, headers are sent. */
  #appStarted = false
  #appEnded = false
  /** The status the app answered with, restored before its output goes out. */
  #status: { code: number; message: string } | undefined
  /** Set while the package itself changes headers (a cookie it must deliver), past the guards. */
  #unguarded = false
  /** Node's own `headersSent` and `writableEnded` getters, once the guards shadow them. */
  #nodeGetters: NodeGetters | undefined
  /** The header methods as the response had them before the guards (Node's, or another wrapper's), by GUARDED_METHODS. */
  #originals: readonly (Method | undefined)[] = NOT_GUARDED

  constructor(res: ServerResponse, session: HeldSession, options: ResponseHoldOptions) {
    this.#res = res
    this.#session = session
    this.#options = options
    this.#write = res.write
    this.#end = res.end
    const hold = this
    res.write = function write(this: ServerResponse, ...args: unknown[]) {
      return hold.#onWrite(args)
    } as Write
    res.end = function end(this: ServerResponse, ...args: unknown[]) {
      return hold.#onEnd(args)
    } as End
  }

  /** Whether the app has ended the response, whatever the store write still holds. */
  get appEnded(): boolean {
    return this.#appEnded || this.#nodeWritableEnded()
  }

  /** Whether headers can still be set by the package: Node has not sent them, whatever the app did. */
  get headersOpen(): boolean {
    return !this.#nodeHeadersSent()
  }

  /** Runs `change` past the header guards: the package delivering a token the response waited for. */
  unguarded(change: () => void): void {
    this.#unguarded = true
    try {
      change()
    } finally {
      this.#unguarded = false
    }
  }

  #nodeHeadersSent(): boolean {
    const getters = this.#nodeGetters
    return getters ? getters.headersSent.call(this.#res) === true : this.#res.headersSent
  }

  #nodeWritableEnded(): boolean {
    const getters = this.#nodeGetters
    return getters ? getters.writableEnded.call(this.#res) === true : this.#res.writableEnded
  }

  #onWrite(args: unknown[]): boolean {
    const res = this.#res
    if (this.#appEnded && this.#holding) return writeAfterEnd(res, args)
    if (this.#appEnded || (!this.#holding && !this.#startHold()))
      return this.#write.apply(res, args as Parameters<Write>)
    this.#queue.push({ kind: 'write', args, changes: this.#session.changes })
    this.#started()
    // True, not false: a writer that waited for 'drain' would need one from whatever stands between
    // it and Node (compression reroutes 'drain' listeners to its own stream), which only it can give.
    // The hold lasts one store write, bounded by the store's timeout.
    return true
  }

  #onEnd(args: unknown[]): ServerResponse {
    const res = this.#res
    if (this.#appEnded) return this.#endAgain(args)
    if (res.statusCode >= 500 && !this.#options.saveOnServerError) this.#session.discardWrites()
    if (!this.#holding && !this.#startHold()) return this.#end.apply(res, args as Parameters<End>)
    this.#queue.push({ kind: 'end', args, changes: this.#session.changes })
    this.#started()
    this.#appEnded = true
    return res
  }

  /** The app's first held output: from its side, headers are sent, with the status it set. */
  #started(): void {
    if (this.#appStarted) return
    this.#appStarted = true
    this.#status = { code: this.#res.statusCode, message: this.#res.statusMessage }
  }

  /** A second `end()` while held, as Node answers one after the first. */
  #endAgain(args: unknown[]): ServerResponse {
    const res = this.#res
    if (!this.#holding) return this.#end.apply(res, args as Parameters<End>)
    const callback = args.find((arg) => typeof arg === 'function') as ((error?: Error) => void) | undefined
    if (args.length > 0 && typeof args[0] !== 'function' && args[0] !== undefined && args[0] !== null)
      writeAfterEnd(res, args)
    else if (callback) res.once('finish', callback)
    return res
  }

  /** Starts waiting for the store when the session has something pending; answers whether it waits. */
  #startHold(): boolean {
    this.#covered = this.#session.changes
    const waiting = this.#session.beforeOutput()
    if (waiting === undefined) return false
    this.#holding = true
    this.#guard()
    waiting.then(
      () => this.#release(),
      (error: unknown) => this.#fail(error),
    )
    return true
  }

  /** Passes the held output on, in order, holding again before any call that later changes must precede. */
  #release(): void {
    this.#holding = false
    const res = this.#res
    while (this.#queue.length > 0) {
      const output = this.#queue[0]!
      if (output.changes > this.#covered && this.#startHold()) return
      this.#queue.shift()
      if (this.#status) {
        // whatever ran after the app's answer (an error handler, say) does not change it
        res.statusCode = this.#status.code
        res.statusMessage = this.#status.message
        this.#status = undefined
      }
      if (output.kind === 'write') this.#write.apply(res, output.args as Parameters<Write>)
      else this.#end.apply(res, output.args as Parameters<End>)
    }
  }

  /** The store write failed: a 503 in place of the app's answer while that is still possible, else an abort. */
  #fail(error: unknown): void {
    this.#holding = false
    const failure = error instanceof SessionError ? error : storeUnavailable(error)
    const [first, ...rest] = this.#queue
    this.#queue = []
    const res = this.#res
    if (first?.kind === 'end' && rest.length === 0 && !this.#nodeHeadersSent()) {
      debug('flush failed, answering %d: %s', failure.status, failure.message)
      const callback = first.args.find((arg) => typeof arg === 'function') as (() => void) | undefined
      answerFailure(res, failure, this.#end, callback)
      return
    }
    debug('flush failed after the response started, aborting it: %s', failure.message)
    res.destroy(failure)
  }

  /**
   * Makes the held response read as the app left it: headers sent once it wrote or ended, ended
   * once it ended; header changes refused meanwhile. Own properties of this response only, made of
   * the functions every guarded response shares (they find this hold through HOLD), so that all
   * guarded responses take one shape; the methods are assigned, as compression assigns its own.
   */
  #guard(): void {
    if (this.#guarded) return
    this.#guarded = true
    const res = this.#res
    const own = res as unknown as Record<string | symbol, unknown>
    this.#nodeGetters = nodeGettersOf(res)
    this.#originals = GUARDED_METHODS.map(([method]) => res[method] as Method | undefined)
    own[HOLD] = this
    Object.defineProperty(res, 'headersSent', ResponseHold.#headersSent)
    Object.defineProperty(res, 'writableEnded', ResponseHold.#writableEnded)
    for (let index = 0; index < GUARDED_METHODS.length; index++)
      if (this.#originals[index]) own[GUARDED_METHODS[index]![0]] = ResponseHold.#methods[index]
  }

  /** Whether header changes are refused: the app's answer waits for the store, and the package is not delivering a token. */
  #blocked(): boolean {
    return this.#holding && this.#appStarted && !this.#unguarded
  }

  static readonly #headersSent: PropertyDescriptor = {
    configurable: true,
    get(this: GuardedResponse): boolean {
      const hold = this[HOLD]
      if (hold === undefined) return nodeGettersOf(this).headersSent.call(this) === true
      return hold.#blocked() || hold.#nodeHeadersSent()
    },
  }

  static readonly #writableEnded: PropertyDescriptor = {
    configurable: true,
    get(this: GuardedResponse): boolean {
      const hold = this[HOLD]
      if (hold === undefined) return nodeGettersOf(this).writableEnded.call(this) === true
      return (hold.#holding && hold.#appEnded) || hold.#nodeWritableEnded()
    },
  }

  static readonly #methods: Method[] = GUARDED_METHODS.map(
    ([method, verb], index) =>
      function guarded(this: GuardedResponse, ...args: unknown[]) {
        const hold = this[HOLD]
        if (hold === undefined) return (ServerResponse.prototype[method] as Method).apply(this, args)
        if (hold.#blocked()) throw headersSentError(verb)
        return hold.#originals[index]!.apply(this, args)
      },
  )
}
