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

/** How a new session is made: whether its cookie persists. */
export interface NewSessionOptions {
  persistent: boolean
}

/**
 * A brand-new session, not stored yet: a new id and token (no fixation) and the middleware's
 * expiry policy; `uid` undefined for an anonymous session, which a request's first write starts.
 */
export function issueSession(
  context: SessionContext,
  uid: string | undefined,
  values: Map<string, JsonValue>,
  { persistent }: NewSessionOptions,
): CreatedSession {
  const { options, signer } = context
  const id = uid === undefined ? randomId() : (options.store.createId?.(uid) ?? randomId())
  const issued = signer.issue(id)
  const now = Date.now()
  const record: SessionRecord = {
    id,
    tokenHash: issued.tokenHash,
    createdAt: now,
    lastActiveAt: now,
    maxAge: options.maxAge,
    lifetime: options.lifetime,
    values,
  }
  if (uid !== undefined) record.uid = uid
  if (!persistent) record.persistent = false
  if (uid !== undefined && options.recordDevice) Object.assign(record, context.device())
  return { record, token: issued.token }
}

/** Stores a session `issueSession` made; with `singleSession`, a login replaces the uid's other sessions. */
export async function storeSession(context: SessionContext, record: SessionRecord): Promise<void> {
  // the store gets its own copy, so the request's later writes stay dirty until flushed
  const stored = { ...record, values: new Map(record.values) }
  const { store, singleSession } = context.options
  const uid = record.uid
  if (uid === undefined) return storeCall(() => store.create(stored))
  await storeCall(() =>
    endedHubOf(store).during('replaced', uid, () => store.create(stored, { replaceOthers: singleSession })),
  )
}

/** Creates a brand-new session of `uid` in the store: `issueSession`, then `storeSession`. */
export async function createSession(
  context: SessionContext,
  uid: string,
  values: Map<string, JsonValue>,
  options: NewSessionOptions,
): Promise<CreatedSession> {
  const created = issueSession(context, uid, values, options)
  await storeSession(context, created.record)
  return created
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
