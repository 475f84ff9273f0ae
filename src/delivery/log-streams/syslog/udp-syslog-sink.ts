/**
 * @module delivery/log-streams/syslog/udp-syslog-sink
 * Log sink sending RFC 5424 messages over UDP (RFC 5426): one datagram per record, at most 8 KB
 * (larger records are reduced as `../syslog-message.ts` describes; `reduced` counts them).
 *
 * The socket is connected to the receiver, so an ICMP "port unreachable" answer to an earlier
 * datagram fails a later send (ECONNREFUSED) and the batch is sent again. Beyond that UDP says
 * nothing: resolving means the kernel sent every datagram, not that any arrived.
 */
import { createSocket, type Socket } from 'node:dgram'
import { lookup } from 'node:dns/promises'
import { LogSinkError, type LogRecordInput, type LogSink } from '../log-sink.js'
import { syslogDatagram, type SyslogHeader } from '../syslog-message.js'

export interface UdpSyslogSinkOptions {
  readonly host: string
  readonly port: number
  readonly header: SyslogHeader
  readonly name?: string
}

export class UdpSyslogSink implements LogSink {
  readonly name: string
  readonly #options: UdpSyslogSinkOptions
  #socket: Socket | undefined
  #reduced = 0

  constructor(options: UdpSyslogSinkOptions) {
    this.name = options.name ?? 'syslog'
    this.#options = options
  }

  /** Records sent without their bodies or message to fit a datagram, since the start. */
  get reduced(): number {
    return this.#reduced
  }

  async send(records: readonly LogRecordInput[]): Promise<void> {
    if (records.length === 0) return
    const socket = await this.#connection()
    for (const record of records) {
      const { datagram, reduction } = syslogDatagram(record, this.#options.header)
      try {
        await new Promise<void>((resolve, reject) =>
          socket.send(datagram, (error) => (error === null ? resolve() : reject(error))),
        )
      } catch (error) {
        this.#drop(socket)
        throw new LogSinkError(this.name, `send to ${this.#where()} failed: ${message(error)}`, {
          cause: error,
        })
      }
      if (reduction !== 'none') this.#reduced++
    }
  }

  close(): Promise<void> {
    const socket = this.#socket
    this.#socket = undefined
    if (socket === undefined) return Promise.resolve()
    return new Promise((resolve) => socket.close(() => resolve()))
  }

  #where(): string {
    return `udp://${this.#options.host}:${this.#options.port}`
  }

  async #connection(): Promise<Socket> {
    if (this.#socket !== undefined) return this.#socket
    try {
      const { address, family } = await lookup(this.#options.host)
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4')
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.connect(this.#options.port, address, () => {
          socket.off('error', reject)
          resolve()
        })
      }).catch((error: unknown) => {
        socket.close()
        throw error
      })
      // Asynchronous errors (ICMP answers) also fail the next send; only drop the socket here.
      socket.on('error', () => this.#drop(socket))
      this.#socket = socket
      return socket
    } catch (error) {
      throw new LogSinkError(this.name, `connect to ${this.#where()} failed: ${message(error)}`, {
        cause: error,
      })
    }
  }

  #drop(socket: Socket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    try {
      socket.close()
    } catch {
      // Already closed.
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
