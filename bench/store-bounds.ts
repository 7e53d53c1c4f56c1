/**
 * The stores' costs against what one user holds (`npx tsx bench/store-bounds.ts`, `--quick` for
 * a tenth of the sessions), on a private redis-server and an in-process MemoryStore:
 * 1. Redis: a login's cost against the number of sessions its uid already has (1,000, 10,000,
 *    100,000), as the round trip the client sees and as Redis's own time per call
 *    (`INFO commandstats`);
 * 2. Redis: a deleteAll of 100,000 sessions of one uid: its scripts, the longest one as Redis
 *    timed it (SLOWLOG of everything over 20 µs), the whole call, and another user's reads
 *    meanwhile;
 * 3. both stores: a read and a one-key write against session size (10 keys, 1,000 keys, about
 *    64 kB of JSON), and for Redis the bytes the client sends for the one-key write.
 * Figures are medians of many calls, one at a time; the machine's load moves them, so read the
 * growth, not the last digit.
 */
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'
import type { JsonValue } from '../lib/core/values'
import { MemoryStore } from '../lib/index'
import { RedisStore } from '../lib/redis'
import type { SessionRecord } from '../lib/store'
import { sampleRecord } from '../lib/testing'
import { CountingProxy } from './proxy'
import { RedisServer } from './redis'
import { median } from './stats'

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const SCALE = flags.quick ? 10 : 1

/** Microseconds `call` takes, the median over `times` calls made one after another. */
async function microseconds(times: number, call: (index: number) => unknown): Promise<number> {
  const samples: number[] = []
  for (let index = 0; index < times; index++) {
    const started = process.hrtime.bigint()
    await call(index)
    samples.push(Number(process.hrtime.bigint() - started) / 1000)
  }
  return median(samples)
}

/** Redis's own microseconds per call of EVALSHA since the last `CONFIG RESETSTAT`. */
async function redisMicroseconds(client: Redis): Promise<number> {
  const info = await client.info('commandstats')
  return Number(/cmdstat_evalsha:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(info)?.[1] ?? Number.NaN)
}

/** Creates `count` sessions of `uid`, 500 at a time. */
async function fill(store: RedisStore, uid: string, count: number): Promise<void> {
  for (let done = 0; done < count; done += 500) {
    const batch = Array.from({ length: Math.min(500, count - done) }, () => sampleRecord(store, { uid }))
    await Promise.all(batch.map((record) => store.create(record)))
  }
}

/** Sessions of each size the bench measures: what one user's request reads and writes. */
const SHAPES: [string, () => Map<string, JsonValue>][] = [
  ['10 keys', () => new Map(Array.from({ length: 10 }, (_, index) => [`key${index}`, `value ${index}`]))],
  [
    '1,000 keys',
    () => new Map(Array.from({ length: 1000 }, (_, index) => [`key${index}`, `value ${index}`])),
  ],
  ['64 kB', () => new Map(Array.from({ length: 256 }, (_, index) => [`key${index}`, 'x'.repeat(240)]))],
]

const jsonLength = (values: Map<string, JsonValue>) => JSON.stringify(Object.fromEntries(values)).length

async function loginCost(server: RedisServer, raw: Redis): Promise<void> {
  console.log('\nRedis: a login against the sessions its uid already holds')
  console.log('  sessions of the uid   round trip (median)   Redis time per call')
  const store = new RedisStore(server.url, { prefix: 'login', maxSessionsPerUser: 0, timeout: 10_000 })
  let held = 0
  for (const target of [1000, 10_000, 100_000].map((count) => count / SCALE)) {
    await fill(store, 'guest', target - held)
    held = target
    await raw.config('RESETSTAT')
    const roundTrip = await microseconds(200, () => store.create(sampleRecord(store, { uid: 'guest' })))
    held += 200
    const own = await redisMicroseconds(raw)
    console.log(
      `  ${target.toLocaleString('en').padStart(18)}   ${roundTrip.toFixed(0).padStart(15)} µs   ${own.toFixed(1).padStart(15)} µs`,
    )
  }
  await store.close()
}

async function deleteAllChunks(server: RedisServer, raw: Redis): Promise<void> {
  const count = 100_000 / SCALE
  console.log(`\nRedis: deleteAll of ${count.toLocaleString('en')} sessions of one uid`)
  const store = new RedisStore(server.url, { prefix: 'delete', maxSessionsPerUser: 0, timeout: 10_000 })
  const reader = new RedisStore(server.url, { prefix: 'delete' })
  await fill(store, 'guest', count)
  const bystander = sampleRecord(reader)
  await reader.create(bystander)
  // SLOWLOG also logs each command a script runs; from 20 µs on, it keeps the scripts, not those
  await raw.config('SET', 'slowlog-log-slower-than', '20')
  await raw.config('SET', 'slowlog-max-len', '100000')
  await raw.slowlog('RESET')
  let deleting = true
  const reads: number[] = []
  const readsMeanwhile = (async () => {
    while (deleting) {
      const started = process.hrtime.bigint()
      await reader.get(bystander.id)
      reads.push(Number(process.hrtime.bigint() - started) / 1000)
    }
  })()
  const started = performance.now()
  const ended = await store.deleteAll('guest')
  const elapsed = performance.now() - started
  deleting = false
  await readsMeanwhile
  const entries = (await raw.slowlog('GET', 100_000)) as [number, number, number, string[]][]
  await raw.config('SET', 'slowlog-log-slower-than', '10000')
  // the deleteAll's own scripts: those given the moved index (`…:x:…`), not the bystander's reads
  const scripts = entries.filter(
    ([, , , command]) =>
      /^eval/i.test(command[0] ?? '') && command.slice(3, 5).some((key) => key.includes(':x:')),
  )
  const durations = scripts.map(([, , duration]) => duration)
  console.log(
    `  ended ${ended.toLocaleString('en')} in ${elapsed.toFixed(0)} ms: ${scripts.length} scripts, ` +
      `the longest ${Math.max(...durations)} µs of Redis's time (median ${median(durations).toFixed(0)} µs)`,
  )
  const p99 = [...reads].sort((a, b) => a - b)[Math.floor(reads.length * 0.99)] ?? Number.NaN
  console.log(
    `  another user's reads meanwhile (same process): ${reads.length}, median ${median(reads).toFixed(0)} µs, ` +
      `p99 ${p99.toFixed(0)} µs, slowest ${Math.max(...reads).toFixed(0)} µs`,
  )
  await store.close()
  await reader.close()
}

async function sessionSizeCost(server: RedisServer, raw: Redis): Promise<void> {
  console.log('\nA read and a one-key write against session size')
  console.log('  session            store    read (median)   one-key write (median)   sent per write')
  const proxy = await CountingProxy.start(server.port)
  const redisStore = new RedisStore(`redis://127.0.0.1:${proxy.port}`, { prefix: 'size' })
  const memory = new MemoryStore({ heartbeat: 0 })
  for (const [name, valuesOf] of SHAPES) {
    const values = valuesOf()
    const label = `${name} (${(jsonLength(values) / 1024).toFixed(1)} kB)`.padEnd(19)
    const inMemory: SessionRecord = sampleRecord(memory, { values })
    await memory.create(inMemory)
    const memoryRead = await microseconds(20_000, () => memory.get(inMemory.id))
    const memoryWrite = await microseconds(20_000, (index) =>
      memory.update(inMemory.id, { set: new Map([['key1', `changed ${index}`]]) }),
    )
    console.log(
      `  ${label} memory  ${memoryRead.toFixed(2).padStart(10)} µs   ${memoryWrite.toFixed(2).padStart(18)} µs`,
    )
    const inRedis = sampleRecord(redisStore, { values })
    await redisStore.create(inRedis)
    await raw.config('RESETSTAT')
    const redisRead = await microseconds(2000, () => redisStore.get(inRedis.id))
    const readOwn = await redisMicroseconds(raw)
    await raw.config('RESETSTAT')
    const before = proxy.snapshot().clientBytes
    const redisWrite = await microseconds(2000, (index) =>
      redisStore.update(inRedis.id, { set: new Map([['key1', `changed ${index}`]]) }),
    )
    const sent = (proxy.snapshot().clientBytes - before) / 2000
    const writeOwn = await redisMicroseconds(raw)
    console.log(
      `  ${label} Redis   ${redisRead.toFixed(0).padStart(10)} µs   ${redisWrite.toFixed(0).padStart(18)} µs   ${sent.toFixed(0).padStart(10)} B` +
        `   (Redis's time: read ${readOwn.toFixed(1)} µs, write ${writeOwn.toFixed(1)} µs)`,
    )
  }
  await redisStore.close()
  await memory.close()
  await proxy.close()
}

async function main(): Promise<void> {
  const server = await RedisServer.start()
  const raw = server.client()
  try {
    const version = /redis_version:(\S+)/.exec(await raw.info('server'))?.[1]
    console.log(
      `store bounds: Node ${process.version}, redis-server ${version}${flags.quick ? ', --quick' : ''}`,
    )
    await loginCost(server, raw)
    await deleteAllChunks(server, raw)
    await sessionSizeCost(server, raw)
  } finally {
    raw.disconnect()
    await server.stop()
  }
}

void main()
