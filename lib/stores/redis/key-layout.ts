/**
 * The Redis store's key layout. The functions here and their Lua twins in the scripts' prelude
 * (scripts.ts) must agree byte for byte.
 *
 * Layout, for prefix `session`:
 *   session:{<tag>}:s:<id>    hash: `v:<key>` = JSON value, `m:*` = metadata (see `META`)
 *   session:{<tag>}:u:<uid>   sorted set of the uid's session ids, scored by `createdAt`
 * A session's tag is its id's first 4 characters; `createId` makes them the uid's tag (4 hex
 * characters of SHA-1 over prefix and uid), so a session and its index share a Cluster slot.
 */
import { createHash } from 'node:crypto'

/** Characters of an id that name its Cluster hash tag. */
export const TAG_LENGTH = 4

const ID_TAG = new RegExp(`^[A-Za-z0-9_-]{${TAG_LENGTH}}`)

/** The hash tag of a user's keys: 4 hex characters of SHA-1 over prefix and uid, never the uid. */
export function userTag(prefix: string, uid: string): string {
  return createHash('sha1').update(`${prefix}:${uid}`).digest('hex').slice(0, TAG_LENGTH)
}

/** The hash tag of a session's key: its id's first characters, `_` for an id too odd to have them. */
export function idTag(id: string): string {
  return ID_TAG.test(id) ? id.slice(0, TAG_LENGTH) : '_'
}

/** The key of the hash that holds session `id`. */
export function sessionKey(prefix: string, id: string): string {
  return `${prefix}:{${idTag(id)}}:s:${id}`
}

/** The key of the sorted set that indexes the sessions of `uid`. */
export function userIndexKey(prefix: string, uid: string): string {
  return `${prefix}:{${userTag(prefix, uid)}}:u:${uid}`
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
} as const
