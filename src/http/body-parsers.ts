/**
 * @module http/body-parsers
 * How request bodies are parsed, for every route at once:
 *
 * - `application/json`: parsed with Fastify's own safe parser (`__proto__`/`constructor` refused).
 *   An empty body is accepted on a route that takes no body (no `body`/`documentedBody` schema): the
 *   official CTS SDKs send `DELETE /v3/{project_id}/trackers?...` with `Content-Type:
 *   application/json` and nothing after it. On a route that takes a body, an empty one is refused
 *   with 400 `CTS.0003`.
 * - any other media type: accepted only when the request declares no body (no `Transfer-Encoding`,
 *   `Content-Length` absent or 0) and the route takes none; otherwise 415 `OCTS.0102`, the body
 *   unread, as before.
 *
 * The ingest route takes its body raw (`registerRawBodyParsers`, in its own plugin): JSON and NDJSON
 * as received, parsed by the ingest worker threads.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { OpenCtsError } from '../errors/index.js'

/** True when the route of `request` takes a body (a validated or a documented body schema). */
export function routeTakesBody(request: FastifyRequest): boolean {
  const schema = request.routeOptions.schema as
    { body?: unknown; documentedBody?: unknown } | undefined
  return schema?.body !== undefined || schema?.documentedBody !== undefined
}

function emptyBody(): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_INVALID_BODY', {
    message: 'The message body is empty; send a JSON object.',
  })
}

function declaresNoBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return (
    request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')
  )
}

export function registerBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8')
      if (text.length > 0) return parseJson(request, text, done)
      if (routeTakesBody(request)) return done(emptyBody(), undefined)
      return done(null, undefined)
    },
  )
  app.addContentTypeParser('*', (request, payload, done) => {
    if (routeTakesBody(request) || !declaresNoBody(request)) {
      done(new OpenCtsError('OCTS_ERR_UNSUPPORTED_MEDIA_TYPE'), undefined)
      return
    }
    // Nothing to read, but let the stream (and a signature's body hash) finish.
    payload.on('error', () => {})
    payload.resume()
    done(null, undefined)
  })
}

/** The media type of NDJSON batches (one JSON value per line). */
export const NDJSON_MEDIA_TYPE = 'application/x-ndjson'

/**
 * A body kept as received (parsed later, off the event loop). The bytes are held in a private
 * field: the JSON nesting check every request body passes (app.ts) sees an object without members
 * instead of walking 12 MB of buffer indexes; the threads bound the nesting of the parsed value.
 */
export class RawBody {
  readonly #bytes: Buffer

  constructor(bytes: Buffer) {
    this.#bytes = bytes
  }

  get bytes(): Buffer {
    return this.#bytes
  }
}

/**
 * JSON and NDJSON bodies as raw bytes, for the routes registered on `scope` (an encapsulated
 * plugin); an empty body is refused as the JSON parser refuses it.
 */
export function registerRawBodyParsers(scope: FastifyInstance, bodyLimit: number): void {
  scope.removeContentTypeParser('application/json')
  scope.addContentTypeParser(
    ['application/json', NDJSON_MEDIA_TYPE],
    { parseAs: 'buffer', bodyLimit },
    (request, body, done) => {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
      if (bytes.length > 0) return done(null, new RawBody(bytes))
      if (routeTakesBody(request)) return done(emptyBody(), undefined)
      return done(null, undefined)
    },
  )
}
