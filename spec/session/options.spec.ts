import { resolveOptions, type SessionOptions } from '../../lib/session/options'
import { MemoryStore } from '../../lib/stores/memory/memory-store'
import type { Store } from '../../lib/stores/store'

const secret = 'test-secret-that-is-long-enough-0123456789'

describe('resolveOptions()', () => {
  it('applies the seed defaults and secure cookie defaults', () => {
    const store = new MemoryStore({ heartbeat: 0 })
    expect(resolveOptions({ secret, store })).toEqual({
      name: '_cookie_vars',
      header: '_cookie_vars',
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' },
      maxAge: 3600,
      lifetime: 0,
      secret: [secret],
      store,
      singleSession: false,
      refreshGrace: 0,
      saveOnServerError: false,
      maxSessionBytes: 65536,
      persistent: true,
      recordDevice: true,
    })
  })

  it('leaves the caller’s object untouched and freezes the result', () => {
    const input: SessionOptions = { secret, cookie: { path: '/x' } }
    const copy = structuredClone(input)
    const resolved = resolveOptions(input)
    expect(input).toEqual(copy)
    expect(Object.isFrozen(resolved)).toBe(true)
  })

  it.each<[string, SessionOptions]>([
    ['name', { name: 'bad name' }],
    ['header', { header: 'bad header' }],
    ['maxAge', { maxAge: -1 }],
    ['maxAge', { maxAge: 1.5 }],
    ['lifetime', { lifetime: Number.NaN }],
    ['refreshGrace', { refreshGrace: -5 }],
    ['singleSession', { singleSession: 'yes' as never }],
    ['cookie.sameSite', { cookie: { sameSite: 'Lax' as never } }],
    ['cookie.secure', { cookie: { secure: 'yes' as never } }],
    ['cookie.sameSite', { cookie: { sameSite: 'none', secure: false } }],
    ['secret', { secret: 'short' }],
    ['secret', { secret: [] }],
    ['store', { store: {} as Store }],
    ['name', { name: 123 as never }],
    ['header', { header: true as never }],
    ['maxAge', { maxAge: 2 ** 32 + 1 }],
    ['lifetime', { lifetime: 2 ** 31 }],
    ['refreshGrace', { refreshGrace: Number.POSITIVE_INFINITY }],
    ['saveOnServerError', { saveOnServerError: 1 as never }],
    ['maxSessionBytes', { maxSessionBytes: -1 }],
    ['maxSessionBytes', { maxSessionBytes: 1.5 }],
    ['cookie.domain', { cookie: { domain: 'bad domain;' } }],
    ['cookie.path', { cookie: { path: '/a;b' } }],
    ['cookie.priority', { cookie: { priority: 'urgent' as never } }],
    ['cookie.httpOnly', { cookie: { httpOnly: 'yes' as never } }],
    ['cookie.', { cookie: { maxage: 5 } as never }],
    ['"sekret"', { sekret: 'x' } as never],
    ['"maxage"', { maxage: 5 } as never],
    ['secret', { secret: ' '.repeat(40) }],
    ['secret', { secret: 'a'.repeat(40) }],
  ])('throws a TypeError naming option %s', (option, input) => {
    expect(() => resolveOptions({ secret, ...input })).toThrow(
      new RegExp(`option ${option.replace('.', '\\.')}`),
    )
    expect(() => resolveOptions({ secret, ...input })).toThrow(
      // the message names the value, or for an unknown key the known ones
      /got |known ones|every key|a key must|at least one key|Store interface|valid cookie|needs cookie.secure/,
    )
    expect(() => resolveOptions({ secret, ...input })).toThrow(TypeError)
  })

  it.each(['constructor', '__proto__', 'toString'])('takes %s as a name like another', (name) => {
    expect(resolveOptions({ secret, name }).name).toBe(name)
  })

  it('gives a SameSite=None cookie Secure even where secure is auto', () => {
    expect(resolveOptions({ secret, cookie: { sameSite: 'none' } }).cookie).toMatchObject({ secure: 'auto' })
  })

  it('requires a secret for any store but the memory store', () => {
    const shared = {
      create: async () => {},
      get: async () => undefined,
      update: async () => false,
      delete: async () => {},
    }
    expect(() => resolveOptions({ store: shared })).toThrow(/option secret is required/)
  })

  it('requires a per-user store for singleSession', () => {
    const plain = {
      create: async () => {},
      get: async () => undefined,
      update: async () => false,
      delete: async () => {},
    }
    expect(() => resolveOptions({ secret, store: plain, singleSession: true })).toThrow(
      /option singleSession/,
    )
  })

  it('generates a random key for the memory store, warning once', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      const first = resolveOptions({})
      const second = resolveOptions({})
      expect(first.secret[0]).toHaveLength(43)
      expect(second.secret[0]).not.toBe(first.secret[0])
      expect(warn.mock.calls.length).toBeLessThanOrEqual(1)
    } finally {
      warn.mockRestore()
    }
  })
})
