/**
 * The Redis store's key layout. Every key a script touches is named here, by the client, and
 * passed to the script in KEYS: the scripts derive none.
 *
 * Layout, for prefix `session` and a uid whose handle is `H`:
 *   session:{H}:s:<id>      hash: `v:<key>` = JSON value, `m:*` = metadata (see `META`)
 *   session:{T}:s:<id>      the same for an anonymous session (`m:uid` ''), tagged by its id's start
 *   session:{H}:u           sorted set: the uid's admitted sessions, scored by deadline (see scripts.ts)
 *   session:{H}:x:<nonce>   sorted set: the sessions a `deleteAll` is ending, chunk by chunk
 * A uid's handle is 16 base64url characters (96 bits) of SHA-256 over prefix and uid, never the
 * uid; `createId` puts it at the start of each id, so the client names a session's index from its
 * id alone, and the braces make the handle the Cluster hash tag of all of a uid's keys.
 */
import { createHash } from 'node:crypto'

/** Characters of a uid's handle. */
export const HANDLE_LENGTH = 16

/** The shape of an id `createId` makes: the uid's handle, then 128 random bits. */
const MADE_ID = new RegExp(`^[A-Za-z0-9_-]{${HANDLE_LENGTH + 22}}$`)
const ID_TAG = /^[A-Za-z0-9_-]{4}/

/** The handle of `uid`'s keys: 96 bits of SHA-256 over prefix and uid, base64url. */
export function userHandle(prefix: string, uid: string): string {
  return createHash('sha256').update(`${prefix}\0${uid}`).digest('base64url').slice(0, HANDLE_LENGTH)
}

/**
 * The handle an id names, for an id of the shape `createId` makes; `undefined` for any other. A
 * session whose id names another handle than its uid's (an id made elsewhere) keeps its uid's
 * handle in `m:h`, and a script given the wrong index says so (see `isIndexReply`).
 */
export function handleOf(id: string): string | undefined {
  return MADE_ID.test(id) ? id.slice(0, HANDLE_LENGTH) : undefined
}

/** The key of the hash that holds session `id`: tagged by its handle, else by its first 4 characters. */
export function sessionKey(prefix: string, id: string): string {
  const tag = handleOf(id) ?? (ID_TAG.test(id) ? id.slice(0, 4) : '_')
  return `${prefix}:{${tag}}:s:${id}`
}

/** The key of the sorted set of the admitted sessions of the uid whose handle is `handle`. */
export function indexKey(prefix: string, handle: string): string {
  return `${prefix}:{${handle}}:u`
}

/** The key a `deleteAll` moves the index to, and ends the sessions of, chunk by chunk. */
export function retiredKey(prefix: string, handle: string, nonce: string): string {
  return `${prefix}:{${handle}}:x:${nonce}`
}

/** Prefix of the hash fields that hold session values; metadata fields start with `m:` instead. */
export const VALUE_FIELD = 'v:'

/** The metadata fields of a session hash, by the `SessionRecord` property each one holds. */
export const META = {
  uid: 'm:uid',
  tokenHash: 'm:tok',
  previousTokenHash: 'm:prev',
  previousTokenExpiresAt: 'm:prevExp',
  createdAt: 'm:created',
  lastActiveAt: 'm:active',
  maxAge: 'm:maxAge',
  lifetime: 'm:life',
  ended: 'm:ended',
  /** The uid's handle, kept only when the id does not name it. */
  handle: 'm:h',
  /** '0' for a session whose cookie ends with the browser; absent for one that persists. */
  persistent: 'm:persist',
  userAgent: 'm:ua',
  address: 'm:addr',
} as const
