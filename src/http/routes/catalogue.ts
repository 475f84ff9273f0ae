/**
 * @module http/routes/catalogue
 * The small read APIs of spec §7: quotas, operations (static catalogue + observed), operators of the
 * last 30 days (user-resources) and resource types per service (resources).
 *
 * `GET /v3/{domain_id}/resources` is domain-scoped in CTS. Until accounts exist (authentication
 * issue), the path id is read as a project id.
 */
import type { FastifyInstance } from 'fastify'
import { listOperations } from '../../notifications/index.js'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { PROJECT_ID, projectParams, queryString } from '../schemas.js'
import { replyWith } from './reply-with.js'
import { projectRoute } from '../route-auth.js'

const OPERATOR_WINDOW_MS = 30 * 86_400_000

export function registerCatalogueRoutes(app: FastifyInstance, services: HttpServices): void {
  type P = { Params: { project_id: string } }
  app.get<P>(
    '/v3/:project_id/quotas',
    {
      config: projectRoute('cts:quota:get'),
      schema: {
        summary: 'Show quotas',
        tags: ['quotas'],
        params: projectParams,
        response: {
          200: {
            type: 'object',
            properties: {
              resources: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    type: { type: 'string' },
                    used: { type: 'integer' },
                    quota: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request, reply) => replyWith(reply, await services.quotas(request.params.project_id)),
  )
  app.get<P>(
    '/v3/:project_id/operations',
    {
      config: projectRoute('cts:notification:listOperation'),
      schema: {
        summary: 'List operations (for notification rules)',
        tags: ['notifications'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            service_type: queryString('Service, e.g. IMS.'),
            resource_type: queryString('Resource type; requires service_type.'),
          },
        },
      },
    },
    async (request) =>
      listOperations(
        await services.traceReads.catalogue(request.params.project_id),
        rawQuery(request),
      ),
  )
  app.get<P>(
    '/v3/:project_id/user-resources',
    {
      config: projectRoute('cts:trace:listTraceUser'),
      schema: {
        summary: 'List operators of the last 30 days',
        tags: ['traces'],
        params: projectParams,
        response: {
          200: {
            type: 'object',
            properties: {
              users: {
                type: 'array',
                items: { type: 'object', properties: { name: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const since = services.clock.now() - OPERATOR_WINDOW_MS
      const names = await services.traceReads.operators(request.params.project_id, since)
      return { users: names.map((name) => ({ name })) }
    },
  )
  app.get<{ Params: { domain_id: string } }>(
    '/v3/:domain_id/resources',
    {
      config: { auth: { action: 'cts:trace:listResource', scope: 'domain' } },
      schema: {
        summary: 'List resource types per service seen in traces',
        tags: ['traces'],
        params: { type: 'object', required: ['domain_id'], properties: { domain_id: PROJECT_ID } },
        response: {
          200: {
            type: 'object',
            properties: {
              resources: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    service_type: { type: 'string' },
                    resource: { type: 'array', items: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      // The account's resource types: the union over its projects.
      const byService = new Map<string, Set<string>>()
      const projects = await services.accountProjects(request.params.domain_id)
      for (const project of projects) {
        for (const entry of await services.traceReads.catalogue(project.id)) {
          let set = byService.get(entry.service_type)
          if (set === undefined) byService.set(entry.service_type, (set = new Set()))
          set.add(entry.resource_type)
        }
      }
      return {
        resources: [...byService].map(([service_type, set]) => ({
          service_type,
          resource: [...set].sort(),
        })),
      }
    },
  )
}
