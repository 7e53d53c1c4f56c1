// The profile page's live panel: a WebSocket at /live that shows counter changes as they happen
// and tells the page at once when its session ends.
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import { type ManagedSession, SessionError, type SessionManager } from '../lib/index'
import { shortId } from './views'
import { closeCode, endedError } from './websocket'

/** What the panel's socket is sent. */
export type LiveMessage =
  | { type: 'count'; session: string; current: boolean; count: number }
  | { type: 'ended'; code: number; error: string; reason: string }

/** The path the panel's script opens. */
export const LIVE_PATH = '/live'

/**
 * The sockets of the profile pages that are open, by session and by user. The app tells it of
 * each counter change (`counted`), which goes to every page of that user; a session that ends,
 * by any route or in another process, gets `ended` and a close with code 4000 + the error code.
 */
export class LivePanel {
  readonly #sessions: SessionManager
  readonly #bySession = new Map<string, Set<WebSocket>>()
  readonly #byUser = new Map<string, Set<WebSocket>>()
  readonly #sessionOf = new WeakMap<WebSocket, string>()
  readonly #server = new WebSocketServer({ noServer: true })

  constructor(sessions: SessionManager) {
    this.#sessions = sessions
    sessions.on('ended', ({ id, reason }) => {
      const error = endedError(reason)
      const message: LiveMessage = { type: 'ended', code: error.code, error: error.error, reason }
      for (const ws of this.#bySession.get(id) ?? []) {
        ws.send(JSON.stringify(message))
        ws.close(closeCode(error), `${error.error} ${reason}`)
      }
    })
  }

  /** Serves the panel's sockets on `server`, beside the app that answers its HTTP requests. */
  attach(server: Server): void {
    server.on('upgrade', (req, socket, head) => void this.#upgrade(req, socket, head))
  }

  /** Closes every open panel socket (code 1001, going away), as a server that shuts down does. */
  close(): void {
    for (const ws of this.#server.clients) ws.close(1001, 'server shutting down')
    this.#server.close()
  }

  /** Tells every open page of `uid` that session `sessionId` now counts `count`. */
  counted(uid: string, sessionId: string, count: number): void {
    for (const ws of this.#byUser.get(uid) ?? []) {
      const current = this.#sessionOf.get(ws) === sessionId
      const message: LiveMessage = { type: 'count', session: shortId(sessionId), current, count }
      ws.send(JSON.stringify(message))
    }
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== LIVE_PATH) return void socket.destroy()
    // the demo's own origin only (plain http on loopback): no other site's page may open it as the user
    const origins = req.headers.host === undefined ? [] : [`http://${req.headers.host}`]
    let session: ManagedSession | SessionError
    try {
      session = await this.#sessions.verifyRequest(req, { origins })
    } catch (error) {
      session = error as SessionError
    }
    this.#server.handleUpgrade(req, socket, head, (ws) => {
      const refusal = refusalOf(session)
      if (refusal) return ws.close(closeCode(refusal), refusal.error)
      const { id, uid } = session as ManagedSession & { id: string; uid: string }
      this.#sessionOf.set(ws, id)
      add(this.#bySession, id, ws)
      add(this.#byUser, uid, ws)
      ws.on('close', () => {
        remove(this.#bySession, id, ws)
        remove(this.#byUser, uid, ws)
      })
    })
  }
}

/** Why a socket may not join the panel: no signed-in session (an anonymous one has no user to follow). */
function refusalOf(session: ManagedSession | SessionError): SessionError | undefined {
  if (session instanceof SessionError) return session
  if (session.uid !== undefined) return undefined
  if (session.anonymous) return new SessionError('SESSION_NOT_CREATED', 'this session is anonymous; sign in')
  return session.error ?? new SessionError('TOKEN_EMPTY', 'no session token was presented; sign in')
}

function add(map: Map<string, Set<WebSocket>>, key: string, ws: WebSocket): void {
  map.set(key, (map.get(key) ?? new Set()).add(ws))
}

function remove(map: Map<string, Set<WebSocket>>, key: string, ws: WebSocket): void {
  const set = map.get(key)
  set?.delete(ws)
  if (set?.size === 0) map.delete(key)
}
