/** Two properties that only `toDictionaryMode` adds, and removes at once. */
const FIRST = Symbol('cosgo-session: first')
const SECOND = Symbol('cosgo-session: second')

/**
 * Switches `object` to dictionary mode unless its prototype is still `nodePrototype`, which changes
 * nothing a program can see but makes the rest of its request cheaper. Express gives every request
 * and response its app's prototype with `Object.setPrototypeOf`, and V8 keeps no hidden-class
 * transitions on an object after that: each property Express, the app or this middleware then adds
 * builds a hidden class for that one object, and every property read from it afterwards misses V8's
 * inline caches. In dictionary mode all such objects share one hidden class, and those reads hit.
 * Deleting a property other than the last one added is what switches an object to that mode; a
 * plain node:http request or response keeps its shared hidden classes and is left as it is.
 */
export function toDictionaryMode(object: object, nodePrototype: object): void {
  if (Object.getPrototypeOf(object) === nodePrototype) return
  const properties = object as Record<symbol, unknown>
  properties[FIRST] = undefined
  properties[SECOND] = undefined
  delete properties[FIRST]
  delete properties[SECOND]
}
