/**
 * @module http/routes/metrics
 * `GET /metrics`: the server's metrics in the Prometheus text format 0.0.4 (docs/metrics.md).
 * Public (`config.auth: 'public'`), because Prometheus scrapers send no credentials. It exposes only
 * aggregate counts, durations and lags — label values are service types, trace names, ratings,
 * project ids and tracker names, never trace content — but it should still be reachable only from
 * the monitoring network (firewall it like an admin port).
 */
import type { FastifyInstance } from 'fastify'
import { PROMETHEUS_CONTENT_TYPE } from '../../metrics/index.js'
import type { HttpServices } from '../../services.js'

export function registerMetricsRoutes(
  app: FastifyInstance,
  services: HttpServices,
  version: string,
): void {
  services.metrics.setVersion(version)
  app.get(
    '/metrics',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Prometheus metrics',
        tags: ['operations'],
        description: `Metrics in the Prometheus text format 0.0.4 (Content-Type: ${PROMETHEUS_CONTENT_TYPE}); no credential. Aggregate counts only, no trace content.`,
      },
    },
    async (_request, reply) =>
      reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(await services.metrics.render()),
  )
}
