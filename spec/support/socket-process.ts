// A second process for the cross-process tests: the ws example on a RedisStore, printing its port.
import type { AddressInfo } from 'node:net'
import { createSocketExample } from '../../examples/websocket'
import { SessionManager } from '../../lib/index'
import { RedisStore } from '../../lib/redis'

const store = new RedisStore(process.env.REDIS_URL!, { prefix: process.env.PREFIX! })
const sessions = new SessionManager({ secret: process.env.SECRET!, store })
const server = createSocketExample(sessions)
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`)
})
