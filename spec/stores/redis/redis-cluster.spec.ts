import { Cluster } from 'ioredis'
import { randomId } from '../../../lib/core/token'
import { indexKey, sessionKey, userHandle } from '../../../lib/stores/redis/key-layout'
import { RedisStore } from '../../../lib/stores/redis/redis-store'
import type { SessionRecord } from '../../../lib/stores/store'
import { describeStoreContract, sampleRecord } from '../../../lib/stores/testing'
import { hasRedisServer, RedisCluster } from '../../support/redis-server'

/** The Cluster needs redis-server on PATH; with only REDIS_URL given, these tests are skipped. */
const describeCluster = hasRedisServer || !process.env.REDIS_URL ? describe : describe.skip

describeCluster('RedisStore on a Redis Cluster of three masters with a replica each', () => {
  let cluster: RedisCluster
  let client: Cluster
  let count = 0
  const nextPrefix = () => `cluster-${++count}`

  beforeAll(async () => {
    cluster = await RedisCluster.start({ replicas: 1 })
    client = new Cluster(cluster.startupNodes)
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve)
      client.once('error', reject)
    })
  }, 60_000)

  afterAll(async () => {
    await client?.quit()
    await cluster?.stop()
  })

  describeStoreContract('RedisStore on a Cluster', () => new RedisStore(client, { prefix: nextPrefix() }))

  const newRecord = (store: RedisStore, uid = `user-${randomId()}`) => sampleRecord(store, { uid })

  const slotOf = async (key: string) => Number(await client.cluster('KEYSLOT', key))
  const indexOf = (prefix: string, uid: string) => indexKey(prefix, userHandle(prefix, uid))

  it('puts a session and the index of its user in one slot', async () => {
    const prefix = nextPrefix()
    const store = new RedisStore(client, { prefix })
    for (const uid of ['alice', 'bob@example.com', '{curly}', 'ünïcode', '']) {
      const record = newRecord(store, uid)
      await store.create(record)
      expect(await slotOf(sessionKey(prefix, record.id))).toBe(await slotOf(indexOf(prefix, uid)))
      expect(await client.zscore(indexOf(prefix, uid), record.id)).not.toBeNull()
    }
  })

  it('spreads the sessions of different users over every master', async () => {
    const prefix = nextPrefix()
    const store = new RedisStore(client, { prefix })
    const records = Array.from({ length: 60 }, () => newRecord(store))
    await Promise.all(records.map((record) => store.create(record)))
    const perNode = await Promise.all(
      client.nodes('master').map(async (node) => (await node.keys(`${prefix}:*:s:*`)).length),
    )
    expect(perNode.length).toBe(3)
    expect(perNode.every((keys) => keys > 0)).toBe(true)
    expect(perNode.reduce((sum, keys) => sum + keys, 0)).toBe(60)
  })

  it('replaces and lists the sessions of a user in one step each, whichever master holds them', async () => {
    const store = new RedisStore(client, { prefix: nextPrefix() })
    const uid = `user-${randomId()}`
    const [first, second, third] = [newRecord(store, uid), newRecord(store, uid), newRecord(store, uid)]
    await store.create(first)
    await store.create(second)
    await store.create(third, { replaceOthers: true })
    expect([(await store.get(first.id))?.ended, (await store.get(second.id))?.ended]).toEqual([
      'replaced',
      'replaced',
    ])
    expect((await store.list(uid)).map((summary) => summary.id)).toEqual([third.id])
    expect(await store.deleteAll(uid)).toBe(1)
  })

  it('waits for the replica of the master that holds the session, with waitForReplicas', async () => {
    const prefix = nextPrefix()
    const store = new RedisStore(client, { prefix, waitForReplicas: 1, timeout: 500 })
    const records = Array.from({ length: 30 }, () => newRecord(store))
    for (const record of records) await store.create(record)
    const masterOf = async (record: SessionRecord & { uid: string }) =>
      cluster.masterOf(await slotOf(indexOf(prefix, record.uid)))
    const held = await Promise.all(records.map(masterOf))
    const stalled = await cluster.replicaOf(held[0]!)
    cluster.node(stalled).pause()
    try {
      const outcomes = await Promise.all(
        records.map((record) =>
          store.update(record.id, { set: new Map([['n', 1]]) }).then(
            () => 'written',
            (error: { code?: number }) => `failed ${error.code}`,
          ),
        ),
      )
      expect(outcomes).toEqual(held.map((master) => (master === held[0] ? 'failed 210' : 'written')))
    } finally {
      cluster.node(stalled).resume()
    }
  })

  it('refuses, writing nothing, a session whose id it did not make (its tag names another slot)', async () => {
    const prefix = nextPrefix()
    const store = new RedisStore(client, { prefix })
    const record = newRecord(store)
    do record.id = randomId()
    while ((await slotOf(sessionKey(prefix, record.id))) === (await slotOf(indexOf(prefix, record.uid))))
    await expect(store.create(record)).rejects.toMatchObject({ code: 210, error: 'STORE_UNAVAILABLE' })
    expect(await client.exists(sessionKey(prefix, record.id))).toBe(0)
  })
})
