import net from 'node:net'

/**
 * Sends raw request bytes over a socket and resolves the status line's code, or `undefined` when
 * the server closed without an answer. For requests no HTTP client would send: control
 * characters, duplicate or enormous headers.
 */
export function rawRequest(port: number, head: Buffer | string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let response = ''
    socket.on('data', (chunk) => {
      response += chunk.toString('latin1')
    })
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(undefined) : reject(error),
    )
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(response)
      resolve(match ? Number(match[1]) : undefined)
    })
    socket.end(head)
  })
}
