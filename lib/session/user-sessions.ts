import { SessionError } from '../core/errors'
import type { Store } from '../stores/store'
import { endedHubOf } from './ended-events'
import { type SessionInfo, toSessionInfo } from './session-info'
import type { UserRecord } from './session-state'
import { storeCall, userStoreOf } from './store-calls'

/** The live sessions of the user of `record`, oldest first, without tokens. */
export async function listSessions(store: Store, record: UserRecord): Promise<SessionInfo[]> {
  const summaries = await storeCall(() => userStoreOf(store).list(record.uid))
  return summaries.map((summary) => toSessionInfo(summary, record.id))
}

/** Ends session `id` of the user of `record`; an id that is not theirs is refused with SESSION_UNKNOWN. */
export async function revokeSession(store: Store, record: UserRecord, id: string): Promise<void> {
  const summaries = await storeCall(() => userStoreOf(store).list(record.uid))
  if (!summaries.some((summary) => summary.id === id))
    throw new SessionError('SESSION_UNKNOWN', 'no session of this user has that id')
  await storeCall(() => endedHubOf(store).during('revoked', id, () => store.delete(id)))
}

/** Ends session `id` by its own logout. */
export async function endSession(store: Store, id: string): Promise<void> {
  await storeCall(() => endedHubOf(store).during('logout', id, () => store.delete(id)))
}

/** Ends every session of `uid`; resolves how many ended. */
export async function endAllSessions(store: Store, uid: string): Promise<number> {
  const users = userStoreOf(store)
  return storeCall(() => endedHubOf(store).during('revoked', uid, () => users.deleteAll(uid)))
}
