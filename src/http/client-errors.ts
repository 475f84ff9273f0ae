/**
 * @module http/client-errors
 * Requests refused below Fastify, by Node's HTTP parser or server, still get a CTS error body:
 * - parser failures (`clientError`): headers over 16 KB → 431 `OCTS.0103`; a raw non-ASCII byte in
 *   the request line → 400 `OCTS.0400`; headers or whole request not received in time → 408
 *   `OCTS.0104`; any other parser error (request line, method, version, header, duplicate
 *   Content-Length, Content-Length with Transfer-Encoding, bad chunk) → 400 `OCTS.0105` with the
 *   parser's reason. The answer is written on the socket, which is then closed (the parser cannot
 *   resynchronise). Nothing is written once an answer to the request has begun: the socket is only
 *   closed.
 * - an `Expect` other than `100-continue` → 417 `OCTS.0106`; `CONNECT` → 405 `OCTS.0405`.
 * These handlers never throw: no request may end the process.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyBaseLogger } from 'fastify'
import { OpenCtsError } from '../errors/index.js'

/** Sockets whose current request has been answered while its body is still arriving. */
const answeredEarly = new WeakSet<Duplex>()

/** Marks `socket`: its request is answered; a later parser error or timeout only closes it. */
export function markAnswered(socket: Duplex, answered: boolean): void {
  if (answered) answeredEarly.add(socket)
  else answeredEarly.delete(socket)
}

interface ParserError extends Error {
  readonly code?: string | undefined
  readonly reason?: string | undefined
}

/** The CTS error answering a parser failure, or null when nothing can be answered (the peer is gone). */
export function parserFailure(error: ParserError): OpenCtsError | null {
  switch (error.code) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ETIMEDOUT':
      return null
    case 'HPE_HEADER_OVERFLOW':
      return new OpenCtsError('OCTS_ERR_HEADERS_TOO_LARGE')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new OpenCtsError('OCTS_ERR_REQUEST_TIMEOUT')
    case 'HPE_INVALID_URL':
      return new OpenCtsError('OCTS_ERR_BAD_URL', {
        message:
          'The request URL is not valid: it must be printable ASCII (percent-encode other bytes).',
      })
    default: {
      const reason = (error.reason ?? error.code ?? 'unreadable request').replace(
        /[^\x20-\x7e]/g,
        '?',
      )
      return new OpenCtsError('OCTS_ERR_MALFORMED_REQUEST', {
        message: `The request is not valid HTTP/1.1: ${reason}.`,
      })
    }
  }
}

/** A complete HTTP/1.1 answer carrying `error`'s CTS body, announcing the close. */
export function rawAnswer(error: OpenCtsError): string {
  const body = JSON.stringify(error.toBody())
  const status = error.httpStatus
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  )
}

/** Fastify's `clientErrorHandler`: answers parser failures with a CTS body, then closes. */
export function clientErrorHandler(
  this: { readonly log: FastifyBaseLogger },
  error: ParserError,
  socket: Duplex,
): void {
  try {
    const failure = parserFailure(error)
    this.log.debug({ code: error.code, answer: failure?.errorCode ?? null }, 'client error')
    const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
    const answerable =
      failure !== null &&
      !socket.destroyed &&
      socket.writable &&
      !answeredEarly.has(socket) &&
      (current === null || current === undefined || !current.headersSent)
    if (answerable) socket.end(rawAnswer(failure), () => socket.destroy())
    else socket.destroy()
  } catch {
    socket.destroy()
  }
}

function answer(res: ServerResponse, error: OpenCtsError): void {
  const body = JSON.stringify(error.toBody())
  res.writeHead(error.httpStatus, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  })
  res.end(body)
}

/** Answers what Node's server refuses itself (unsupported `Expect`, `CONNECT`) with CTS bodies. */
export function answerServerRefusals(server: Server): void {
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    answer(res, new OpenCtsError('OCTS_ERR_EXPECTATION_FAILED'))
  })
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => undefined)
    if (!socket.writable) {
      socket.destroy()
      return
    }
    const error = new OpenCtsError('OCTS_ERR_METHOD_NOT_ALLOWED', {
      message: 'The method CONNECT is not allowed: OpenCTS is no proxy.',
    })
    socket.end(rawAnswer(error), () => socket.destroy())
  })
}
