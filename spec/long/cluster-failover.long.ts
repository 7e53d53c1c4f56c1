/**
 * Redis Cluster failover: three masters with a replica each, started here, under steady writes
 * and reads of 60 sessions. One master is killed (SIGKILL). Sessions on the other masters keep
 * being answered; those on the failed slots fail with 210 within the store's timeout plus a
 * margin until the replica is promoted, then work again through the same client and store (the
 * killed node restarts empty and joins as the new master's replica, which `waitForReplicas` needs).
 * Counts the acknowledged writes the failover lost: asynchronous replication can lose the last
 * ones, and `waitForReplicas: 1` loses none.
 */
import { Cluster } from 'ioredis'
import { isSessionError } from '../../lib/core/errors'
import { randomId } from '../../lib/core/token'
import { indexKey, userHandle } from '../../lib/stores/redis/key-layout'
import { RedisStore } from '../../lib/stores/redis/redis-store'
import type { SessionRecord } from '../../lib/stores/store'
import { sampleRecord } from '../../lib/stores/testing'
import { RedisCluster, sleep } from '../support/redis-server'

const SESSIONS = 60
const TIMEOUT = 1000
/** The store's timeout, plus room for a loaded 2-core machine. */
const BOUND_MS = TIMEOUT + 1000
/** Milliseconds without an answer after which the cluster marks a master failed (and its replica takes over). */
const NODE_TIMEOUT = 2000

interface Reply {
  ok: boolean
  /** Milliseconds since the load started. */
  at: number
  milliseconds: number
  error?: unknown
}

interface Load {
  record: SessionRecord
  master: number
  attempted: number
  acknowledged: number
  replies: Reply[]
}

describe.each([
  ['with asynchronous replication', 0],
  ['with waitForReplicas: 1', 1],
])('a Redis Cluster failover %s', (_, waitForReplicas) => {
  let cluster: RedisCluster
  let client: Cluster
  let store: RedisStore

  beforeAll(async () => {
    cluster = await RedisCluster.start({
      replicas: 1,
      // the other masters keep serving their slots while one is down
      config: [`cluster-node-timeout ${NODE_TIMEOUT}`, 'cluster-require-full-coverage no'],
    })
    client = new Cluster(cluster.startupNodes)
    client.on('error', () => {})
    await new Promise<void>((resolve) => client.once('ready', () => resolve()))
    store = new RedisStore(client, { prefix: 'failover', timeout: TIMEOUT, waitForReplicas })
  }, 120_000)

  afterAll(async () => {
    client?.disconnect()
    await cluster?.stop()
  })

  it('keeps the other masters answering, fails the lost slots within the bound, and recovers', async () => {
    const loads: Load[] = []
    for (let index = 0; index < SESSIONS; index++) {
      const record = sampleRecord(store, { uid: `user-${randomId()}`, values: new Map([['n', 0]]) })
      await store.create(record)
      const slot = Number(
        await client.cluster('KEYSLOT', indexKey('failover', userHandle('failover', record.uid))),
      )
      loads.push({ record, master: await cluster.masterOf(slot), attempted: 0, acknowledged: 0, replies: [] })
    }
    const victim = loads[0]!.master
    const onVictim = loads.filter((load) => load.master === victim)
    const elsewhere = loads.filter((load) => load.master !== victim)

    const started = performance.now()
    const timed = async (call: () => Promise<unknown>): Promise<Reply> => {
      const from = performance.now()
      try {
        await call()
        return { ok: true, at: from - started, milliseconds: performance.now() - from }
      } catch (error) {
        return { ok: false, at: from - started, milliseconds: performance.now() - from, error }
      }
    }
    let running = true
    const traffic = Promise.all(
      loads.map(async (load) => {
        while (running) {
          const n = ++load.attempted
          const write = await timed(async () => {
            if (!(await store.update(load.record.id, { set: new Map([['n', n]]) })))
              throw new Error('not found')
          })
          if (write.ok) load.acknowledged = n
          const read = await timed(async () => {
            if ((await store.get(load.record.id))?.values.get('n') === undefined) throw new Error('not found')
          })
          load.replies.push(write, read)
          await sleep(write.ok && read.ok ? 20 : 100)
        }
      }),
    )

    await sleep(2000)
    const killedAt = performance.now() - started
    await cluster.node(victim).kill()
    // once a replica took its slots over, the killed node comes back empty and joins as its replica
    const survivor = elsewhere[0]!.master
    const victimSlot = Number(
      await client.cluster('KEYSLOT', indexKey('failover', userHandle('failover', onVictim[0]!.record.uid!))),
    )
    while ((await cluster.masterOf(victimSlot, survivor).catch(() => victim)) === victim) await sleep(100)
    const promotedAt = performance.now() - started
    await cluster.node(victim).restart()
    // until every session of the failed master has been answered for 3 s on end, or 40 s at most
    const recovered = () =>
      onVictim.every((load) => {
        const last = load.replies.filter((reply) => !reply.ok).at(-1)
        return last === undefined || performance.now() - started - last.at > 3000
      })
    while (
      performance.now() - started - killedAt < 40_000 &&
      !(performance.now() - started - killedAt > 4000 && recovered())
    )
      await sleep(250)
    running = false
    await traffic

    const after = (load: Load) => load.replies.filter((reply) => reply.at >= killedAt)
    const failedElsewhere = elsewhere.flatMap(after).filter((reply) => !reply.ok)
    const victimReplies = onVictim.flatMap(after)
    const victimFailures = victimReplies.filter((reply) => !reply.ok)
    const lastFailure = Math.max(...victimFailures.map((reply) => reply.at))
    const slowest = Math.max(...victimReplies.map((reply) => reply.milliseconds))
    const wrong = victimFailures.filter((reply) => !isSessionError(reply.error, 'STORE_UNAVAILABLE'))

    let lostWrites = 0
    let sessionsLosing = 0
    for (const load of onVictim) {
      const n = ((await store.get(load.record.id))?.values.get('n') ?? -1) as number
      if (n < load.acknowledged) {
        sessionsLosing++
        lostWrites += load.acknowledged - n
      }
    }
    const acknowledged = onVictim.reduce((sum, load) => sum + load.acknowledged, 0)
    console.log(
      `failover (waitForReplicas ${waitForReplicas}): ${onVictim.length} of ${SESSIONS} sessions on the killed master; ` +
        `replica promoted ${((promotedAt - killedAt) / 1000).toFixed(1)} s after the kill; ` +
        `${victimFailures.length} of their ${victimReplies.length} calls failed, the last ${((lastFailure - killedAt) / 1000).toFixed(1)} s after the kill, ` +
        `slowest ${slowest.toFixed(0)} ms; ${failedElsewhere.length} failures on the other masters; ` +
        `${lostWrites} acknowledged writes lost (of ${acknowledged}, in ${sessionsLosing} sessions)`,
    )

    expect(onVictim.length).toBeGreaterThan(0)
    expect(failedElsewhere).toEqual([])
    expect(victimFailures.length).toBeGreaterThan(0)
    expect(wrong).toEqual([])
    expect(slowest).toBeLessThan(BOUND_MS)
    expect(recovered()).toBe(true)
    if (waitForReplicas > 0) expect(lostWrites).toBe(0)
  })
})
