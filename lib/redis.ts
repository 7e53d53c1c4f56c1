/** `cosgo-session/redis`: the Redis store, the only entry whose types need `ioredis`. */
export type { RedisClient } from './stores/redis/redis-client'
export {
  RedisStore,
  type RedisStoreEvents,
  type RedisStoreOptions,
  type RedisStoreWarning,
} from './stores/redis/redis-store'
