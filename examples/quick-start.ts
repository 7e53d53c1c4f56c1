// The README's quick start: `npx tsx examples/quick-start.ts`, then the curl calls beside it.
import express from 'express'
import { login, logout, MemoryStore, requireSession, sessionMiddleware } from '../lib/index'

const app = express()
app.use(express.json())
app.use(
  sessionMiddleware({
    secret: process.env.SESSION_SECRET ?? 'dev-only-secret-at-least-32-characters!',
    store: new MemoryStore({ capacity: 10_000 }),
  }),
)

app.post(
  '/login',
  login(async (req) =>
    req.body.password === 'demo'
      ? { uid: req.body.user, values: { username: req.body.user, visits: 0 } }
      : null,
  ),
)
app.get('/me', requireSession(), (req, res) => {
  req.session.set('visits', req.session.getNumber('visits') + 1)
  res.json({ username: req.session.getString('username'), visits: req.session.get('visits') })
})
app.post('/logout', logout())

app.listen(3001, () => console.log('listening on http://localhost:3001'))
