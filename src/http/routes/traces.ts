/**
 * @module http/routes/traces
 * ListTraces: `GET /v3/{project_id}/traces` and the legacy `GET /v1.0|v2.0/{project_id}/{tracker_name}/trace`.
 */
import type { FastifyInstance } from 'fastify'
import { ctsError } from '../../errors/index.js'
import type { ApiVersion } from '../../query/index.js'
import type { HttpServices } from '../../services.js'
import { projectRoute } from '../route-auth.js'
import { rawQuery } from '../request-context.js'
import { PROJECT_ID, projectParams, queryString, traceObject } from '../schemas.js'
import { SEARCH_PARAM } from './export.js'

const COMMON_QUERY = {
  limit: queryString('Page size, 1-200, default 10.'),
  from: queryString('Exclusive lower bound, 13-digit UTC ms. Default: to - 1 hour.'),
  to: queryString('Exclusive upper bound, 13-digit UTC ms. Default: now.'),
  next: queryString('meta_data.marker of the previous page.'),
  service_type: queryString('Trace source, e.g. IMS.'),
  user: queryString('Operator user name.'),
  resource_id: queryString('Resource ID.'),
  resource_name: queryString('Resource name (case-sensitive).'),
  resource_type: queryString('Resource type, e.g. image.'),
  trace_id: queryString('Trace ID; when set, every other filter is ignored.'),
  trace_name: queryString('Trace name (case-sensitive).'),
  trace_rating: queryString('normal | warning | incident.'),
}

const listResponse = {
  description: 'A page of traces, newest first',
  type: 'object',
  properties: {
    traces: { type: 'array', items: traceObject },
    meta_data: {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        marker: {
          type: ['string', 'null'],
          description: 'trace_id of the last trace when more exist, else null.',
        },
      },
    },
  },
}

export function registerTraceRoutes(app: FastifyInstance, services: HttpServices): void {
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/traces',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary: 'List traces (ListTraces)',
        tags: ['traces'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            ...COMMON_QUERY,
            trace_type: queryString('system (management traces, default) | data.'),
            tracker_name: queryString(
              'system for management traces; the data tracker name for data traces.',
            ),
            access_key_id: queryString('Access key ID used by the operator.'),
            enterprise_project_id: queryString('Enterprise project ID.'),
            q: SEARCH_PARAM,
          },
        },
        response: { 200: listResponse },
      },
    },
    async (request) => services.traceQuery.list(request.params.project_id, rawQuery(request), 'v3'),
  )

  for (const version of ['v1.0', 'v2.0'] as const satisfies readonly ApiVersion[]) {
    app.get<{ Params: { project_id: string; tracker_name: string } }>(
      `/${version}/:project_id/:tracker_name/trace`,
      {
        config: projectRoute('cts:trace:list'),
        schema: {
          summary: `List traces (legacy ${version})`,
          tags: ['traces', 'legacy'],
          params: {
            type: 'object',
            required: ['project_id', 'tracker_name'],
            properties: {
              project_id: PROJECT_ID,
              tracker_name: { type: 'string', description: 'Only system.' },
            },
          },
          querystring: {
            type: 'object',
            properties: {
              ...COMMON_QUERY,
              trace_status: queryString('Legacy alias of trace_rating.'),
            },
          },
          response: { 200: listResponse },
        },
      },
      async (request) => {
        if (request.params.tracker_name !== 'system') {
          throw ctsError(
            'OCTS_ERR_TRACKER_NOT_FOUND',
            `The tracker ${request.params.tracker_name} does not exist; legacy trace APIs serve only system.`,
          )
        }
        return services.traceQuery.list(request.params.project_id, rawQuery(request), version)
      },
    )
  }
}
