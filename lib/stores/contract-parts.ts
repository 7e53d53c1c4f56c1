/**
 * Parts of the store contract suite (testing.ts) that need only a store and records: the sessions
 * made around a login (anonymous ones, browser-session cookies, the device a login records), and
 * the per-user operations.
 */
import { randomId } from '../core/token'
import { isUserSessionStore, type SessionRecord, type Store, type UserSessionStore } from './store'

/** The test functions of Jest or Vitest with globals, as the suite uses them. */
export interface TestGlobals {
  describe: (name: string, body: () => void) => void
  it: (name: string, body: () => Promise<void>) => void
  beforeEach: (body: () => Promise<void>) => void
  afterEach: (body: () => Promise<void>) => void
  expect: (value: unknown) => {
    toEqual(expected: unknown): void
    toBe(expected: unknown): void
    toBeUndefined(): void
    toBeGreaterThanOrEqual(expected: number): void
    not: { toBe(expected: unknown): void }
  }
}

/** What a part of the suite works with: the test functions, the store of the current test, records. */
export interface ContractContext {
  globals: TestGlobals
  name: string
  store: () => Store
  newRecord: (overrides?: Partial<SessionRecord>) => SessionRecord & { uid: string }
}

const HOUR = 3600

/** An anonymous session as a request's first write makes it: no uid. */
function anonymousRecord(
  { newRecord }: ContractContext,
  overrides: Partial<SessionRecord> = {},
): SessionRecord {
  const { uid: _uid, ...record } = newRecord(overrides)
  return { ...record, id: randomId() }
}

/** Anonymous sessions, browser-session cookies and devices: what every store keeps as it is given. */
export function describeAroundLoginContract(context: ContractContext): void {
  const { it, expect } = context.globals
  const store = context.store

  it('keeps an anonymous session (no uid) like any other, and gives it back without a uid', async () => {
    const record = anonymousRecord(context)
    await store().create(record)
    const read = await store().get(record.id)
    expect(read?.uid).toBeUndefined()
    expect(Object.fromEntries(read?.values ?? [])).toEqual({ username: 'test' })
    expect(await store().update(record.id, { set: new Map([['cart', ['book']]]) })).toBe(true)
    expect((await store().get(record.id))?.values.get('cart')).toEqual(['book'])
    await store().delete(record.id)
    expect(await store().get(record.id)).toBeUndefined()
  })

  it('never serves an anonymous session past its idle deadline', async () => {
    const past = Date.now() - (HOUR + 5) * 1000
    const record = anonymousRecord(context, { createdAt: past, lastActiveAt: past })
    await store().create(record)
    const read = await store().get(record.id)
    expect(read === undefined || read.ended === 'expired').toBe(true)
  })

  it('gives back persistent: false on every read, and nothing for a persistent session', async () => {
    const brief = context.newRecord({ persistent: false })
    const lasting = context.newRecord()
    await store().create(brief)
    await store().create(lasting)
    expect((await store().get(brief.id))?.persistent).toBe(false)
    expect((await store().get(lasting.id))?.persistent).toBeUndefined()
    await store().update(brief.id, { set: new Map([['n', 1]]) })
    expect((await store().get(brief.id))?.persistent).toBe(false)
  })

  it('lists the device each session was made on, and no anonymous session', async () => {
    const users = store()
    if (!isUserSessionStore(users)) return
    const uid = `user-${randomId()}`
    const phone = context.newRecord({ uid, userAgent: 'Mobile Safari', address: '203.0.113.7' })
    const bare = context.newRecord({ uid, createdAt: Date.now() + 1 })
    await store().create(phone)
    await store().create(bare)
    await store().create(anonymousRecord(context))
    const listed = await users.list(uid)
    expect(listed.map(({ id, userAgent, address }) => [id, userAgent, address])).toEqual([
      [phone.id, 'Mobile Safari', '203.0.113.7'],
      [bare.id, undefined, undefined],
    ])
  })
}

/** The per-user operations, for a store with `list` and `deleteAll`. */
export function describePerUserContract(context: ContractContext): void {
  const { describe, it, expect } = context.globals
  const { name, newRecord } = context
  describe('per-user operations', () => {
    const userStore = (): UserSessionStore => {
      const store = context.store()
      if (!isUserSessionStore(store)) throw new Error(`${name} has no list/deleteAll`)
      return store
    }

    it('lists the live sessions of one user only, oldest first, without tokens', async () => {
      const uid = `user-${randomId()}`
      const first = newRecord({ uid, createdAt: Date.now() - 2000 })
      const second = newRecord({ uid })
      await context.store().create(first)
      await context.store().create(second)
      await context.store().create(newRecord())
      const listed = await userStore().list(uid)
      expect(listed.map((summary) => summary.id)).toEqual([first.id, second.id])
      expect(JSON.stringify(listed).includes(first.tokenHash)).toBe(false)
    })

    it('ends all sessions of a user but the one kept', async () => {
      const uid = `user-${randomId()}`
      const kept = newRecord({ uid })
      const others = [newRecord({ uid }), newRecord({ uid })]
      for (const record of [kept, ...others]) await context.store().create(record)
      expect(await userStore().deleteAll(uid, { except: kept.id })).toBe(2)
      expect((await userStore().list(uid)).map((summary) => summary.id)).toEqual([kept.id])
      for (const record of others) expect(await context.store().get(record.id)).toBeUndefined()
    })

    it('leaves markers that read as replaced when asked to', async () => {
      const uid = `user-${randomId()}`
      const old = newRecord({ uid })
      await context.store().create(old)
      const fresh = newRecord({ uid })
      await context.store().create(fresh, { replaceOthers: true })
      expect((await context.store().get(old.id))?.ended).toBe('replaced')
      expect(await context.store().update(old.id, { set: new Map([['late', true]]) })).toBe(false)
      expect((await userStore().list(uid)).map((summary) => summary.id)).toEqual([fresh.id])
    })

    it('lists nothing for a user whose sessions all ended', async () => {
      const uid = `user-${randomId()}`
      const record = newRecord({ uid })
      await context.store().create(record)
      await context.store().delete(record.id)
      expect(await userStore().list(uid)).toEqual([])
      expect(await userStore().deleteAll(uid)).toBe(0)
    })
  })
}
