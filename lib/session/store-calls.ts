import { SessionError, storeUnavailable } from '../core/errors'
import { type Awaitable, isUserSessionStore, type Store, type UserSessionStore } from '../stores/store'

/** Store calls fail only when the backend failed: report that as STORE_UNAVAILABLE, thrown or rejected. */
export async function storeCall<T>(operation: () => Awaitable<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw storeUnavailable(error)
  }
}

/** `store` as a per-user store, or STORAGE_EMPTY (202) for one that keeps no per-user index. */
export function userStoreOf(store: Store): UserSessionStore {
  if (!isUserSessionStore(store))
    throw new SessionError('STORAGE_EMPTY', 'the store keeps no per-user index (list, deleteAll)')
  return store
}
