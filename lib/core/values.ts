import { SessionError } from './errors'

/** A value that survives a JSON round trip unchanged: what a session can hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** The shape of a session's values: any string keys, JSON values. */
export type SessionValues = { [key: string]: JsonValue }

/**
 * Checks that `value` would come back equal from a JSON store and returns that copy, so the
 * request goes on with exactly what the next request will read. Throws SESSION_ERROR (201)
 * naming the key and the offending part otherwise: at `set`, never silently at flush time.
 */
export function toStoredValue(key: string, value: unknown): JsonValue {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value
  if (typeof value === 'number' && Number.isFinite(value)) return value === 0 ? 0 : value
  const problem = findNonJson(value, new Set())
  if (problem !== undefined)
    throw new SessionError(
      'SESSION_ERROR',
      `session value for key ${JSON.stringify(key)} is not storable: ${problem}`,
    )
  return JSON.parse(JSON.stringify(value)) as JsonValue
}

function findNonJson(value: unknown, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} is not a finite number`
    case 'object':
      break
    default:
      return `${typeof value} values have no JSON form`
  }
  if (value === null) return undefined
  if (ancestors.has(value)) return 'it contains a cycle'
  if (Array.isArray(value)) {
    ancestors.add(value)
    for (let index = 0; index < value.length; index++) {
      if (!(index in value)) return 'a sparse array loses its holes'
      const problem = findNonJson(value[index], ancestors)
      if (problem !== undefined) return problem
    }
    ancestors.delete(value)
    return undefined
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'class instance'
    return value instanceof Date
      ? 'a Date comes back as a string; store date.toISOString() or date.getTime()'
      : `a ${kind} comes back as a plain object; store plain objects only`
  }
  ancestors.add(value)
  for (const member of Object.values(value)) {
    const problem = findNonJson(member, ancestors)
    if (problem !== undefined) return problem
  }
  ancestors.delete(value)
  if (Object.getOwnPropertySymbols(value).length > 0) return 'symbol keys have no JSON form'
  return undefined
}
