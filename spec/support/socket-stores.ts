import { Redis } from 'ioredis'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { Store } from '../../lib/stores/store'
import { type RedisUnderTest, sleep } from './redis-server'
import { countingStore } from './stores'

/** The stores the socket examples' tests run on. */
export const SOCKET_STORES = ['MemoryStore', 'RedisStore'] as const

/** One of `SOCKET_STORES`. */
export type SocketStoreName = (typeof SOCKET_STORES)[number]

/** A store whose calls are counted, as `countingStore` gives it. */
export type CountedStore = ReturnType<typeof countingStore<Store & { close(): Promise<void> }>>

/**
 * A new counted store of `name`: a MemoryStore without its sweep, or a RedisStore on `redis`
 * under `prefix` (a fresh one unless given, as a second process on the same store needs).
 */
export function countedStore(
  name: SocketStoreName,
  redis: RedisUnderTest,
  prefix = redis.nextPrefix(),
): CountedStore {
  return countingStore(
    name === 'MemoryStore' ? new MemoryStore({ heartbeat: 0 }) : new RedisStore(redis.url, { prefix }),
  )
}

/**
 * Resolves once `count` connections subscribe to the `ended` channel of the stores under
 * `prefix`: a process that subscribed late would miss the end a test sends it.
 */
export async function untilSubscribed(url: string, prefix: string, count: number): Promise<void> {
  const probe = new Redis(url)
  try {
    const deadline = Date.now() + 10_000
    for (;;) {
      const [, subscribers] = (await probe.pubsub('NUMSUB', `${prefix}:ended`)) as [string, number]
      if (subscribers >= count) return
      if (Date.now() > deadline) throw new Error(`${prefix}:ended has ${subscribers} subscribers`)
      await sleep(20)
    }
  } finally {
    probe.disconnect()
  }
}
