/**
 * Test helper: HTTP/1.1 over a raw `node:net` socket, byte-exact, so a test can send what no HTTP
 * client would (bad chunks, raw non-ASCII paths, duplicate Content-Length, slow bodies) and see
 * exactly what the server answers: a parsed response, nothing (closed or reset), or a timeout.
 */
import { connect } from 'node:net'

export interface RawResponse {
  readonly status: number
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface RawResult {
  readonly response?: RawResponse
  /** Bytes received that do not form a complete response (a truncated or non-HTTP answer). */
  readonly partial?: string
  /** A socket error (ECONNRESET, EPIPE, ECONNREFUSED), when one happened. */
  readonly error?: string
  /** True when the client gave up waiting (`timeoutMs`) without a complete response. */
  readonly timedOut: boolean
  readonly ms: number
}

/** Bytes to write, or a pause between writes (slow bodies). `end` half-closes the socket. */
export type Piece = Buffer | { readonly pauseMs: number } | 'end'

interface Parsed {
  readonly response: RawResponse
  readonly length: number
}

function parseChunked(data: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = []
  let at = start
  for (;;) {
    const eol = data.indexOf('\r\n', at)
    if (eol < 0) return undefined
    const size = parseInt(data.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isFinite(size)) return undefined
    if (size === 0) {
      const end = data.indexOf('\r\n\r\n', eol)
      return end < 0 ? undefined : { body: Buffer.concat(parts), end: end + 4 }
    }
    if (data.length < eol + 2 + size + 2) return undefined
    parts.push(data.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

/** Parses one response from `data` (skipping 1xx); undefined while incomplete. */
export function parseResponse(data: Buffer, closed: boolean): Parsed | undefined {
  let start = 0
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', start)
    if (headEnd < 0) return undefined
    const lines = data.subarray(start, headEnd).toString('latin1').split('\r\n')
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
    if (match === null) return undefined
    const status = Number(match[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    const bodyStart = headEnd + 4
    if (status >= 100 && status < 200) {
      start = bodyStart
      continue
    }
    let body: Buffer
    let end: number
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunked = parseChunked(data, bodyStart)
      if (chunked === undefined) return undefined
      ;({ body, end } = chunked)
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      if (data.length < bodyStart + length) return undefined
      body = data.subarray(bodyStart, bodyStart + length)
      end = bodyStart + length
    } else if (status === 204 || status === 304) {
      body = Buffer.alloc(0)
      end = bodyStart
    } else {
      if (!closed) return undefined
      body = data.subarray(bodyStart)
      end = data.length
    }
    return { response: { status, headers, body: body.toString('utf8') }, length: end }
  }
}

/**
 * Connects to 127.0.0.1:`port`, writes `pieces` in order, and resolves with the first complete
 * response, or with what happened instead once the server closes or `timeoutMs` passes. Never
 * rejects. Write errors (EPIPE after the server closed) are recorded, and reading goes on.
 */
export function sendRaw(
  port: number,
  pieces: readonly Piece[],
  timeoutMs: number,
): Promise<RawResult> {
  const started = Date.now()
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    let error: string | undefined
    let done = false
    const finish = (closed: boolean, timedOut: boolean): void => {
      if (done) return
      const data = Buffer.concat(chunks)
      const parsed = parseResponse(data, closed)
      if (parsed === undefined && !closed && !timedOut) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({
        ...(parsed === undefined ? {} : { response: parsed.response }),
        ...(parsed === undefined && data.length > 0
          ? { partial: data.toString('latin1').slice(0, 300) }
          : {}),
        ...(error === undefined ? {} : { error }),
        timedOut: parsed === undefined && timedOut,
        ms: Date.now() - started,
      })
    }
    const timer = setTimeout(() => finish(false, true), timeoutMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      finish(false, false)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? err.message
      finish(true, false)
    })
    socket.on('close', () => finish(true, false))
    socket.on('connect', () => {
      void (async () => {
        for (const piece of pieces) {
          if (done || socket.destroyed) return
          if (piece === 'end') socket.end()
          else if (Buffer.isBuffer(piece)) {
            // In 64 KiB writes, so that an early answer is read between them, as clients do.
            for (let at = 0; at < piece.length && !done && !socket.destroyed; at += 65_536) {
              const part = piece.subarray(at, at + 65_536)
              await new Promise<void>((written) => socket.write(part, () => written()))
            }
          } else await new Promise((wait) => setTimeout(wait, piece.pauseMs))
        }
      })()
    })
  })
}
