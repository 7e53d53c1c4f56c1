// Sessions on socket.io 4: `npx tsx examples/socketio.ts`, then connect to http://localhost:3003
// with the cookie, the `_cookie_vars` header or `auth: { token }` of a login from POST /login.
import type { Server as HttpServer } from 'node:http'
import { Server } from 'socket.io'
import {
  type ManagedSession,
  MemoryStore,
  type SessionError,
  SessionManager,
  type VerifyRequestOptions,
} from '../lib/index'
import { createHttpServer, endedError, notSignedIn } from './websocket'

/** What a refused handshake carries to the client's `connect_error` as `err.data`. */
export interface RefusalData {
  code: number
  error: string
}

/** What the server tells a socket of a session that ended, just before it disconnects it. */
export interface EndedMessage extends RefusalData {
  reason: string
}

/** The events a client sends. */
export interface ClientEvents {
  increment: () => void
}

/** The events the server sends: the session's counter, and why it ended. */
export interface ServerEvents {
  count: (count: number) => void
  ended: (message: EndedMessage) => void
}

interface SocketData {
  session: ManagedSession
}

/** The socket.io server of this example, with its events typed. */
export type SessionIo = Server<ClientEvents, ServerEvents, Record<string, never>, SocketData>

/**
 * Serves socket.io on `server` for the sessions of `sessions`. The handshake is verified once a
 * socket, in `io.use()`, with one store read whatever the transport (polling, then the upgrade
 * to a WebSocket, is one socket): by the cookie or header of the handshake's first request, or
 * else by `handshake.auth.token`. A refusal reaches the client as `connect_error` with the
 * error's name as `message` and `{ code, error }` as `data`. `increment` events write to the
 * session (stored at the end of the tick) and every event slides its expiry; the sockets of a
 * session that ends, here or in another process, are told `ended` and disconnected.
 */
export function attachSocketIo(
  server: HttpServer,
  sessions: SessionManager,
  options: VerifyRequestOptions = {},
): SessionIo {
  const io: SessionIo = new Server(server)

  io.use(async (socket, next) => {
    try {
      let session = await sessions.verifyRequest(socket.request, options)
      const token: unknown = socket.handshake.auth.token
      // only when nothing was presented: a refused cookie or Origin is not retried with another token
      if (session.error?.error === 'TOKEN_EMPTY' && typeof token === 'string' && token !== '')
        session = await sessions.verify(token)
      // signed in means a uid: an anonymous session (a theme picked before login) is refused too
      if (session.uid === undefined || session.id === undefined)
        return next(refusal(session.error ?? notSignedIn()))
      socket.data.session = session
      next()
    } catch (error) {
      next(refusal(error as SessionError))
    }
  })

  io.on('connection', (socket) => {
    const session = socket.data.session
    void socket.join(session.id!)
    socket.use((_event, next) => {
      session.touch().catch(() => undefined)
      next()
    })
    socket.on('increment', () => {
      if (!session.exists) return
      const count = session.getNumber('count') + 1
      session.set('count', count)
      io.local.to(session.id!).emit('count', count)
    })
    socket.emit('count', session.getNumber('count'))
  })

  // every process hears `ended` for its own sockets, so a cluster adapter need not relay it
  sessions.on('ended', ({ id, reason }) => {
    const error = endedError(reason)
    const message: EndedMessage = { code: error.code, error: error.error, reason }
    io.local.to(id).emit('ended', message)
    io.local.in(id).disconnectSockets(true)
  })
  return io
}

/** socket.io's way to carry a refusal to `connect_error`: an Error with `data`. */
function refusal(error: SessionError): Error & { data: RefusalData } {
  return Object.assign(new Error(error.error), { data: { code: error.code, error: error.error } })
}

/** An HTTP app with a login route, and socket.io beside it on the same server. */
export function createSocketIoExample(
  sessions: SessionManager,
  options: VerifyRequestOptions = {},
): { server: HttpServer; io: SessionIo } {
  const server = createHttpServer(sessions)
  return { server, io: attachSocketIo(server, sessions, options) }
}

if (require.main === module) {
  const sessions = new SessionManager({
    secret: process.env.SESSION_SECRET ?? 'dev-only-secret-at-least-32-characters!',
    store: new MemoryStore(),
  })
  const port = Number(process.env.PORT ?? 3003)
  createSocketIoExample(sessions, { origins: [`http://localhost:${port}`] }).server.listen(port, () =>
    console.log(`listening on http://localhost:${port}, socket.io on the same port`),
  )
}
