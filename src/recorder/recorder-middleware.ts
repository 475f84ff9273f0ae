/**
 * @module recorder/recorder-middleware
 * The recorder as a middleware of Node's `http` server, `(req, res, next)`, usable from Express,
 * Connect or a plain `createServer` handler (and from Fastify through `@fastify/middie` or an
 * `onRequest` hook calling it with `request.raw`/`reply.raw`). It never reads the request stream
 * itself, so it cannot disturb the application: the request body is taken from `req.body` when a
 * body parser set it; the response is captured by wrapping `res.write`/`res.end` (first bytes
 * only). When the response is finished, the route maps turn the exchange into traces for the
 * reporter queue; recording errors are reported to `onError`, never to the client.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BodyTap, identityOf, type IdentityHeaders } from './capture.js'
import { findDeepNesting } from '../model/index.js'
import {
  MAX_CAPTURE_BYTES,
  buildCatchAllTraces,
  buildTraces,
  isMutating,
  matchRoute,
  type Exchange,
  type RouteMap,
} from './index.js'
import type { ReportQueue } from './recorder-proxy.js'

export interface RecorderMiddlewareOptions {
  readonly maps: readonly RouteMap[]
  readonly reporter: ReportQueue
  readonly identityHeaders: IdentityHeaders
  readonly defaultProjectId?: string
  readonly catchAll: string | null
  readonly recordReads?: boolean
  readonly onError?: (error: unknown) => void
}

type Next = (error?: unknown) => void

export function recorderMiddleware(
  options: RecorderMiddlewareOptions,
): (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    const startedAt = Date.now()
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
    const query = q < 0 ? '' : rawUrl.slice(q + 1)
    const method = (req.method ?? 'GET').toUpperCase()
    let tap: BodyTap | undefined
    const write = res.write.bind(res) as (...args: unknown[]) => boolean
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
    const keep = (chunk: unknown): void => {
      // Headers given to writeHead() are not readable back: unknown means "try JSON".
      tap ??= new BodyTap(
        String(res.getHeader('content-type') ?? 'application/json'),
        MAX_CAPTURE_BYTES,
      )
      if (typeof chunk === 'string') tap.push(Buffer.from(chunk))
      else if (chunk instanceof Uint8Array) tap.push(Buffer.from(chunk))
    }
    res.write = ((...args: unknown[]) => {
      keep(args[0])
      return write(...args)
    }) as typeof res.write
    res.end = ((...args: unknown[]) => {
      if (typeof args[0] !== 'function') keep(args[0])
      return end(...args)
    }) as typeof res.end
    res.on('finish', () => {
      try {
        const headers = Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [
            k,
            Array.isArray(v) ? v.join(', ') : (v ?? ''),
          ]),
        )
        const match = matchRoute(options.maps, method, path, query, headers)
        const identity = identityOf(req.headers, options.identityHeaders)
        const projectId = identity.projectId ?? match?.params.project_id ?? options.defaultProjectId
        if (projectId === undefined) {
          const recordable =
            match === undefined
              ? options.catchAll !== null && isMutating(method)
              : match.rule.read_only !== true || options.recordReads === true
          if (recordable)
            options.onError?.(
              new Error(`${method} ${path} not recorded: no project in the request, no default`),
            )
          return
        }
        const body = req.body
        const requestText =
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
        const responseText = tap?.text()
        const userAgent = req.headers['user-agent']
        const exchange: Exchange = {
          method,
          path,
          query,
          status: res.statusCode,
          requestHeaders: Object.fromEntries(
            Object.entries(req.headers).map(([k, v]) => [
              k,
              Array.isArray(v) ? v.join(', ') : (v ?? ''),
            ]),
          ),
          // A body too deep to walk safely is recorded as text only (see capture.ts).
          requestJson:
            typeof body === 'object' && body !== null && findDeepNesting(body) === undefined
              ? body
              : undefined,
          ...(requestText === undefined ? {} : { requestText }),
          requestBytes: Number(req.headers['content-length'] ?? 0),
          responseJson: tap?.json(),
          ...(responseText === undefined ? {} : { responseText }),
          startedAt,
          durationMs: Date.now() - startedAt,
          sourceIp: req.socket.remoteAddress ?? '',
          ...(userAgent === undefined ? {} : { userAgent }),
          user: identity.user,
          projectId,
          requestId: String(req.headers['x-request-id'] ?? randomUUID()),
        }
        let traces: Record<string, unknown>[] = []
        if (match === undefined) {
          if (options.catchAll !== null && isMutating(method))
            traces = buildCatchAllTraces(options.catchAll, exchange)
        } else {
          traces = buildTraces(match, exchange, { recordReads: options.recordReads === true })
        }
        if (traces.length > 0) options.reporter.enqueue(projectId, traces)
      } catch (error) {
        options.onError?.(error)
      }
    })
    next()
  }
}
