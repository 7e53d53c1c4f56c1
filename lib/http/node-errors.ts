import type { ServerResponse } from 'node:http'

/**
 * Node's answers to misuse of an ended response, for a response the package holds: the same error
 * codes and messages, reported the same way, so code written against Node meets what it expects.
 */

/** The error Node throws for a header change after headers were sent (`verb`: set, append, remove, write). */
export function headersSentError(verb: string): Error {
  return Object.assign(new Error(`Cannot ${verb} headers after they are sent to the client`), {
    code: 'ERR_HTTP_HEADERS_SENT',
  })
}

/**
 * A `write` (or an `end` with data) after `end`, as Node answers it: `false`, then on the next
 * tick the callback with ERR_STREAM_WRITE_AFTER_END and the same error emitted on the response.
 */
export function writeAfterEnd(res: ServerResponse, args: unknown[]): false {
  const error = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' })
  const callback = args.find((arg) => typeof arg === 'function') as ((error: Error) => void) | undefined
  process.nextTick(() => {
    callback?.(error)
    if (!res.destroyed) res.emit('error', error)
  })
  return false
}

/** The getter of `property` that `object` inherits: Node's own, past any the package defines. */
export function inheritedGetter(object: object, property: string): () => unknown {
  for (let holder = Object.getPrototypeOf(object); holder !== null; holder = Object.getPrototypeOf(holder)) {
    const getter = Object.getOwnPropertyDescriptor(holder, property)?.get
    if (getter) return getter
  }
  throw new TypeError(`the response has no ${property} getter`)
}
