/**
 * @module http/routes/alarms
 * Alarm rules (OpenCTS; docs/alarms.md): `POST|GET /v3/{project_id}/alarms`,
 * `GET|PUT|DELETE /v3/{project_id}/alarms/{alarm_id}`, `GET …/{alarm_id}/history`. Validation,
 * error codes and self-audit live in `alarms/`. Actions `cts:alarm:create|update|delete|list|get`.
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { callerOf, rawQuery } from '../request-context.js'
import { PROJECT_ID, projectParams, queryString } from '../schemas.js'
import { replyWith } from './reply-with.js'
import { projectRoute } from '../route-auth.js'

const alarmBody = {
  type: 'object',
  properties: {
    alarm_name: { type: 'string', description: '1-64 [A-Za-z0-9_-], unique in the project.' },
    description: { type: 'string', description: 'At most 255 characters.' },
    filter: {
      type: 'object',
      description:
        'ListTraces v3 filters: trace_type, tracker_name, service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user, access_key_id.',
    },
    condition: {
      type: 'object',
      properties: {
        comparison: { type: 'string', enum: ['>', '>=', '<', '<='] },
        threshold: { type: 'integer', minimum: 0 },
        period: { type: 'integer', minimum: 60, maximum: 86400, description: 'Seconds.' },
      },
    },
    enabled: { type: 'boolean' },
    topic_urn: { type: ['string', 'null'], description: 'urn:smn:{region}:{project_id}:{name}' },
  },
}

const alarmObject = { type: 'object', description: 'Alarm rule.', additionalProperties: true }

const alarmParams = {
  type: 'object',
  required: ['project_id', 'alarm_id'],
  properties: { project_id: PROJECT_ID, alarm_id: { type: 'string' } },
}

export function registerAlarmRoutes(app: FastifyInstance, services: HttpServices): void {
  const { alarms } = services
  type P = { Params: { project_id: string } }
  type A = { Params: { project_id: string; alarm_id: string } }

  app.post<P>(
    '/v3/:project_id/alarms',
    {
      config: projectRoute('cts:alarm:create'),
      schema: {
        summary: 'Create an alarm rule',
        tags: ['alarms'],
        params: projectParams,
        documentedBody: { ...alarmBody, required: ['alarm_name', 'condition'] },
        response: { 201: alarmObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await alarms.create(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.get<P>(
    '/v3/:project_id/alarms',
    {
      config: projectRoute('cts:alarm:list'),
      schema: {
        summary: 'List alarm rules with their states',
        tags: ['alarms'],
        params: projectParams,
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) => replyWith(reply, await alarms.list(request.params.project_id)),
  )
  app.get<A>(
    '/v3/:project_id/alarms/:alarm_id',
    {
      config: projectRoute('cts:alarm:get'),
      schema: {
        summary: 'Show an alarm rule with its state',
        tags: ['alarms'],
        params: alarmParams,
        response: { 200: alarmObject },
      },
    },
    async (request, reply) =>
      replyWith(reply, await alarms.get(request.params.project_id, request.params.alarm_id)),
  )
  app.put<A>(
    '/v3/:project_id/alarms/:alarm_id',
    {
      config: projectRoute('cts:alarm:update'),
      schema: {
        summary: 'Change an alarm rule (the fields given)',
        tags: ['alarms'],
        params: alarmParams,
        documentedBody: alarmBody,
        response: { 200: alarmObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await alarms.update(
          request.params.project_id,
          request.params.alarm_id,
          request.body,
          callerOf(request),
        ),
      ),
  )
  app.delete<A>(
    '/v3/:project_id/alarms/:alarm_id',
    {
      config: projectRoute('cts:alarm:delete'),
      schema: {
        summary: 'Delete an alarm rule and its history',
        tags: ['alarms'],
        params: alarmParams,
        response: { 204: { description: 'Deleted', type: 'null' } },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await alarms.delete(request.params.project_id, request.params.alarm_id, callerOf(request)),
      ),
  )
  app.get<A>(
    '/v3/:project_id/alarms/:alarm_id/history',
    {
      config: projectRoute('cts:alarm:get'),
      schema: {
        summary: 'State transitions of an alarm rule, newest first',
        tags: ['alarms'],
        params: alarmParams,
        querystring: {
          type: 'object',
          properties: {
            limit: queryString('1-200, default 20'),
            marker: queryString('meta_data.marker of the previous page'),
          },
        },
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await alarms.history(request.params.project_id, request.params.alarm_id, rawQuery(request)),
      ),
  )
}
