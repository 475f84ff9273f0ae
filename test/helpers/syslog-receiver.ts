/**
 * Test helper: an RFC 5424 parser written from the RFC's ABNF (independent of the sink's
 * formatter), an RFC 6587 octet-counting deframer, and syslog receivers on 127.0.0.1 (TCP, UDP).
 */
import { createSocket } from 'node:dgram'
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface ParsedSyslog {
  readonly pri: number
  readonly facility: number
  readonly severity: number
  readonly version: number
  readonly timestamp: string
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly msgId: string
  readonly sd: { readonly id: string; readonly params: Record<string, string> }[]
  /** MSG without its BOM; null when the message has none. */
  readonly msg: string | null
  readonly bom: boolean
  readonly bytes: number
}

/** Parses one SYSLOG-MSG; throws on anything the RFC 5424 grammar does not allow. */
export function parseSyslog(buffer: Buffer): ParsedSyslog {
  const text = buffer.toString('utf8')
  const head = /^<(\d{1,3})>(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text)
  if (head === null) throw new Error(`not an RFC 5424 header: ${text.slice(0, 80)}`)
  const [, pri = '', version = '', timestamp = '', hostname = '', appName = '', procId = ''] = head
  const msgId = head[7] ?? ''
  let i = head[0].length
  const sd: ParsedSyslog['sd'] = []
  if (text[i] === '-') i++
  else {
    while (text[i] === '[') {
      i++
      const idEnd = text.slice(i).search(/[ \]]/)
      if (idEnd < 0) throw new Error('unterminated SD-ID')
      const id = text.slice(i, i + idEnd)
      i += idEnd
      const params: Record<string, string> = {}
      while (text[i] === ' ') {
        i++
        const eq = text.indexOf('="', i)
        if (eq < 0) throw new Error('PARAM without ="')
        const name = text.slice(i, eq)
        if (!/^[\x21-\x7e]{1,32}$/.test(name) || /[= \]"]/.test(name))
          throw new Error(`bad PARAM-NAME ${name}`)
        i = eq + 2
        let value = ''
        for (;;) {
          const c = text[i]
          if (c === undefined) throw new Error('unterminated PARAM-VALUE')
          if (c === '"') break
          if (c === ']') throw new Error('unescaped ] in PARAM-VALUE')
          if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\' || text[i + 1] === ']')) {
            value += text[i + 1]
            i += 2
          } else {
            value += c
            i++
          }
        }
        i++
        params[name] = value
      }
      if (text[i] !== ']') throw new Error(`SD element not closed at ${i}`)
      i++
      sd.push({ id, params })
    }
    if (sd.length === 0) throw new Error('STRUCTURED-DATA is neither - nor an element')
  }
  let msg: string | null = null
  let bom = false
  if (i < text.length) {
    if (text[i] !== ' ') throw new Error(`garbage after STRUCTURED-DATA at ${i}`)
    msg = text.slice(i + 1)
    if (msg.startsWith('\ufeff')) {
      bom = true
      msg = msg.slice(1)
    }
  }
  const p = Number(pri)
  return {
    pri: p,
    facility: Math.floor(p / 8),
    severity: p % 8,
    version: Number(version),
    timestamp,
    hostname,
    appName,
    procId,
    msgId,
    sd,
    msg,
    bom,
    bytes: buffer.length,
  }
}

/** Splits an octet-counted stream (RFC 6587 §3.4.1) into frames; keeps the incomplete tail. */
export class OctetCountingDeframer {
  #buffer = Buffer.alloc(0)

  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    const frames: Buffer[] = []
    for (;;) {
      const space = this.#buffer.indexOf(0x20)
      if (space < 0) break
      const lengthText = this.#buffer.subarray(0, space).toString('ascii')
      if (!/^[1-9]\d*$/.test(lengthText)) throw new Error(`bad MSG-LEN ${lengthText}`)
      const end = space + 1 + Number(lengthText)
      if (this.#buffer.length < end) break
      frames.push(this.#buffer.subarray(space + 1, end))
      this.#buffer = this.#buffer.subarray(end)
    }
    return frames
  }
}

export interface TcpReceiverOptions {
  /**
   * Called per frame with the connection's number (0-based) and the frames it has parsed so far;
   * returning `destroy` resets that connection at once (unread data is lost to the client).
   */
  readonly onFrame?: (connection: number, framesOnConnection: number) => 'keep' | 'destroy'
  /** Close a connection when the client ends its stream, as rsyslog does. Default true. */
  readonly closeOnEnd?: boolean
}

export interface SyslogReceiver {
  readonly port: number
  /** Every message received, in arrival order. */
  readonly messages: ParsedSyslog[]
  /** Connections accepted (TCP) so far. */
  connections(): number
  close(): Promise<void>
}

export async function startTcpSyslogReceiver(
  options: TcpReceiverOptions = {},
): Promise<SyslogReceiver> {
  const messages: ParsedSyslog[] = []
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const connection = accepted++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    const deframer = new OctetCountingDeframer()
    let count = 0
    socket.on('data', (chunk) => {
      if (socket.destroyed) return
      for (const frame of deframer.push(chunk)) {
        messages.push(parseSyslog(frame))
        count++
        if (options.onFrame?.(connection, count) === 'destroy') {
          socket.resetAndDestroy()
          return
        }
      }
    })
    // Like rsyslog: end of stream from the client closes the session.
    socket.on('end', () => {
      if (options.closeOnEnd !== false) socket.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

export async function startUdpSyslogReceiver(): Promise<SyslogReceiver> {
  const messages: ParsedSyslog[] = []
  const socket = createSocket('udp4')
  socket.on('message', (datagram) => messages.push(parseSyslog(datagram)))
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  return {
    port: socket.address().port,
    messages,
    connections: () => 0,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
