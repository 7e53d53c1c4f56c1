// Compiled by `npm run lint`, never run: proves that the public types accept good use and that
// misuse fails to compile (each @ts-expect-error must meet an error, or tsc fails).
import express from 'express'
import {
  csrfGuard,
  type JsonValue,
  login,
  MemoryStore,
  type RequestWithSession,
  requireSession,
  type Session,
  SessionError,
  type SessionErrorName,
  SessionManager,
  sessionMiddleware,
} from '../../lib/index'

declare module '../../lib/index' {
  interface SessionData {
    username: string
    count: number
    cart: { sku: string; quantity: number }[]
  }
}

const app = express()
app.use(sessionMiddleware({ secret: 'x'.repeat(32), store: new MemoryStore({ capacity: 10 }) }))
app.post(
  '/login',
  login(async () => ({ uid: 'user123', values: { username: 'test' } })),
)
app.post(
  '/login-form',
  express.json(),
  login(async (req) =>
    req.body.password === 'demo' ? { uid: String(req.body.user), values: { count: 0 } } : null,
  ),
)
app.post(
  '/login-bad',
  // @ts-expect-error values must match the declared SessionData
  login(async () => ({ uid: 'u', values: { count: 'zero' } })),
)

app.get('/me', requireSession(), (req, res) => {
  const name: string | undefined = req.session.get('username')
  const count: number = req.session.getNumber('count')
  req.session.set('count', count + 1)
  req.session.update({ username: 'renamed', cart: [{ sku: 'a', quantity: 1 }] })
  // @ts-expect-error an undeclared key
  req.session.get('password')
  // @ts-expect-error a value of the wrong type
  req.session.set('count', 'one')
  // @ts-expect-error a function is no JSON value
  req.session.set('username', () => 'x')
  res.json({ name, count })
})

// Flash values, promotion and remember-me are typed by the same SessionData.
app.post('/flashy', async (req, res) => {
  req.session.flash('username', 'flashed')
  const taken: string | undefined = req.session.takeFlash('username')
  // @ts-expect-error a flash value of the wrong type
  req.session.flash('count', 'one')
  // @ts-expect-error an undeclared flash key
  req.session.takeFlash('password')
  await req.session.create('ada', { count: 0 }, { keep: ['cart'], persistent: false })
  const anonymous: boolean = req.session.anonymous
  res.json({ taken, anonymous })
})
app.post(
  '/login-remembered',
  login(async () => ({ uid: 'u', keep: ['cart'] as const, persistent: true })),
)

// Without declared keys, any JSON value under any key, and nothing else.
declare const untyped: Session
untyped.set('anything', { nested: [1, 'two', null] })
// @ts-expect-error undefined is no JSON value
untyped.set('anything', undefined)
// @ts-expect-error a bigint is no JSON value
untyped.set('anything', 10n)
const value: JsonValue | undefined = untyped.get('anything')

// SessionManager and what it returns carry the app's SessionData, as req.session does.
const sessions = new SessionManager({ secret: 'x'.repeat(32), touchInterval: 30 })
async function onSocket(token: string) {
  const session = await sessions.verify(token)
  const count: number | undefined = session.get('count')
  session.set('count', (count ?? 0) + 1)
  // @ts-expect-error a value of the wrong type
  session.set('count', 'one')
  const live: boolean = await session.touch()
  const { session: created, token: issued } = await sessions.create('ada', { username: 'Ada' })
  // @ts-expect-error values must match the declared SessionData
  await sessions.create('ada', { username: 1 })
  sessions.on('ended', ({ id, uid, reason }) => [id, uid, reason === 'logout'])
  // @ts-expect-error no such reason
  sessions.on('ended', ({ reason }) => reason === 'deleted')
  return [live, created.get('username'), issued]
}
declare const upgraded: RequestWithSession
// @ts-expect-error an undeclared key, on a request outside Express too
upgraded.session?.get('password')
// @ts-expect-error touchInterval is seconds as a number
new SessionManager({ touchInterval: '1m' })

// @ts-expect-error maxAge is seconds as a number
sessionMiddleware({ maxAge: '1h' })
// @ts-expect-error sameSite takes lower-case names
sessionMiddleware({ cookie: { sameSite: 'Lax' } })

app.use(csrfGuard({ trustedOrigins: ['https://admin.example.com'], allowSameSite: false }))
// @ts-expect-error trustedOrigins is a list
csrfGuard({ trustedOrigins: 'https://admin.example.com' })

const csrf: SessionErrorName = 'CSRF_REJECTED'
const name: SessionErrorName = new SessionError('SESSION_EXPIRED', 'x').error
// @ts-expect-error an unknown error name
new SessionError('SESSION_GONE', 'x')

export { csrf, name, onSocket, value }
