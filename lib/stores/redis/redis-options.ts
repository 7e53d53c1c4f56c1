import type { RedisClient } from './redis-client'

/** Options of `new RedisStore()`. */
export interface RedisStoreOptions {
  /**
   * Start of every key the store writes, so that several apps can share one Redis. No `{` or `}`:
   * the store places the Cluster hash tags itself.
   * @default 'session'
   */
  prefix?: string
  /**
   * Milliseconds any store call may take before it fails with STORE_UNAVAILABLE (210), whether
   * Redis is down, stopped or slow. The call never waits for a reconnect beyond it.
   * @default 1000
   */
  timeout?: number
  /**
   * Most live sessions of one uid. A login past it ends that uid's session nearest its end (with
   * one `maxAge` and no `lifetime`, its least recently active), event `evicted` with reason
   * `'per-user limit'`, never another uid's; 0 turns the limit off.
   * @default 100
   */
  maxSessionsPerUser?: number
  /**
   * Replicas that must have each write (login, update, refresh, logout, deleteAll) before it
   * counts: the store follows each with Redis `WAIT` and fails it with STORE_UNAVAILABLE when
   * fewer acknowledge it within `timeout`. A failover then loses no write the store reported
   * done, at the cost of a replica's round trip on each. 0 waits for none.
   * @default 0
   */
  waitForReplicas?: number
}

const DEFAULTS = { prefix: 'session', timeout: 1000, maxSessionsPerUser: 100, waitForReplicas: 0 } as const

/** The longest delay a Node timer takes; a longer one fires after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The options with their defaults, checked: a bad one throws a TypeError naming it and its value. */
export function checkStoreOptions(
  redis: string | RedisClient,
  options: RedisStoreOptions,
): Required<RedisStoreOptions> {
  const checked = { ...DEFAULTS, ...options }
  const { prefix, timeout, maxSessionsPerUser, waitForReplicas } = checked
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix))
    throw new TypeError(`option prefix must be a non-empty string without { or }, got ${String(prefix)}`)
  if (!(typeof timeout === 'number' && timeout > 0 && timeout <= MAX_TIMER_MS))
    throw new TypeError(
      `option timeout must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${timeout}`,
    )
  if (!(Number.isInteger(maxSessionsPerUser) && maxSessionsPerUser >= 0))
    throw new TypeError(
      `option maxSessionsPerUser must be a whole number >= 0 (0 for no limit), got ${maxSessionsPerUser}`,
    )
  if (!(Number.isInteger(waitForReplicas) && waitForReplicas >= 0))
    throw new TypeError(`option waitForReplicas must be a whole number >= 0, got ${waitForReplicas}`)
  if (typeof redis === 'string' && !/^rediss?:\/\//.test(redis))
    throw new TypeError(`a Redis URL must start with redis:// or rediss://, got ${redis}`)
  if (typeof redis !== 'string' && typeof redis?.evalsha !== 'function')
    throw new TypeError('RedisStore takes a Redis URL or an ioredis Redis or Cluster client')
  return checked
}
