/**
 * A TCP proxy on loopback for tests that cut a connection: `stop()` closes the listener and every
 * connection through it (as a network failure would), `start()` listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'

export class TcpProxy {
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  #port = 0

  constructor(targetHost: string, targetPort: number) {
    this.#target = { host: targetHost, port: targetPort }
  }

  get port(): number {
    return this.#port
  }

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.#target)
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket)
        socket.on('error', () => undefined)
        socket.on('close', () => {
          this.#sockets.delete(socket)
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#port, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    this.#port = address.port
    this.#server = server
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
