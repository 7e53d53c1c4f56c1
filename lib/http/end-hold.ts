import { ServerResponse } from 'node:http'
import { debug } from '../core/debug'
import { SessionError, storeUnavailable } from '../core/errors'
import type { Session } from '../session/session'

type End = ServerResponse['end']

/** Marks a held response whose end already waits for its store write; a second `end` is dropped. */
const ENDING = Symbol('ending')

/** The responses whose shared `end` must first store their session's dirty keys. */
const held = new WeakMap<ServerResponse, Session | typeof ENDING>()

/** Node's `end` with the hold in front of it, on `ServerResponse.prototype` once the first hold is asked for. */
let sharedEnd: End | undefined

/**
 * Holds `res.end` until the session's dirty keys are stored, so the client's next request reads its
 * own writes and nothing is acknowledged that was not stored: a failed write becomes the error's
 * answer while headers are unsent, and an aborted response once they are.
 *
 * A response whose `end` is Node's own is held through one shared `end` on `ServerResponse.prototype`
 * that looks it up here, rather than through a property of its own: Express gives each response a
 * hidden class of its own, so adding a property copies that class, which cost about 4% of a write
 * (instructions per request under callgrind, `bench/instructions.ts`). A response whose `end` another
 * middleware wrapped (compression), or that is not Node's (HTTP/2), gets its own wrapper as before, so
 * the write still comes first.
 */
export function holdEnd(session: Session, res: ServerResponse): void {
  if (endsThroughShared(res)) {
    held.set(res, session)
    return
  }
  const end = res.end
  let ending = false
  res.end = function endAfterCommit(this: ServerResponse, ...args: unknown[]) {
    if (!ending) ending = endAfterStored(session, this, end, args)
    return this
  } as End
}

/**
 * Whether `res.end` is the shared end, found without reading `res.end`: on an Express response that
 * read misses every inline cache and costs more than the hold saves.
 */
function endsThroughShared(res: ServerResponse): boolean {
  installSharedEnd()
  let holder: object | null = res
  while (holder !== ServerResponse.prototype) {
    if (holder === null || Object.hasOwn(holder, 'end')) return false
    holder = Object.getPrototypeOf(holder)
  }
  return ServerResponse.prototype.end === sharedEnd
}

function installSharedEnd(): void {
  if (sharedEnd) return
  const nodeEnd = ServerResponse.prototype.end
  // Named parameters and `call`, not rest and `apply`: every response of the process comes through
  // here, and most hold nothing; Node's `end` reads its three parameters by name, so passing
  // `undefined` for one the caller left out is the same call.
  sharedEnd = function end(this: ServerResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    const session = held.get(this)
    if (session === undefined)
      return nodeEnd.call(this, chunk, encoding as BufferEncoding, callback as () => void)
    if (session !== ENDING) {
      if (endAfterStored(session, this, nodeEnd, [chunk, encoding, callback])) held.set(this, ENDING)
      else held.delete(this)
    }
    return this
  } as End
  ServerResponse.prototype.end = sharedEnd
}

/** Ends `res` once the session's dirty keys are stored; answers `true` when that waits for the store. */
function endAfterStored(session: Session, res: ServerResponse, end: End, args: unknown[]): boolean {
  const committing = session.dirty ? session.commit() : undefined
  if (committing === undefined) {
    end.apply(res, args as Parameters<End>)
    return false
  }
  committing.then(
    () => end.apply(res, args as Parameters<End>),
    (error: unknown) => answerFailure(res, end, error),
  )
  return true
}

/** Replaces the handler's answer with the write's failure, or aborts a response already under way. */
function answerFailure(res: ServerResponse, end: End, error: unknown): void {
  const failure = error instanceof SessionError ? error : storeUnavailable(error)
  debug('flush failed, answering %d: %s', failure.status, failure.message)
  if (res.headersSent) {
    res.destroy(failure)
    return
  }
  for (const header of res.getHeaderNames()) if (header !== 'set-cookie') res.removeHeader(header)
  res.statusCode = failure.status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  end.apply(res, [JSON.stringify(failure)] as unknown as Parameters<End>)
}
