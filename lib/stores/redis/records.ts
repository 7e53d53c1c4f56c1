import type { JsonValue } from '../../core/values'
import type { SessionRecord } from '../../stores/store'

/** The get script's reply: state, metadata by position (null where absent), then key/JSON pairs. */
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
  ...values: string[],
]

/** Where the get script's reply starts listing values. */
const FIRST_VALUE = 10

/** The record a get script's reply describes. */
export function toRecord(id: string, reply: GetReply): SessionRecord {
  const [state, uid, tokenHash, createdAt, lastActiveAt, maxAge, lifetime, previousTokenHash] = reply
  const values = new Map<string, JsonValue>()
  for (let index = FIRST_VALUE; index + 1 < reply.length; index += 2)
    values.set(reply[index] as string, JSON.parse(reply[index + 1] as string))
  const record: SessionRecord = {
    id,
    uid,
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
  if (state === 'expired') record.ended = 'expired'
  else if (reply[9] === 'replaced') record.ended = 'replaced'
  return record
}

/** A metadata number; `NaN` when the field is missing, as from a damaged hash. */
function numberOf(value: number | null | undefined): number {
  return value ?? Number.NaN
}
