/**
 * A TCP proxy between an app and Redis that counts round trips: one turn is a burst of bytes from
 * the client followed by the server's reply, however many TCP segments or pipelined commands
 * either side used. Sequential requests through it give exact round trips per request. Started
 * with `capture`, it also keeps the bytes the client sent, for a check of what a request carried.
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
  readonly #captured: Buffer[] | undefined
  port = 0

  private constructor(targetPort: number, capture: boolean) {
    this.#server = createServer((client) => this.#relay(client, targetPort))
    this.#captured = capture ? [] : undefined
  }

  static async start(targetPort: number, options: { capture?: boolean } = {}): Promise<CountingProxy> {
    const proxy = new CountingProxy(targetPort, options.capture ?? false)
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve))
    const address = proxy.#server.address()
    proxy.port = typeof address === 'object' && address ? address.port : 0
    return proxy
  }

  snapshot(): ProxyCounts {
    return { ...this.counts }
  }

  /** The bytes clients sent since the last call (empty unless started with `capture`). */
  takeClientBytes(): Buffer {
    const bytes = Buffer.concat(this.#captured ?? [])
    this.#captured?.splice(0)
    return bytes
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
      this.#captured?.push(chunk)
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
