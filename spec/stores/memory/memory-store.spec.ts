import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { hashSecret } from '../../../lib/core/token'
import type { JsonValue } from '../../../lib/core/values'
import { TimeColumn } from '../../../lib/stores/memory/engine/time-column'
import { MemoryStore, type MemoryStoreOptions } from '../../../lib/stores/memory/memory-store'
import type { SessionEvent, SessionRecord } from '../../../lib/stores/store'
import { describeStoreContract } from '../../../lib/stores/testing'

describeStoreContract('MemoryStore', () => new MemoryStore(), { close: (store) => store.close() })

const record = (id: string, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
  id,
  uid: `uid-${id}`,
  tokenHash: 'hash',
  createdAt: Date.now(),
  lastActiveAt: Date.now(),
  maxAge: 60,
  lifetime: 0,
  values: new Map([['n', 0]]),
  ...overrides,
})

describe('MemoryStore', () => {
  let store: MemoryStore
  afterEach(async () => {
    await store.close()
    jest.useRealTimers()
    jest.restoreAllMocks()
  })

  it('refuses a bad capacity, heartbeat or maxSessionsPerUser with a TypeError naming the option', () => {
    store = new MemoryStore({ heartbeat: 0 })
    const refusals = (options: MemoryStoreOptions) => () => new MemoryStore(options)
    expect(refusals({ capacity: 0 })).toThrow(/option capacity/)
    expect(refusals({ heartbeat: -1 })).toThrow(/option heartbeat/)
    for (const maxSessionsPerUser of [-1, 1.5, Number.NaN, '3' as unknown as number])
      expect(refusals({ maxSessionsPerUser })).toThrow(/option maxSessionsPerUser/)
    expect(refusals({ maxSessionsPerUser: -1 })).toThrow(TypeError)
  })

  it('refuses a heartbeat longer than a Node timer can wait, instead of sweeping every millisecond', () => {
    store = new MemoryStore({ heartbeat: 2_147_483 })
    expect(() => new MemoryStore({ heartbeat: 2_147_484 })).toThrow(TypeError)
    expect(() => new MemoryStore({ heartbeat: Number.POSITIVE_INFINITY })).toThrow(/option heartbeat/)
  })

  it('counts anonymous sessions against capacity but never against a per-user limit, nor in a uid index', async () => {
    store = new MemoryStore({ capacity: 3, heartbeat: 0, maxSessionsPerUser: 1 })
    const evicted: SessionEvent[] = []
    store.on('evicted', (event) => evicted.push(event))
    const anonymous = (id: string) => {
      const { uid: _uid, ...rest } = record(id)
      return rest
    }
    for (const id of ['a', 'b']) await store.create(anonymous(id))
    expect([store.size, evicted]).toEqual([2, []])
    await store.create(record('c'))
    await store.create(anonymous('d'))
    expect(evicted).toEqual([{ id: 'a', uid: '', reason: 'capacity' }])
    expect([(await store.get('b'))?.uid, (await store.get('c'))?.uid]).toEqual([undefined, 'uid-c'])
    expect(await store.list('')).toEqual([])
    expect(await store.deleteAll('')).toBe(0)
    expect(store.size).toBe(3)
  })

  it('lists the device of each session, also after the slab grew', async () => {
    store = new MemoryStore({ heartbeat: 0, capacity: 100 })
    // enough sessions that the slab grows (and relinks) past its first 64 slots
    for (let index = 0; index < 100; index++)
      await store.create(
        record(`s${index}`, { uid: 'ada', userAgent: `agent ${index}`, address: '10.0.0.1' }),
      )
    const listed = await store.list('ada')
    expect(listed.length).toBe(100)
    expect(listed.every(({ id, userAgent }) => userAgent === `agent ${id.slice(1)}`)).toBe(true)
  })

  it('evicts the least recently active session past capacity, with an event', async () => {
    store = new MemoryStore({ capacity: 3, heartbeat: 0 })
    const evicted: string[] = []
    const reasons: unknown[] = []
    store.on('evicted', ({ id, reason }) => {
      evicted.push(id)
      reasons.push(reason)
    })
    for (const id of ['a', 'b', 'c']) await store.create(record(id))
    await store.get('a')
    await store.create(record('d'))
    expect(evicted).toEqual(['b'])
    expect(reasons).toEqual(['capacity'])
    expect([store.size, await store.get('b')]).toEqual([3, undefined])
    expect((await store.get('a'))?.id).toBe('a')
  })

  describe('maxSessionsPerUser', () => {
    it('ends the least recently active session of the uid that logs in past it, never another uid’s', async () => {
      jest.useFakeTimers()
      store = new MemoryStore({ heartbeat: 0, maxSessionsPerUser: 3 })
      const evicted: SessionEvent[] = []
      store.on('evicted', (event) => evicted.push(event))
      await store.create(record('bob-1', { uid: 'bob' }))
      for (const id of ['alice-1', 'alice-2', 'alice-3']) {
        jest.advanceTimersByTime(1000)
        await store.create(record(id, { uid: 'alice' }))
      }
      jest.advanceTimersByTime(1000)
      store.get('alice-1')
      await store.create(record('alice-4', { uid: 'alice' }))
      expect(evicted).toEqual([{ id: 'alice-2', uid: 'alice', reason: 'per-user limit' }])
      expect((await store.list('alice')).map((summary) => summary.id).sort()).toEqual([
        'alice-1',
        'alice-3',
        'alice-4',
      ])
      expect(store.get('bob-1')?.uid).toBe('bob')
    })

    it('holds 100 sessions a uid by default, and any number with 0', async () => {
      store = new MemoryStore({ heartbeat: 0 })
      const unlimited = new MemoryStore({ heartbeat: 0, maxSessionsPerUser: 0 })
      for (let index = 0; index < 150; index++) {
        await store.create(record(`s${index}`, { uid: 'guest' }))
        await unlimited.create(record(`s${index}`, { uid: 'guest' }))
      }
      expect([(await store.list('guest')).length, (await unlimited.list('guest')).length]).toEqual([100, 150])
      await unlimited.close()
    })

    it('counts neither the markers of replaced sessions nor sessions that ended', async () => {
      store = new MemoryStore({ heartbeat: 0, maxSessionsPerUser: 2 })
      const evicted: string[] = []
      store.on('evicted', ({ id }) => evicted.push(id))
      await store.create(record('a', { uid: 'u' }))
      await store.create(record('b', { uid: 'u' }), { replaceOthers: true })
      await store.create(record('c', { uid: 'u' }))
      await store.delete('c')
      await store.create(record('d', { uid: 'u' }))
      expect([evicted, store.get('a')?.ended, store.get('b')?.uid]).toEqual([[], 'replaced', 'u'])
    })
  })

  describe('at capacity', () => {
    it.each([
      ['with the default per-user limit', {}],
      ['with no per-user limit', { maxSessionsPerUser: 0 }],
    ])(
      'lets no uid push the others out: 10,300 logins of one uid leave every other session alive (%s)',
      async (_, options) => {
        store = new MemoryStore({ heartbeat: 0, capacity: 10_240, ...options })
        const others = Array.from({ length: 20 }, (_, index) =>
          record(`user-${index}`, { uid: `user-${index}` }),
        )
        for (const other of others) await store.create(other)
        const evicted: SessionEvent[] = []
        store.on('evicted', (event) => evicted.push(event))
        for (let index = 0; index < 10_300; index++)
          await store.create(record(`guest-${index}`, { uid: 'guest' }))
        for (const other of others) expect(store.get(other.id)?.uid).toBe(other.uid)
        expect(evicted.every((event) => event.uid === 'guest')).toBe(true)
        expect(store.get('guest-10299')?.uid).toBe('guest')
      },
    )

    it('evicts the least recently active session of the store for a uid within its share', async () => {
      jest.useFakeTimers()
      store = new MemoryStore({ heartbeat: 0, capacity: 4, maxSessionsPerUser: 0 })
      const evicted: SessionEvent[] = []
      store.on('evicted', (event) => evicted.push(event))
      for (const [id, uid] of [
        ['a', 'alice'],
        ['b', 'bob'],
        ['c', 'carol'],
        ['c2', 'carol'],
      ] as const) {
        jest.advanceTimersByTime(1000)
        await store.create(record(id, { uid }))
      }
      // four sessions of three uids: a share is 4/3 sessions, so carol (2) is over it and dave is not
      await store.create(record('d', { uid: 'dave' }))
      await store.create(record('c3', { uid: 'carol' }))
      expect(evicted).toEqual([
        { id: 'a', uid: 'alice', reason: 'capacity' },
        { id: 'c', uid: 'carol', reason: 'capacity' },
      ])
    })
  })

  it('emits created, destroyed and expired with the ids', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 10 })
    const events: string[] = []
    for (const name of ['created', 'destroyed', 'expired', 'evicted'] as const)
      store.on(name, ({ id, uid }) => events.push(`${name}:${id}:${uid}`))
    await store.create(record('a'))
    await store.create(record('b'))
    await store.delete('a')
    jest.advanceTimersByTime(70_000)
    expect(events).toEqual(['created:a:uid-a', 'created:b:uid-b', 'destroyed:a:uid-a', 'expired:b:uid-b'])
  })

  it('sweeps on its heartbeat in slices of about a millisecond, yielding a turn between them', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'performance'] })
    store = new MemoryStore({ capacity: 20_000, heartbeat: 10 })
    for (let index = 0; index < 10_000; index++) await store.create(record(`old-${index}`))
    jest.setSystemTime(Date.now() + 61_000)
    // a clock that moves 0.01 ms each time the sweep looks at it, once per 32 sessions removed
    let clock = 0
    jest.spyOn(performance, 'now').mockImplementation(() => (clock += 0.01))
    jest.advanceTimersByTime(10_000)
    const removedInFirstSlice = 10_000 - store.size
    expect(removedInFirstSlice).toBeGreaterThanOrEqual(32 * (1 / 0.01 - 2))
    expect(removedInFirstSlice).toBeLessThanOrEqual(32 * (1 / 0.01 + 2))
    let turns = 0
    while (store.size > 0 && turns < 100) {
      await new Promise(setImmediate)
      turns++
    }
    expect([store.size, turns]).toEqual([0, Math.ceil(10_000 / removedInFirstSlice) - 1])
  })

  it('sweeps at a cost that follows the sessions it removes, not those it holds', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ capacity: 200_000, heartbeat: 0 })
    for (let index = 0; index < 10; index++) await store.create(record(`short-${index}`, { maxAge: 1 }))
    jest.setSystemTime(Date.now() + 1000)
    for (let index = 0; index < 100_000; index++)
      await store.create(record(`live-${index}`, { maxAge: 3600 }))
    const visited = jest.spyOn(TimeColumn.prototype, 'idleDeadline')
    store.sweep()
    expect([store.size, await store.get('short-0')]).toEqual([100_000, undefined])
    // a look or two at each of the 10 it removes, and one at the first live session: not 100,000
    expect(visited.mock.calls.length).toBeLessThanOrEqual(2 * 10 + 1)
    visited.mockRestore()
    jest.setSystemTime(Date.now() + 3600_000)
    store.sweep()
    expect(store.size).toBe(0)
  })

  it('sweeps on when an expired listener ends or reads other sessions meanwhile', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 0 })
    store.on('expired', ({ uid }) => {
      void store.deleteAll(uid)
      store.get('c')
    })
    for (const id of ['a', 'b', 'c'])
      await store.create(record(id, { uid: id === 'c' ? 'v' : 'u', maxAge: 1 }))
    jest.setSystemTime(Date.now() + 5000)
    expect(() => store.sweep()).not.toThrow()
    expect([store.size, await store.list('u'), await store.list('v')]).toEqual([0, [], []])
  })

  it('removes sessions at their lifetime even while they stay active', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 10 })
    await store.create(record('a', { maxAge: 60, lifetime: 100 }))
    for (let step = 0; step < 5; step++) {
      jest.advanceTimersByTime(30_000)
      await store.get('a')
    }
    expect(store.size).toBe(0)
  })

  it('sweeps by lifetime the sessions in creation order, whatever took a freed slot', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 0 })
    await store.create(record('a', { maxAge: 0, lifetime: 100 }))
    jest.advanceTimersByTime(5_000)
    await store.create(record('x', { maxAge: 0, lifetime: 100 }))
    await store.delete('a')
    jest.advanceTimersByTime(5_000)
    // b takes a's slot: a's place in the creation order, ahead of x, is no longer b's
    await store.create(record('b', { maxAge: 0, lifetime: 100 }))
    jest.advanceTimersByTime(96_000)
    store.sweep()
    expect([await store.get('x'), await store.get('b')]).toMatchObject([undefined, { id: 'b' }])
    jest.advanceTimersByTime(5_000)
    store.sweep()
    expect(store.size).toBe(0)
  })

  it('sweeps by lifetime past a slot that now holds a session without one', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 0 })
    await store.create(record('a', { maxAge: 0, lifetime: 100 }))
    await store.delete('a')
    // same millisecond, same slot, no lifetime: a's entry now names a session that never ends by lifetime
    await store.create(record('b', { maxAge: 0, lifetime: 0 }))
    await store.create(record('c', { maxAge: 0, lifetime: 100 }))
    jest.advanceTimersByTime(101_000)
    store.sweep()
    expect([store.size, await store.get('b')]).toMatchObject([1, { id: 'b' }])
  })

  it('never keeps the process alive with its heartbeat', () => {
    store = new MemoryStore({ heartbeat: 0 })
    const script =
      "import { MemoryStore } from './lib/stores/memory/memory-store'; new MemoryStore({ heartbeat: 1 }); console.log('done')"
    const output = execFileSync(join('node_modules', '.bin', 'tsx'), ['-e', script], { timeout: 15_000 })
    expect(output.toString().trim()).toBe('done')
  })

  it('stops sweeping after close()', async () => {
    jest.useFakeTimers()
    store = new MemoryStore({ heartbeat: 10 })
    await store.create(record('a'))
    await store.close()
    jest.advanceTimersByTime(120_000)
    expect(store.size).toBe(1)
  })

  it('answers get and update synchronously, sparing each request a promise', async () => {
    store = new MemoryStore({ heartbeat: 0 })
    await store.create(record('a'))
    expect(store.update('a', { set: new Map([['n', 1]]), unset: ['gone'] })).toBe(true)
    expect(store.get('a')?.values.get('n')).toBe(1)
    expect(store.get('missing')).toBeUndefined()
    expect(store.update('missing', { set: new Map([['n', 1]]) })).toBe(false)
  })

  it('never changes the values a read answered: an update builds new ones (copy-on-write)', async () => {
    store = new MemoryStore({ heartbeat: 0 })
    const values = new Map<string, JsonValue>([
      ['n', 0],
      ['user', 'u'],
    ])
    await store.create(record('a', { values }))
    const snapshot = await store.get('a')
    await store.update('a', { set: new Map([['n', 1]]), unset: ['user'] })
    expect(Object.fromEntries(snapshot?.values ?? [])).toEqual({ n: 0, user: 'u' })
    expect((await store.get('a'))?.values.get('n')).toBe(1)
  })

  it('keeps every write when more sessions are written than it holds decoded', async () => {
    // 3,000 sessions written in turn outnumber the 1,024 kept decoded: most writes reach the
    // stored JSON only when another session takes their place
    store = new MemoryStore({ heartbeat: 0, capacity: 5000 })
    const ids = Array.from({ length: 3000 }, (_, index) => `session-${index}`)
    for (const id of ids) await store.create(record(id))
    for (let round = 1; round <= 3; round++)
      for (const id of ids) expect(store.update(id, { set: new Map([['n', round]]) })).toBe(true)
    for (const id of ids) expect(store.get(id)?.values.get('n')).toBe(3)
  })

  it('gives a session never the unstored values of the one that had its place before', async () => {
    store = new MemoryStore({ heartbeat: 0, capacity: 1 })
    await store.create(record('old'))
    store.update('old', { set: new Map([['n', 41]]) })
    await store.create(record('new', { values: new Map([['fresh', true]]) }))
    expect(store.get('old')).toBeUndefined()
    expect([...store.get('new')!.values]).toEqual([['fresh', true]])
  })

  describe('what one session costs another', () => {
    const MARK = 'a value of the large session'
    const written = (spy: jest.SpyInstance) =>
      spy.mock.results
        .filter((result) => typeof result.value === 'string')
        .map((result) => result.value as string)

    it('never serialises or parses another session’s values on a read or a write', async () => {
      store = new MemoryStore({ heartbeat: 0, capacity: 5000 })
      const large = new Map<string, JsonValue>(
        Array.from({ length: 1000 }, (_, index) => [`k${index}`, MARK]),
      )
      await store.create(record('large', { values: large }))
      store.update('large', { set: new Map([['k0', `${MARK}, changed`]]) })
      store.get('large')
      // more sessions than the store keeps parsed, so that some take the large session's place
      const others = Array.from({ length: 3000 }, (_, index) => `other-${index}`)
      for (const id of others) await store.create(record(id))
      const stringify = jest.spyOn(JSON, 'stringify')
      const parse = jest.spyOn(JSON, 'parse')
      for (const [index, id] of others.entries()) {
        store.get(id)
        store.update(id, { set: new Map([['n', index]]) })
      }
      expect(written(stringify).filter((json) => json.includes(MARK))).toEqual([])
      expect(parse.mock.calls.filter(([text]) => String(text).includes(MARK))).toEqual([])
      expect(store.get('large')?.values.get('k0')).toBe(`${MARK}, changed`)
    })

    it('serialises only the key a write sets, however large the session', async () => {
      store = new MemoryStore({ heartbeat: 0 })
      const values = new Map<string, JsonValue>(
        Array.from({ length: 1000 }, (_, index) => [`k${index}`, { list: [index, MARK] }]),
      )
      await store.create(record('large', { values }))
      store.get('large')
      const stringify = jest.spyOn(JSON, 'stringify')
      expect(store.update('large', { set: new Map([['k1', { list: [-1] }]]) })).toBe(true)
      expect(written(stringify).join('').length).toBeLessThan(50)
      stringify.mockRestore()
      expect(store.get('large')?.values.get('k1')).toEqual({ list: [-1] })
      expect(store.get('large')?.values.get('k2')).toEqual({ list: [2, MARK] })
    })
  })

  it('keeps uids and values of any alphabet and size, whether it holds them as bytes or as strings', async () => {
    store = new MemoryStore({ heartbeat: 0 })
    const wide = 'nutzer-ü-😀'
    const long = 'x'.repeat(5_000)
    await store.create(record('a', { uid: wide, values: new Map([['note', long]]) }))
    await store.create(record('b', { uid: 'Łukasz', values: new Map([['name', 'Ł']]) }))
    await store.create(record('c', { uid: 'Aukasz' }))
    expect(store.get('a')?.uid).toBe(wide)
    expect(store.get('a')?.values.get('note')).toBe(long)
    expect((await store.list(wide)).map((summary) => summary.id)).toEqual(['a'])
    expect((await store.list('Łukasz')).map((summary) => summary.id)).toEqual(['b'])
    expect(store.get('b')?.values.get('name')).toBe('Ł')
    expect(await store.deleteAll('Aukasz')).toBe(1)
    expect([store.get('b')?.uid, store.get('c')]).toEqual(['Łukasz', undefined])
  })

  it('answers the uid of the session that holds a place now, not of the one it evicted', async () => {
    store = new MemoryStore({ heartbeat: 0, capacity: 1 })
    const evicted: string[] = []
    store.on('evicted', ({ uid }) => evicted.push(uid))
    await store.create(record('a', { uid: 'first' }))
    expect(store.get('a')?.uid).toBe('first')
    await store.create(record('b', { uid: 'second' }))
    expect([store.get('b')?.uid, evicted]).toEqual(['second', ['first']])
  })

  it('answers the current token hash of a session read before its token rotated or its place was reused', async () => {
    store = new MemoryStore({ heartbeat: 0, capacity: 1 })
    await store.create(record('a', { tokenHash: hashSecret('first') }))
    expect(store.get('a')?.tokenHash).toBe(hashSecret('first'))
    store.update('a', { token: { tokenHash: hashSecret('second'), replaces: hashSecret('first') } })
    expect(store.get('a')?.tokenHash).toBe(hashSecret('second'))
    store.update('a', { token: { tokenHash: 'not-canonical', replaces: hashSecret('second') } })
    expect(store.get('a')?.tokenHash).toBe('not-canonical')
    await store.create(record('b', { tokenHash: hashSecret('third') }))
    expect(store.get('b')?.tokenHash).toBe(hashSecret('third'))
  })
})
