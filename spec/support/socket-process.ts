// A second app server for the cross-process tests, forked by socket-server-process.ts: the ws or
// the socket.io example (KIND) on a RedisStore, its store calls counted, answering over IPC.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSocketIoExample } from '../../examples/socketio'
import { createSocketExample } from '../../examples/websocket'
import { SessionManager } from '../../lib/index'
import { RedisStore } from '../../lib/redis'
import { countingStore } from './stores'

const store = countingStore(new RedisStore(process.env.REDIS_URL!, { prefix: process.env.PREFIX! }))
const sessions = new SessionManager({ secret: process.env.SECRET!, store })
const server: Server =
  process.env.KIND === 'socketio' ? createSocketIoExample(sessions).server : createSocketExample(sessions)

process.on('message', async (message: { type: string }) => {
  if (message.type === 'reads') process.send!({ type: 'reads', count: store.calls.get })
  if (message.type === 'stop') {
    server.closeAllConnections()
    server.close()
    await sessions.close()
    await store.close()
    process.exit(0)
  }
})
// the test process is gone: nothing else would stop this one
process.on('disconnect', () => process.exit(0))

server.listen(0, '127.0.0.1', () =>
  process.send!({ type: 'listening', port: (server.address() as AddressInfo).port }),
)
