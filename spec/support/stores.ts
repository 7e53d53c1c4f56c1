import type { SessionChange, SessionRecord, Store } from '../../lib/stores/store'

type Method = 'create' | 'get' | 'update' | 'delete' | 'list' | 'deleteAll'

/** A store wrapper that counts the calls the middleware makes and keeps each change it sends. */
export function countingStore<S extends Store>(
  store: S,
): S & { calls: Record<Method, number>; changes: SessionChange[] } {
  const calls: Record<Method, number> = { create: 0, get: 0, update: 0, delete: 0, list: 0, deleteAll: 0 }
  const changes: SessionChange[] = []
  return new Proxy(store, {
    get(target, property) {
      if (property === 'calls') return calls
      if (property === 'changes') return changes
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (property in calls) calls[property as Method]++
        if (property === 'update') changes.push(args[1] as SessionChange)
        return value.apply(target, args)
      }
    },
  }) as S & { calls: Record<Method, number>; changes: SessionChange[] }
}

/**
 * A store whose chosen methods reject as a backend that went down would, or with `throws` fail
 * synchronously, as a store that answers synchronously (MemoryStore's `get` and `update`) would.
 */
export function failingStore<S extends Store>(
  store: S,
  failing: { get?: boolean; update?: boolean; create?: boolean; throws?: boolean },
): S {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      if (property !== 'throws' && failing[property as keyof typeof failing])
        return () => {
          const error = new Error('ECONNREFUSED backend down')
          if (failing.throws) throw error
          return Promise.reject(error)
        }
      return value.bind(target)
    },
  })
}

/** A store whose `update` waits until the test opens the gate, to observe what happens meanwhile. */
export function gatedStore<S extends Store>(store: S) {
  let open!: () => void
  let entered!: () => void
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  const updateEntered = new Promise<void>((resolve) => {
    entered = resolve
  })
  const gated = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      if (property === 'update')
        return async (id: string, change: SessionChange) => {
          entered()
          await gate
          return target.update(id, change)
        }
      return value.bind(target)
    },
  })
  return { store: gated, open, updateEntered }
}

export type { SessionRecord }

/**
 * A store that answers every call after `delay` ms, as a networked store does: the response must
 * then wait for the write, which a store that answers synchronously never shows.
 */
export function slowStore<S extends Store>(store: S, delay = 5): S {
  const later = <T>(value: () => T | Promise<T>) =>
    new Promise<T>((resolve, reject) =>
      setTimeout(() => Promise.resolve().then(value).then(resolve, reject), delay),
    )
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property)
      if (typeof value !== 'function') return value
      if (['create', 'get', 'update', 'delete', 'list', 'deleteAll'].includes(property as string))
        return (...args: unknown[]) => later(() => value.apply(target, args))
      return value.bind(target)
    },
  })
}
