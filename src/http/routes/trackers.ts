/**
 * @module http/routes/trackers
 * Tracker APIs: v3 `POST|PUT /v3/{project_id}/tracker`, `GET|DELETE /v3/{project_id}/trackers`,
 * `POST /v3/{domain_id}/checkbucket`, and the legacy v1.0 tracker API. Validation, CTS error codes and self-audit live in `trackers/`.
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { callerOf, rawQuery } from '../request-context.js'
import { PROJECT_ID, projectParams, queryString } from '../schemas.js'
import { replyWith } from './reply-with.js'
import { projectRoute } from '../route-auth.js'

const obsInfo = {
  type: 'object',
  properties: {
    bucket_name: { type: 'string', description: '3-63 chars [a-z0-9.-]; "" turns transfer off.' },
    file_prefix_name: { type: 'string', description: '0-64 chars [A-Za-z0-9._-].' },
    is_obs_created: { type: 'boolean' },
    bucket_lifecycle: { type: 'integer', enum: [0, 30, 60, 90, 180, 1095] },
    compress_type: { type: 'string', enum: ['gzip', 'json'] },
    is_sort_by_service: { type: 'boolean' },
  },
}

const trackerBody = {
  type: 'object',
  required: ['tracker_type', 'tracker_name'],
  properties: {
    tracker_type: { type: 'string', enum: ['system', 'data'] },
    tracker_name: {
      type: 'string',
      description: 'system for the management tracker; 1-32 [A-Za-z0-9_-] for data trackers.',
    },
    status: { type: 'string', enum: ['enabled', 'disabled'], description: 'Update only.' },
    is_lts_enabled: { type: 'boolean' },
    obs_info: obsInfo,
    is_support_validate: { type: 'boolean' },
    is_support_trace_files_encryption: { type: 'boolean' },
    kms_id: { type: 'string' },
    data_bucket: {
      type: 'object',
      properties: {
        data_bucket_name: { type: 'string' },
        data_event: { type: 'array', items: { type: 'string', enum: ['READ', 'WRITE'] } },
      },
    },
  },
}

const trackerObject = {
  type: 'object',
  description: 'Tracker (spec §5.2).',
  additionalProperties: true,
}

const trackerQuery = {
  type: 'object',
  properties: {
    tracker_name: queryString('Tracker name; omit for all.'),
    tracker_type: queryString('system | data.'),
  },
}

export function registerTrackerRoutes(app: FastifyInstance, services: HttpServices): void {
  const { trackers } = services
  type P = { Params: { project_id: string } }

  app.post<P>(
    '/v3/:project_id/tracker',
    {
      config: projectRoute('cts:tracker:create'),
      schema: {
        summary: 'Create a tracker',
        tags: ['trackers'],
        params: projectParams,
        documentedBody: trackerBody,
        response: { 201: trackerObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.create(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.put<P>(
    '/v3/:project_id/tracker',
    {
      config: projectRoute('cts:tracker:update'),
      schema: {
        summary: 'Update a tracker',
        tags: ['trackers'],
        params: projectParams,
        documentedBody: trackerBody,
        response: { 200: trackerObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.update(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.get<P>(
    '/v3/:project_id/trackers',
    {
      config: projectRoute('cts:tracker:list'),
      schema: {
        summary: 'List trackers',
        tags: ['trackers'],
        params: projectParams,
        querystring: trackerQuery,
        response: {
          200: {
            type: 'object',
            properties: { trackers: { type: 'array', items: trackerObject } },
          },
        },
      },
    },
    async (request, reply) =>
      replyWith(reply, await trackers.list(request.params.project_id, rawQuery(request))),
  )
  app.delete<P>(
    '/v3/:project_id/trackers',
    {
      config: projectRoute('cts:tracker:delete'),
      schema: {
        summary: 'Delete trackers',
        description:
          'tracker_type defaults to data; tracker_name=system (with tracker_type=system) deletes the management tracker; no name deletes every data tracker.',
        tags: ['trackers'],
        params: projectParams,
        querystring: trackerQuery,
        response: { 204: { description: 'Deleted', type: 'null' } },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.delete(request.params.project_id, rawQuery(request), callerOf(request)),
      ),
  )

  const checkedBucket = {
    type: 'object',
    required: ['bucket_name', 'bucket_location'],
    properties: {
      bucket_name: { type: 'string', description: '3-63 chars [a-z0-9.-].' },
      bucket_location: { type: 'string', description: 'Echoed; a folder sink has no locations.' },
      kms_id: { type: 'string', description: 'Required when is_support_trace_files_encryption.' },
      is_support_trace_files_encryption: { type: 'boolean' },
    },
  }
  app.post<{ Params: { domain_id: string } }>(
    '/v3/:domain_id/checkbucket',
    {
      config: { auth: { action: 'cts:tracker:list', scope: 'domain' } },
      schema: {
        summary: 'Check whether trace files can be transferred to buckets (CheckObsBuckets)',
        description:
          'One check_bucket_response per bucket: success (200), CTS.0231 invalid name, CTS.0221/CTS.0222 KMS key, ' +
          'NoSuchBucket (404), AccessDenied (403), ServiceUnavailable (503). A malformed body answers 400 CTS.0003. Nothing is written.',
        tags: ['trackers'],
        params: { type: 'object', required: ['domain_id'], properties: { domain_id: PROJECT_ID } },
        documentedBody: {
          type: 'object',
          properties: { buckets: { type: 'array', maxItems: 100, items: checkedBucket } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    ...checkedBucket.properties,
                    check_bucket_response: {
                      type: 'object',
                      properties: {
                        error_code: { type: 'string' },
                        error_message: { type: 'string' },
                        response_code: { type: 'integer' },
                        success: { type: 'boolean' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request, reply) => replyWith(reply, await trackers.checkBuckets(request.body)),
  )

  // ---- legacy v1.0 ----
  const v1Body = {
    type: 'object',
    properties: {
      bucket_name: { type: 'string' },
      file_prefix_name: { type: 'string' },
      is_obs_created: { type: 'boolean' },
      status: { type: 'string', enum: ['enabled', 'disabled'] },
      lts: { type: 'object', properties: { is_lts_enabled: { type: 'boolean' } } },
    },
  }
  app.post<P>(
    '/v1.0/:project_id/tracker',
    {
      config: projectRoute('cts:tracker:create'),
      schema: {
        summary: 'Create the management tracker (legacy v1.0)',
        tags: ['trackers', 'legacy'],
        params: projectParams,
        documentedBody: v1Body,
        response: { 201: trackerObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.createV1(request.params.project_id, request.body, callerOf(request)),
      ),
  )
  app.put<{ Params: { project_id: string; tracker_name: string } }>(
    '/v1.0/:project_id/tracker/:tracker_name',
    {
      config: projectRoute('cts:tracker:update'),
      schema: {
        summary: 'Update the management tracker (legacy v1.0)',
        tags: ['trackers', 'legacy'],
        params: {
          type: 'object',
          required: ['project_id', 'tracker_name'],
          properties: { project_id: PROJECT_ID, tracker_name: { type: 'string' } },
        },
        documentedBody: v1Body,
        response: { 200: trackerObject },
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.updateV1(
          request.params.project_id,
          request.params.tracker_name,
          request.body,
          callerOf(request),
        ),
      ),
  )
  app.get<P>(
    '/v1.0/:project_id/tracker',
    {
      config: projectRoute('cts:tracker:list'),
      schema: {
        summary: 'Show the management tracker (legacy v1.0)',
        tags: ['trackers', 'legacy'],
        params: projectParams,
        querystring: trackerQuery,
      },
    },
    async (request, reply) =>
      replyWith(reply, await trackers.getV1(request.params.project_id, rawQuery(request))),
  )
  app.delete<P>(
    '/v1.0/:project_id/tracker',
    {
      config: projectRoute('cts:tracker:delete'),
      schema: {
        summary: 'Delete the management tracker (legacy v1.0)',
        tags: ['trackers', 'legacy'],
        params: projectParams,
        querystring: trackerQuery,
      },
    },
    async (request, reply) =>
      replyWith(
        reply,
        await trackers.deleteV1(request.params.project_id, rawQuery(request), callerOf(request)),
      ),
  )
}
