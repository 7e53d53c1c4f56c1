/** Two properties that only `toDictionaryModeIfExpress` adds, and deletes at once. */
const ADDED_THEN_DELETED = Symbol('cosgo-session: added, then deleted')
const ADDED_LAST_THEN_DELETED = Symbol('cosgo-session: added last, then deleted')

/**
 * Switches an Express request or response to dictionary mode, so that every property Express and
 * the app read from it afterwards hits V8's inline caches: after Express's `Object.setPrototypeOf`
 * each request builds hidden classes of its own, and those reads all missed (README, Performance).
 * Deleting a property other than the last one added is what switches the mode; anything else (a
 * node:http, Connect or HTTP/2 object, or one that cannot take properties) is left as it is.
 */
export function toDictionaryModeIfExpress(object: object): void {
  // Express's `app.request` and `app.response`, the prototypes it gives, each carry `app`
  const prototype = Object.getPrototypeOf(object) as object | null
  if (prototype === null || !Object.hasOwn(prototype, 'app') || !Object.isExtensible(object)) return
  const writable = object as Record<symbol, unknown>
  try {
    writable[ADDED_THEN_DELETED] = undefined
    writable[ADDED_LAST_THEN_DELETED] = undefined
    delete writable[ADDED_THEN_DELETED]
    delete writable[ADDED_LAST_THEN_DELETED]
  } catch {
    // a Proxy whose traps refused: nothing more to do, and a request must not fail for it
  }
}
