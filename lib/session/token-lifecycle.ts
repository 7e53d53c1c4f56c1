import { SessionError } from '../core/errors'
import { randomId } from '../core/token'
import type { JsonValue } from '../core/values'
import type { SessionRecord } from '../stores/store'
import { endedHubOf } from './ended-events'
import type { SessionContext } from './session-context'
import { storeCall } from './store-calls'

/** A session the store now holds, and the token that names it. */
export interface CreatedSession {
  record: SessionRecord
  token: string
}

/**
 * Creates a brand-new session of `uid` in the store: a new id and token (no fixation), the
 * middleware's expiry policy, and with `singleSession` the uid's other sessions replaced.
 */
export async function createSession(
  context: SessionContext,
  uid: string,
  values: Map<string, JsonValue>,
): Promise<CreatedSession> {
  const { options, signer } = context
  const id = options.store.createId?.(uid) ?? randomId()
  const issued = signer.issue(id)
  const now = Date.now()
  const record: SessionRecord = {
    id,
    uid,
    tokenHash: issued.tokenHash,
    createdAt: now,
    lastActiveAt: now,
    maxAge: options.maxAge,
    lifetime: options.lifetime,
    values,
  }
  // the store gets its own copy, so the request's later writes stay dirty until flushed
  const stored = { ...record, values: new Map(values) }
  const store = options.store
  const replaceOthers = options.singleSession
  await storeCall(() =>
    endedHubOf(store).during('replaced', uid, () => store.create(stored, { replaceOthers })),
  )
  return { record, token: issued.token }
}

/**
 * Gives `record` a new token in the store, keeping the replaced one for `refreshGrace`; answers
 * the token, or `undefined` when the session no longer exists. A concurrent refresh that won is
 * SESSION_REPLACED: the store swaps only the hash this request read.
 */
export async function rotateToken(
  context: SessionContext,
  record: SessionRecord,
): Promise<string | undefined> {
  const { options, signer } = context
  const issued = signer.issue(record.id)
  const grace = options.refreshGrace
  const token = {
    tokenHash: issued.tokenHash,
    replaces: record.tokenHash,
    ...(grace > 0 ? { previousTokenExpiresAt: Date.now() + grace * 1000 } : {}),
  }
  if (await storeCall(() => options.store.update(record.id, { token }))) {
    record.tokenHash = issued.tokenHash
    return issued.token
  }
  const current = await storeCall(() => options.store.get(record.id))
  if (current !== undefined && current.ended === undefined)
    throw new SessionError('SESSION_REPLACED', 'another request refreshed this session first; use its token')
  return undefined
}
