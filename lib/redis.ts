/** `cosgo-session/redis`: the Redis store, the only entry whose types need `ioredis`. */
export { RedisStore, type RedisStoreOptions } from './stores/redis/redis-store'
export type { RedisClient } from './stores/redis/script-runner'
