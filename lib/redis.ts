/** `cosgo-session/redis`: the Redis store, the only entry whose types need `ioredis`. */
export type { RedisClient } from './stores/redis/redis-client'
export type { RedisStoreOptions } from './stores/redis/redis-options'
export { RedisStore, type RedisStoreEvents, type RedisStoreWarning } from './stores/redis/redis-store'
