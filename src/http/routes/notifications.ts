/**
 * @module http/routes/notifications
 * Key-event notification configuration (spec §6): create, update, list by type, delete by id list.
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { callerOf, rawQuery } from '../request-context.js'
import { PROJECT_ID, projectParams, queryString, queryStringList } from '../schemas.js'
import { replyWith } from './reply-with.js'
import { projectRoute } from '../route-auth.js'

const notificationBody = {
  type: 'object',
  required: ['notification_name', 'operation_type'],
  properties: {
    notification_id: { type: 'string', description: 'Update only.' },
    notification_name: { type: 'string', description: '1-64 letters, digits or _.' },
    operation_type: { type: 'string', enum: ['complete', 'customized'] },
    status: { type: 'string', enum: ['enabled', 'disabled'], description: 'Update only.' },
    operations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          service_type: { type: 'string' },
          resource_type: { type: 'string' },
          trace_names: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    notify_user_list: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          user_group: { type: 'string' },
          user_list: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    topic_id: {
      type: 'string',
      description:
        'urn:smn:{region}:{project_id}:{topic} or urn:fss:{region}:{project_id}:function:{package}:{name}',
    },
    filter: {
      type: 'object',
      properties: {
        condition: { type: 'string', enum: ['AND', 'OR'] },
        is_support_filter: { type: 'boolean' },
        rule: { type: 'array', items: { type: 'string', description: '"<field> =|!= <value>"' } },
      },
    },
  },
}

const notificationObject = {
  type: 'object',
  description: 'Key-event notification (spec §6.1).',
  additionalProperties: true,
}

export function registerNotificationRoutes(app: FastifyInstance, services: HttpServices): void {
  const { notifications } = services
  type P = { Params: { project_id: string } }
  app.post<P>(
    '/v3/:project_id/notifications',
    {
      config: projectRoute('cts:notification:create'),
      schema: {
        summary: 'Create a key-event notification',
        tags: ['notifications'],
        params: projectParams,
        documentedBody: notificationBody,
        response: { 201: notificationObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await notifications.create(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.put<P>(
    '/v3/:project_id/notifications',
    {
      config: projectRoute('cts:notification:update'),
      schema: {
        summary: 'Update a key-event notification',
        tags: ['notifications'],
        params: projectParams,
        documentedBody: notificationBody,
        response: { 200: notificationObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await notifications.update(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.get<{ Params: { project_id: string; notification_type: string } }>(
    '/v3/:project_id/notifications/:notification_type',
    {
      config: projectRoute('cts:notification:list'),
      schema: {
        summary: 'List key-event notifications',
        tags: ['notifications'],
        params: {
          type: 'object',
          required: ['project_id', 'notification_type'],
          properties: {
            project_id: PROJECT_ID,
            notification_type: { type: 'string', description: 'smn | fun' },
          },
        },
        querystring: {
          type: 'object',
          properties: { notification_name: queryString('Notification name; omit for all.') },
        },
        response: {
          200: {
            type: 'object',
            properties: { notifications: { type: 'array', items: notificationObject } },
          },
        },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await notifications.list(
          request.params.project_id,
          request.params.notification_type,
          rawQuery(request),
        ),
      ),
  )
  app.delete<P>(
    '/v3/:project_id/notifications',
    {
      config: projectRoute('cts:notification:delete'),
      schema: {
        summary: 'Delete key-event notifications',
        tags: ['notifications'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            notification_id: queryStringList(
              'Comma-separated notification IDs (the key may also repeat).',
            ),
          },
        },
        response: { 204: { description: 'Deleted', type: 'null' } },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await notifications.delete(request.params.project_id, rawQuery(request), callerOf(request)),
      ),
  )
}
