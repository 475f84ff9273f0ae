/**
 * @module delivery/log-streams/syslog/tcp-syslog-sink
 * Log sink writing RFC 5424 messages over TCP with octet-counting framing (RFC 6587 §3.4.1), as
 * rsyslog (`imtcp`), syslog-ng, Fluent Bit and Vector accept.
 *
 * Plain syslog has no acknowledgement, and a write that succeeded only means the kernel took the
 * bytes: a receiver that resets the connection can lose what was still in its buffers. So each
 * batch uses its own connection and a close handshake confirms it:
 * 1. connect; write every frame of the batch; half-close (FIN) once all of it is written;
 * 2. the batch is accepted when the receiver then closes its side cleanly, which it does after
 *    reading up to our FIN (every receiver above ends a session at end of stream);
 * 3. a refused connection, a reset (a receiver closing with unread data resets), a close from the
 *    receiver before our FIN was sent, or no close within `timeoutMs` fails the batch, and the
 *    streamer sends it whole again (on a new connection) after its backoff.
 * The residual gap: a receiver that closes a just-accepted connection (FIN) after our FIN left but
 * before our data arrived is taken for a confirmation.
 */
import { connect, type Socket } from 'node:net'
import { LogSinkError, type LogRecordInput, type LogSink } from '../log-sink.js'
import { formatSyslogMessage, octetCountingFrame, type SyslogHeader } from '../syslog-message.js'

export const DEFAULT_SYSLOG_TIMEOUT_MS = 30_000

export interface TcpSyslogSinkOptions {
  readonly host: string
  readonly port: number
  readonly header: SyslogHeader
  /** Bound of one batch: connect, write and the receiver's close. Default 30 s. */
  readonly timeoutMs?: number
  readonly name?: string
}

export class TcpSyslogSink implements LogSink {
  readonly name: string
  readonly #options: TcpSyslogSinkOptions
  readonly #timeoutMs: number
  readonly #open = new Set<Socket>()

  constructor(options: TcpSyslogSinkOptions) {
    this.name = options.name ?? 'syslog'
    this.#options = options
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_SYSLOG_TIMEOUT_MS
  }

  async send(records: readonly LogRecordInput[]): Promise<void> {
    if (records.length === 0) return
    const payload = Buffer.concat(
      records.map((r) => octetCountingFrame(formatSyslogMessage(r, this.#options.header))),
    )
    const socket = connect({
      host: this.#options.host,
      port: this.#options.port,
      allowHalfOpen: true,
    })
    this.#open.add(socket)
    try {
      await this.#deliver(socket, payload)
    } catch (error) {
      const where = `tcp://${this.#options.host}:${this.#options.port}`
      const text = error instanceof Error ? error.message : String(error)
      throw new LogSinkError(this.name, `${where}: ${text}`, { cause: error })
    } finally {
      this.#open.delete(socket)
      socket.destroy()
    }
  }

  /** Destroys connections of a batch in flight (which then fails). */
  close(): Promise<void> {
    for (const socket of this.#open) socket.destroy()
    this.#open.clear()
    return Promise.resolve()
  }

  #deliver(socket: Socket, payload: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let connected = false
      let finished = false
      const settle = (error?: Error): void => {
        clearTimeout(timer)
        socket.removeAllListeners()
        // A late error on the socket must not go unhandled after the promise settled.
        socket.on('error', () => undefined)
        if (error === undefined) resolve()
        else reject(error)
      }
      const timer = setTimeout(
        () =>
          settle(
            new Error(
              connected
                ? `the receiver did not close the connection within ${this.#timeoutMs} ms`
                : `connect timed out after ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      )
      socket.on('error', (error) =>
        settle(new Error(`${connected ? 'connection' : 'connect'} failed: ${error.message}`)),
      )
      socket.on('data', () => undefined)
      socket.on('end', () =>
        finished
          ? settle()
          : settle(new Error('the receiver closed the connection before the batch was sent')),
      )
      socket.on('close', () => settle(new Error('connection closed before the receiver confirmed')))
      socket.once('connect', () => {
        connected = true
        socket.setNoDelay(true)
        socket.end(payload, () => {
          finished = true
        })
      })
    })
  }
}
