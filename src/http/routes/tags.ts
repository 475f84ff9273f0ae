/**
 * @module http/routes/tags
 * Tracker tags (spec §7.7). `resource_type` must be `cts-tracker`; `resource_id` a tracker id.
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { PROJECT_ID, queryString } from '../schemas.js'
import { replyWith } from './reply-with.js'
import { projectRoute } from '../route-auth.js'

const tagsBody = {
  type: 'object',
  required: ['tags'],
  properties: {
    tags: {
      type: 'array',
      items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } } },
    },
  },
}

const resourceParams = {
  type: 'object',
  required: ['project_id', 'resource_type', 'resource_id'],
  properties: {
    project_id: PROJECT_ID,
    resource_type: { type: 'string', description: 'cts-tracker' },
    resource_id: { type: 'string' },
  },
}

const typeParams = {
  type: 'object',
  required: ['project_id', 'resource_type'],
  properties: {
    project_id: PROJECT_ID,
    resource_type: { type: 'string', description: 'cts-tracker' },
  },
}

export function registerTagRoutes(app: FastifyInstance, services: HttpServices): void {
  const { tags } = services
  type R = { Params: { project_id: string; resource_type: string; resource_id: string } }
  type T = { Params: { project_id: string; resource_type: string } }
  app.post<R>(
    '/v3/:project_id/:resource_type/:resource_id/tags/create',
    {
      config: projectRoute('cts:tag:create'),
      schema: {
        summary: 'Add tags to a tracker',
        tags: ['tags'],
        params: resourceParams,
        documentedBody: tagsBody,
      },
    },
    async (request, reply) => {
      const { project_id, resource_type, resource_id } = request.params
      return replyWith(
        reply,
        await tags.create(project_id, resource_type, resource_id, request.body),
      )
    },
  )
  app.delete<R>(
    '/v3/:project_id/:resource_type/:resource_id/tags/delete',
    {
      config: projectRoute('cts:tag:delete'),
      schema: {
        summary: 'Delete tags of a tracker',
        tags: ['tags'],
        params: resourceParams,
        documentedBody: tagsBody,
      },
    },
    async (request, reply) => {
      const { project_id, resource_type, resource_id } = request.params
      return replyWith(
        reply,
        await tags.delete(project_id, resource_type, resource_id, request.body),
      )
    },
  )
  app.get<R>(
    '/v3/:project_id/:resource_type/:resource_id/tags',
    {
      config: projectRoute('cts:tag:list'),
      schema: { summary: 'List the tags of a tracker', tags: ['tags'], params: resourceParams },
    },
    async (request, reply) => {
      const { project_id, resource_type, resource_id } = request.params
      return replyWith(reply, await tags.get(project_id, resource_type, resource_id))
    },
  )
  app.get<T>(
    '/v3/:project_id/:resource_type/tags',
    {
      config: projectRoute('cts:tag:list'),
      schema: {
        summary: 'List the tag keys and values used on trackers',
        tags: ['tags'],
        params: typeParams,
        querystring: {
          type: 'object',
          properties: {
            limit: queryString('1-200'),
            marker: queryString('page_info.next_marker of the previous page'),
          },
        },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await tags.list(request.params.project_id, request.params.resource_type, rawQuery(request)),
      ),
  )
  app.post<T>(
    '/v3/:project_id/:resource_type/resource-instances/filter',
    {
      config: projectRoute('cts:tag:list'),
      schema: {
        summary: 'Find trackers by tags',
        tags: ['tags'],
        params: typeParams,
        documentedBody: {
          type: 'object',
          properties: {
            tags: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  key: { type: 'string' },
                  values: { type: 'array', items: { type: 'string' } },
                },
              },
            },
            matches: {
              type: 'array',
              items: {
                type: 'object',
                properties: { key: { type: 'string' }, value: { type: 'string' } },
              },
            },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
          },
        },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await tags.filter(request.params.project_id, request.params.resource_type, request.body),
      ),
  )
}
