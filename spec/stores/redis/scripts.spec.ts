import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { Redis } from 'ioredis'
import { randomId } from '../../../lib/core/token'
import type { JsonValue } from '../../../lib/core/values'
import { sessionKey } from '../../../lib/stores/redis/key-layout'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import { sampleRecord } from '../../../lib/stores/testing'
import { type RedisUnderTest, useRedis } from '../../support/redis-server'

/** What one EVAL or EVALSHA declared, and the commands it ran inside Redis. */
interface ScriptRun {
  keys: string[]
  commands: string[][]
}

let redis: RedisUnderTest
let raw: Redis

beforeAll(async () => {
  redis = await useRedis()
  raw = new Redis(redis.url)
}, 30_000)

afterAll(async () => {
  await raw?.quit()
  await redis?.stop()
})

/** Runs `work` while MONITOR watches, and resolves what each script declared and ran meanwhile. */
async function scriptsRunBy(work: () => Promise<unknown>): Promise<ScriptRun[]> {
  const { hostname, port } = new URL(redis.url)
  // a socket of our own: ioredis can take a MONITOR line for the answer to a command it sent
  const socket = net.connect(Number(port), hostname)
  const runs: ScriptRun[] = []
  const marker = `end-of-work-${randomUUID()}`
  let buffered = ''
  let started!: () => void
  let finished!: () => void
  const monitoring = new Promise<void>((resolve) => {
    started = resolve
  })
  const seen = new Promise<void>((resolve) => {
    finished = resolve
  })
  socket.on('data', (chunk) => {
    buffered += chunk.toString('latin1')
    let end = buffered.indexOf('\r\n')
    for (; end !== -1; end = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      if (line === '+OK') started()
      const entry = /^\+[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line)
      if (!entry) continue
      const [source, args] = [entry[1]!, parseQuoted(entry[2]!)]
      const name = args[0]?.toLowerCase()
      if (name === 'eval' || name === 'evalsha')
        runs.push({ keys: args.slice(3, 3 + Number(args[2])), commands: [] })
      else if (source === 'lua') runs.at(-1)?.commands.push(args)
      else if (name === 'echo' && args[1] === marker) finished()
    }
  })
  socket.write('MONITOR\r\n')
  try {
    await monitoring
    await work()
    await raw.echo(marker)
    await seen
  } finally {
    socket.destroy()
  }
  return runs
}

/** The arguments of a MONITOR line: quoted, with the escapes Redis writes (\\, \", \n, \xhh, …). */
function parseQuoted(text: string): string[] {
  const args: string[] = []
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' }
  for (const [, quoted] of text.matchAll(/"((?:[^"\\]|\\.)*)"/g))
    args.push(
      quoted!.replace(/\\(x[0-9a-f]{2}|.)/g, (_, sequence: string) =>
        sequence.length === 3
          ? String.fromCharCode(Number.parseInt(sequence.slice(1), 16))
          : (escapes[sequence] ?? sequence),
      ),
    )
  return args
}

/** The keys a command names, as Redis itself reads them (`COMMAND GETKEYS`); none for TIME and the like. */
async function keysOf(command: string[]): Promise<string[]> {
  return (raw.call('COMMAND', 'GETKEYS', ...command) as Promise<string[]>).catch(() => [])
}

describe('the Redis store’s scripts', () => {
  it('touch only keys they were given in KEYS, in every step the store takes', async () => {
    const prefix = redis.nextPrefix()
    const store = new RedisStore(redis.url, { prefix, maxSessionsPerUser: 3 })
    try {
      const uid = `user-${randomId()}`
      const runs = await scriptsRunBy(async () => {
        const records = Array.from({ length: 5 }, () => sampleRecord(store, { uid }))
        for (const record of records) await store.create(record)
        const [fourth, fifth] = [records[3]!, records[4]!]
        await store.get(fourth.id)
        await store.update(fourth.id, {
          set: new Map<string, JsonValue>([['a', 1]]),
          unset: ['username'],
          token: {
            tokenHash: 'rotated',
            replaces: fourth.tokenHash,
            previousTokenExpiresAt: Date.now() + 1000,
          },
        })
        await store.list(uid)
        await store.create(sampleRecord(store, { uid }), { replaceOthers: true })
        await store.get(fifth.id)
        await store.deleteAll(uid, { replaced: true })
        // sessions past their deadline by their own metadata
        const [expired, late] = [sampleRecord(store), sampleRecord(store)]
        for (const record of [expired, late]) {
          await store.create(record)
          await raw.hset(sessionKey(prefix, record.id), 'm:active', '0')
        }
        await store.get(expired.id)
        await store.update(late.id, { set: new Map([['late', true]]) })
        // an id made elsewhere: its session names its index itself
        const foreign = sampleRecord(undefined, { id: 'made-elsewhere-id', uid })
        await store.create(foreign)
        await store.get(foreign.id)
        await store.update(foreign.id, { set: new Map([['b', 2]]) })
        await store.delete(foreign.id)
        await store.delete(fourth.id)
      })
      const undeclared: string[] = []
      for (const run of runs)
        for (const command of run.commands)
          for (const key of await keysOf(command))
            if (!run.keys.includes(key))
              undeclared.push(`${command.join(' ')} (declared: ${run.keys.join(' ')})`)
      expect(runs.length).toBeGreaterThan(15)
      expect(undeclared).toEqual([])
    } finally {
      await store.close()
    }
  })

  it('read the time from Redis, so an app server whose clock is a day ahead agrees on every deadline', async () => {
    const store = new RedisStore(redis.url, { prefix: redis.nextPrefix() })
    try {
      const record = sampleRecord(store)
      await store.create(record)
      const realNow = Date.now()
      const ahead = jest.spyOn(Date, 'now').mockReturnValue(realNow + 24 * 3600 * 1000)
      try {
        const read = await store.get(record.id)
        expect(read?.ended).toBeUndefined()
        expect(Math.abs(read!.lastActiveAt - realNow)).toBeLessThan(5000)
        expect(await store.update(record.id, { set: new Map([['n', 1]]) })).toBe(true)
      } finally {
        ahead.mockRestore()
      }
    } finally {
      await store.close()
    }
  })

  describe.each([
    ['a login', 'create'],
    ['a read', 'get'],
    ['a write', 'update'],
    ['a token rotation', 'refresh'],
    ['a logout', 'delete'],
  ] as const)('cost of %s', (_, step) => {
    it('runs as many commands at 2,000 sessions of its uid as at 10', async () => {
      const counts: number[] = []
      for (const held of [10, 2000]) {
        const store = new RedisStore(redis.url, { prefix: redis.nextPrefix(), maxSessionsPerUser: 0 })
        try {
          const uid = `user-${randomId()}`
          const records = Array.from({ length: held }, () => sampleRecord(store, { uid }))
          for (let from = 0; from < held; from += 100)
            await Promise.all(records.slice(from, from + 100).map((record) => store.create(record)))
          const target = records[held - 1]!
          const runs = await scriptsRunBy(async () => {
            if (step === 'create') await store.create(sampleRecord(store, { uid }))
            if (step === 'get') await store.get(target.id)
            if (step === 'update') await store.update(target.id, { set: new Map([['n', 1]]) })
            if (step === 'refresh')
              await store.update(target.id, { token: { tokenHash: 'new', replaces: target.tokenHash } })
            if (step === 'delete') await store.delete(target.id)
          })
          counts.push(runs.reduce((sum, run) => sum + run.commands.length, 0))
        } finally {
          await store.close()
        }
      }
      expect(counts[1]).toBe(counts[0])
    })
  })
})
