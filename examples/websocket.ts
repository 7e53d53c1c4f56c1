// Sessions on WebSockets (`ws`): `npx tsx examples/websocket.ts`, then open ws://localhost:3002/socket
// with the cookie or the `_cookie_vars` header of a login from POST /login.
import { createServer, type Server } from 'node:http'
import express from 'express'
import { type WebSocket, WebSocketServer } from 'ws'
import {
  type EndReason,
  login,
  type ManagedSession,
  MemoryStore,
  SessionError,
  SessionManager,
  type VerifyRequestOptions,
} from '../lib/index'

/** The close code of a refusal or an end: 4000 + the SessionError code (4205, 4209, 4214...). */
export function closeCode(error: SessionError): number {
  return 4000 + error.code
}

const ENDED_AS = new Map<EndReason, SessionError>([
  ['replaced', new SessionError('SESSION_REPLACED', 'the session was replaced by a newer login')],
  ['expired', new SessionError('SESSION_EXPIRED', 'the session expired')],
])

/** The SessionError a socket of a session that ended is told: SESSION_REPLACED, SESSION_EXPIRED or SESSION_NOT_EXIST. */
export function endedError(reason: EndReason): SessionError {
  return ENDED_AS.get(reason) ?? new SessionError('SESSION_NOT_EXIST', `the session ended: ${reason}`)
}

/** Why a socket of an anonymous session (no login yet) is refused. */
export function notSignedIn(): SessionError {
  return new SessionError('SESSION_NOT_CREATED', 'this session is anonymous; log in first')
}

/**
 * Serves WebSockets on `server` at `/socket` for the sessions of `sessions`: the upgrade is
 * verified with one store read; a refused one is accepted and closed at once with code
 * 4000 + the error's code and its name as the reason, which a browser can read (an HTTP 401
 * to an upgrade reaches it only as code 1006). Messages `{ "type": "increment" }` write to the
 * session (stored at the end of the tick) and slide its expiry; every socket of a session that
 * ends, here or in another process, is closed.
 */
export function attachWebSockets(
  server: Server,
  sessions: SessionManager,
  options: VerifyRequestOptions = {},
): WebSocketServer {
  const sockets = new Map<string, Set<WebSocket>>()
  const wss = new WebSocketServer({ noServer: true })

  server.on('upgrade', async (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/socket') return socket.destroy()
    let session: ManagedSession | SessionError
    try {
      session = await sessions.verifyRequest(req, options)
    } catch (error) {
      session = error as SessionError
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // signed in means a uid: an anonymous session (a theme picked before login) is refused too
      if (session instanceof SessionError || session.uid === undefined || session.id === undefined) {
        const error = session instanceof SessionError ? session : (session.error ?? notSignedIn())
        return ws.close(closeCode(error), error.error)
      }
      const id = session.id
      const live = session
      const own = sockets.get(id) ?? new Set()
      sockets.set(id, own.add(ws))
      ws.on('close', () => {
        own.delete(ws)
        if (own.size === 0) sockets.delete(id)
      })
      ws.on('message', (data) => onMessage(ws, live, String(data)))
      ws.send(JSON.stringify({ type: 'count', count: live.getNumber('count') }))
    })
  })

  function onMessage(ws: WebSocket, session: ManagedSession, text: string): void {
    session.touch().catch(() => undefined)
    let message: { type?: unknown }
    try {
      message = JSON.parse(text)
    } catch {
      return ws.close(1003, 'messages are JSON')
    }
    if (message.type !== 'increment') return
    if (!session.exists) return
    const count = session.getNumber('count') + 1
    session.set('count', count)
    for (const other of sockets.get(session.id ?? '') ?? [])
      other.send(JSON.stringify({ type: 'count', count }))
  }

  sessions.on('ended', ({ id, reason }) => {
    const error = endedError(reason)
    for (const ws of sockets.get(id) ?? []) ws.close(closeCode(error), `${error.error} ${reason}`)
  })
  return wss
}

/** The HTTP side both socket examples share: login, the count, logout, on one server not yet listening. */
export function createHttpServer(sessions: SessionManager): Server {
  const app = express()
  app.use(express.json())
  app.use(sessions.middleware())
  app.post(
    '/login',
    login(async (req) =>
      req.body?.password === 'demo' ? { uid: String(req.body.user), values: { count: 0 } } : null,
    ),
  )
  app.get('/count', (req, res) => res.json({ count: req.session.getNumber('count') }))
  app.post('/logout', async (req, res) => {
    if (req.session.exists) await req.session.destroy()
    res.status(204).end()
  })
  return createServer(app)
}

/** An HTTP app with a login route, and WebSockets beside it on the same server. */
export function createSocketExample(sessions: SessionManager, options: VerifyRequestOptions = {}): Server {
  const server = createHttpServer(sessions)
  attachWebSockets(server, sessions, options)
  return server
}

if (require.main === module) {
  const sessions = new SessionManager({
    secret: process.env.SESSION_SECRET ?? 'dev-only-secret-at-least-32-characters!',
    store: new MemoryStore(),
  })
  const port = Number(process.env.PORT ?? 3002)
  createSocketExample(sessions, { origins: [`http://localhost:${port}`] }).listen(port, () =>
    console.log(`listening on http://localhost:${port}, WebSockets on ws://localhost:${port}/socket`),
  )
}
