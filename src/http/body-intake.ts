/**
 * @module http/body-intake
 * What request bodies may cost the server, whatever the route (ingest batches above all):
 * - Memory: the bytes of the request bodies in flight (admitted and not yet answered) stay within
 *   `maxInFlightBodyBytes`. A body that would exceed it is answered 503 `OCTS.0504` with
 *   `Retry-After`: before it is read when its Content-Length tells, else as soon as the chunks
 *   received cross the bound. A lone body is always admitted, so every batch within the body limit
 *   can get through.
 * - Answers given before the body is read (413, 401, 503...): once the answer is sent, the rest of
 *   the body is read and discarded, up to DRAIN_LIMIT_BYTES, so that clients still sending receive
 *   the answer instead of a reset, and the connection stays usable. Past that bound the connection
 *   is closed. The request timeout also bounds the time this takes.
 * Every stream put on a body has an error listener (`pipeBody`): no request may end the process.
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OpenCtsError } from '../errors/index.js'
import { markAnswered } from './client-errors.js'

/** Body bytes read and discarded after an early answer before the connection is closed. */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024
/** `Retry-After` of the 503 answered beyond the in-flight bound, seconds. */
export const PUSHBACK_RETRY_AFTER_SECONDS = 1

/** Counts the body bytes in flight against a bound. */
export class BodyBudget {
  readonly limit: number
  #inFlight = 0

  constructor(limit: number) {
    this.limit = limit
  }

  get inFlight(): number {
    return this.#inFlight
  }

  /** Takes `bytes` if they fit (always when nothing is in flight); false when they do not. */
  tryTake(bytes: number): boolean {
    if (this.#inFlight > 0 && this.#inFlight + bytes > this.limit) return false
    this.#inFlight += bytes
    return true
  }

  give(bytes: number): void {
    this.#inFlight = Math.max(0, this.#inFlight - bytes)
  }
}

function ignore(): void {}

/**
 * Pipes a request body into `through` so that no error goes unheard: the source's errors are passed
 * on and `through` always has a listener (nobody reads the body of a GET).
 */
export function pipeBody<T extends Transform>(source: Readable, through: T): T {
  source.on('error', (error) => through.destroy(error))
  through.on('error', ignore)
  return source.pipe(through)
}

function pushback(): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_PUSHBACK', {
    message:
      'The server is overloaded: too many request bodies in flight; retry the request later.',
    retryAfter: PUSHBACK_RETRY_AFTER_SECONDS,
  })
}

/** Counts the bytes of a body (read by Fastify as `receivedEncodedLength`) and takes them as they come. */
class BodyMeter extends Transform {
  readonly #take: (total: number) => boolean
  receivedEncodedLength = 0

  constructor(take: (total: number) => boolean) {
    super()
    this.#take = take
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.receivedEncodedLength += chunk.length
    if (!this.#take(this.receivedEncodedLength)) callback(pushback())
    else callback(null, chunk)
  }
}

interface Reservation {
  taken: number
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Body bytes this request holds in the in-flight budget; null without a body. */
    bodyReservation: Reservation | null
  }
}

function declaredLength(request: FastifyRequest): number | null {
  const value = request.headers['content-length']
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null
  return Number(value)
}

function hasBody(request: FastifyRequest): boolean {
  return request.headers['transfer-encoding'] !== undefined || (declaredLength(request) ?? 0) > 0
}

/** After an early answer: reads and discards the rest of the body, closing past the bound. */
function discardRest(request: FastifyRequest): void {
  const raw = request.raw
  if (raw.complete || raw.destroyed || raw.readableEnded) return
  const socket = raw.socket
  markAnswered(socket, true)
  raw.unpipe()
  raw.removeAllListeners('data')
  let discarded = 0
  raw.on('data', (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > DRAIN_LIMIT_BYTES) socket.destroy()
  })
  raw.once('end', () => markAnswered(socket, false))
  raw.on('error', ignore)
  raw.resume()
}

/**
 * Registers the in-flight bound (after authentication, so that refused credentials are answered
 * first) and the discarding of unread bodies.
 */
export function registerBodyIntake(
  app: FastifyInstance,
  options: { readonly maxInFlightBodyBytes: number; readonly bodyLimit: number },
): BodyBudget {
  const budget = new BodyBudget(options.maxInFlightBodyBytes)
  app.decorateRequest('bodyReservation', null)

  app.addHook('onRequest', async (request, reply) => {
    if (!hasBody(request)) return
    const declared = declaredLength(request)
    // Over the body limit: refused (413) before a byte is read, so nothing to take.
    const wanted = declared !== null && declared <= options.bodyLimit ? declared : 0
    if (wanted > 0 && !budget.tryTake(wanted)) throw pushback()
    const reservation: Reservation = { taken: wanted }
    request.bodyReservation = reservation
    reply.raw.once('close', () => {
      budget.give(reservation.taken)
      reservation.taken = 0
    })
  })

  app.addHook('preParsing', async (request, _reply, payload) => {
    const reservation = request.bodyReservation
    if (reservation === null) return payload
    const meter = new BodyMeter((total) => {
      if (total <= reservation.taken) return true
      if (!budget.tryTake(total - reservation.taken)) return false
      reservation.taken = total
      return true
    })
    return pipeBody(payload, meter)
  })

  app.addHook('onSend', async (request, reply) => {
    // Fastify (or a client's `Connection: close`) would close the connection right after an early
    // answer, and the unread body then turns the close into a reset the client sees instead of the
    // answer. The connection is kept until the rest is discarded (below); the client may close it.
    if (request.raw.complete) return
    if (reply.getHeader('connection') === 'close') void reply.removeHeader('connection')
    reply.raw.shouldKeepAlive = true
  })

  app.addHook('onResponse', async (request) => {
    discardRest(request)
  })
  return budget
}
