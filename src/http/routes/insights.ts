/**
 * @module http/routes/insights
 * `GET /v3/{project_id}/insights` (OpenCTS; action `cts:trace:list`, as ListTraces): the insights
 * the detectors found in the project, newest first, filtered and paged (insights/insight-query).
 * Bad parameters → 400 OCTS_ERR_QUERY (CTS.0300).
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'

export function registerInsightRoutes(app: FastifyInstance, services: HttpServices): void {
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/insights',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary:
          'List insights: unusual call and error rates, denied bursts, high-risk operations (OpenCTS)',
        tags: ['insights'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            from: queryString(
              'Exclusive lower bound on the insight time, 13-digit UTC ms. Default: the oldest kept.',
            ),
            to: queryString('Exclusive upper bound, 13-digit UTC ms. Default: now.'),
            insight_type: queryString(
              'ApiCallRateInsight | ApiErrorRateInsight | DeniedBurstInsight | HighRiskOperationInsight.',
            ),
            service_type: queryString('Only insights about this service, e.g. IMS.'),
            state: queryString('start | end.'),
            limit: queryString('Page size, 1-200, default 10.'),
            next: queryString('meta_data.marker of the previous page.'),
          },
        },
      },
    },
    async (request) => services.insights.list(request.params.project_id, rawQuery(request)),
  )
}
