/**
 * A TCP proxy between an app and Redis that counts round trips: one turn is a burst of bytes from
 * the client followed by the server's reply, however many TCP segments or pipelined commands
 * either side used. Sequential requests through it give exact round trips per request.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

export interface ProxyCounts {
  turns: number
  clientBytes: number
  serverBytes: number
  connections: number
}

export class CountingProxy {
  readonly counts: ProxyCounts = { turns: 0, clientBytes: 0, serverBytes: 0, connections: 0 }
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  port = 0

  private constructor(targetPort: number) {
    this.#server = createServer((client) => this.#relay(client, targetPort))
  }

  static async start(targetPort: number): Promise<CountingProxy> {
    const proxy = new CountingProxy(targetPort)
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve))
    const address = proxy.#server.address()
    proxy.port = typeof address === 'object' && address ? address.port : 0
    return proxy
  }

  snapshot(): ProxyCounts {
    return { ...this.counts }
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise((resolve) => this.#server.close(resolve))
  }

  #relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1')
    this.counts.connections++
    this.#sockets.add(client)
    this.#sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    let awaitingReply = false
    client.on('data', (chunk: Buffer) => {
      this.counts.clientBytes += chunk.length
      awaitingReply = true
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      this.counts.serverBytes += chunk.length
      if (awaitingReply) this.counts.turns++
      awaitingReply = false
      client.write(chunk)
    })
    const close = () => {
      client.destroy()
      upstream.destroy()
      this.#sockets.delete(client)
      this.#sockets.delete(upstream)
    }
    client.on('close', close)
    upstream.on('close', close)
    client.on('error', close)
    upstream.on('error', close)
  }
}
