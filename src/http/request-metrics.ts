/**
 * @module http/request-metrics
 * Times the ingest and ListTraces routes into `opencts_ingest_duration_seconds` and
 * `opencts_query_duration_seconds{api}`: every answer of those routes, success or error (including
 * refused credentials), from the request's arrival to its response (Fastify's `elapsedTime`).
 * Requests that match no route are not timed.
 */
import type { FastifyInstance } from 'fastify'
import type { OpenCtsMetrics } from '../metrics/index.js'

/** `METHOD url-pattern` of a timed route → how its duration is recorded. */
const TIMED_ROUTES = new Map<string, (metrics: OpenCtsMetrics, seconds: number) => void>([
  ['POST /v3/:project_id/traces', (m, s) => m.ingestDuration(s)],
  ['GET /v3/:project_id/traces', (m, s) => m.queryDuration('v3', s)],
  ['GET /v1.0/:project_id/:tracker_name/trace', (m, s) => m.queryDuration('v1.0', s)],
  ['GET /v2.0/:project_id/:tracker_name/trace', (m, s) => m.queryDuration('v2.0', s)],
])

export function registerRequestMetrics(app: FastifyInstance, metrics: OpenCtsMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const url = request.routeOptions.url
    if (url === undefined) return
    TIMED_ROUTES.get(`${request.method} ${url}`)?.(metrics, reply.elapsedTime / 1000)
  })
}
