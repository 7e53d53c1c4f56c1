import { deadlineOf } from '../../core/expiry'
import type { JsonValue } from '../../core/values'
import type { SessionRecord, SessionSummary } from '../../stores/store'
import { META, VALUE_FIELD } from './key-layout'

/**
 * The field/value pairs of a session's hash: its metadata, `m:h` = `handle` when the id does not
 * name its uid's, and its values (none for a marker).
 */
export function hashFields(record: SessionRecord, handle: string | undefined): string[] {
  const fields = [META.uid, record.uid ?? '', META.tokenHash, record.tokenHash]
  fields.push(META.createdAt, String(record.createdAt), META.lastActiveAt, String(record.lastActiveAt))
  fields.push(META.maxAge, String(record.maxAge), META.lifetime, String(record.lifetime))
  if (handle !== undefined) fields.push(META.handle, handle)
  if (record.previousTokenHash) {
    fields.push(META.previousTokenHash, record.previousTokenHash)
    fields.push(META.previousTokenExpiresAt, String(record.previousTokenExpiresAt ?? 0))
  }
  if (record.persistent === false) fields.push(META.persistent, '0')
  if (record.userAgent !== undefined) fields.push(META.userAgent, record.userAgent)
  if (record.address !== undefined) fields.push(META.address, record.address)
  if (record.ended === 'replaced') fields.push(META.ended, 'replaced')
  else for (const [key, value] of record.values) fields.push(VALUE_FIELD + key, JSON.stringify(value))
  return fields
}

/** The summaries a list script's `live` reply describes: (id, createdAt, lastActiveAt, maxAge, lifetime, userAgent, address)*. */
export function toSummaries(uid: string, live: string[]): SessionSummary[] {
  const summaries: SessionSummary[] = []
  for (let at = 0; at + 6 < live.length; at += 7) {
    const [createdAt, lastActiveAt, maxAge, lifetime] = live.slice(at + 1, at + 5).map(Number) as [
      number,
      number,
      number,
      number,
    ]
    const expiresAt = deadlineOf({ createdAt, lastActiveAt, maxAge, lifetime })
    const [userAgent, address] = [live[at + 5], live[at + 6]]
    summaries.push({
      id: live[at]!,
      uid,
      createdAt,
      lastActiveAt,
      expiresAt,
      ...(userAgent ? { userAgent } : {}),
      ...(address ? { address } : {}),
    })
  }
  return summaries
}

/** The get script's reply: state, metadata by position (null where absent), then the hash's field/value pairs. */
export type GetReply = [
  state: 'live' | 'ended' | 'expired',
  uid: string,
  tokenHash: string | null,
  createdAt: number | null,
  lastActiveAt: number | null,
  maxAge: number | null,
  lifetime: number | null,
  previousTokenHash: string | null,
  previousTokenExpiresAt: number | null,
  ended: string | null,
  fields: string[],
]

/** The record a get script's reply describes. */
export function toRecord(id: string, reply: GetReply): SessionRecord {
  const [state, uid, tokenHash, createdAt, lastActiveAt, maxAge, lifetime, previousTokenHash] = reply
  const fields = reply[10]
  const values = new Map<string, JsonValue>()
  let persistent = true
  for (let index = 0; index + 1 < fields.length; index += 2) {
    const field = fields[index]!
    if (field.startsWith(VALUE_FIELD))
      values.set(field.slice(VALUE_FIELD.length), JSON.parse(fields[index + 1]!))
    else if (field === META.persistent) persistent = false
  }
  const record: SessionRecord = {
    id,
    tokenHash: tokenHash ?? '',
    createdAt: numberOf(createdAt),
    lastActiveAt: numberOf(lastActiveAt),
    maxAge: numberOf(maxAge),
    lifetime: numberOf(lifetime),
    values,
  }
  if (previousTokenHash !== null) {
    record.previousTokenHash = previousTokenHash
    record.previousTokenExpiresAt = numberOf(reply[8])
  }
  if (uid !== '') record.uid = uid
  if (!persistent) record.persistent = false
  if (state === 'expired') record.ended = 'expired'
  else if (reply[9] === 'replaced') record.ended = 'replaced'
  return record
}

/** A metadata number; `NaN` when the field is missing, as from a damaged hash. */
function numberOf(value: number | null | undefined): number {
  return value ?? Number.NaN
}
