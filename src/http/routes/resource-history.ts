/**
 * @module http/routes/resource-history
 * `GET /v3/{project_id}/resources/history` (OpenCTS; action `cts:trace:list`): the history of one
 * resource (query/resource-history): who created, changed, shared and deleted it, a summary over
 * the window (default the whole retention window) and its traces newest first, paged with `next`.
 * Bad parameters → 400 OCTS_ERR_QUERY (CTS.0300).
 */
import type { FastifyInstance } from 'fastify'
import { parseHistoryQuery, readResourceHistory } from '../../query/resource-history.js'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'

export function registerResourceHistoryRoutes(app: FastifyInstance, services: HttpServices): void {
  const retentionMs = services.config.retentionDays * 86_400_000
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/resources/history',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary: 'The history of one resource: who created, changed, shared, deleted it (OpenCTS)',
        tags: ['traces'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            resource_id: queryString('Resource ID (this or resource_name).'),
            resource_name: queryString('Resource name (this or resource_id).'),
            resource_type: queryString('Only traces of this resource type.'),
            service_type: queryString('Only traces of this service.'),
            from: queryString('Exclusive lower bound, 13-digit UTC ms. Default: the oldest kept.'),
            to: queryString('Exclusive upper bound, 13-digit UTC ms. Default: now.'),
            limit: queryString('Traces per page, 1 to 200; default 50.'),
            next: queryString('The marker of the previous page.'),
          },
        },
      },
    },
    async (request) => {
      const plan = parseHistoryQuery(rawQuery(request), {
        projectId: request.params.project_id,
        now: services.clock.now(),
        retentionMs,
      })
      return await readResourceHistory(services.traceReads, plan)
    },
  )
}
