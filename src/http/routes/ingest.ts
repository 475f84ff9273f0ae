/**
 * @module http/routes/ingest
 * `POST /v3/{project_id}/traces`: batch ingest (OpenCTS; CTS ingestion is internal). Up to 1,000
 * traces or 12 MB; validated whole, committed in one transaction; 201 `{"trace_ids": [...]}` once
 * durable, with `leaf_indexes` (each trace's index in its project's Merkle log) when the log is on.
 */
import type { FastifyInstance } from 'fastify'
import type { HttpServices } from '../../services.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, traceObject } from '../schemas.js'

export function registerIngestRoutes(app: FastifyInstance, services: HttpServices): void {
  app.post<{ Params: { project_id: string } }>(
    '/v3/:project_id/traces',
    {
      config: projectRoute('cts:trace:report'),
      schema: {
        summary: 'Report traces (batch ingest)',
        tags: ['traces'],
        description:
          'Stores 1-1000 traces in one transaction. Required per trace: time, service_type, resource_type, trace_name, trace_type. ' +
          'trace_id (UUID) is generated when absent; a trace_id already stored is not stored again. An invalid trace rejects the ' +
          'whole batch with 400 naming traces[index].field. request/response <= 100 KB each, whole trace <= 256 KB.',
        params: projectParams,
        // Documented here, validated by the model (its messages name the trace index and field).
        documentedBody: {
          type: 'object',
          required: ['traces'],
          properties: {
            traces: { type: 'array', description: '1 to 1000 traces', items: traceObject },
          },
        },
        response: {
          201: {
            description: 'Stored',
            type: 'object',
            properties: {
              trace_ids: { type: 'array', items: { type: 'string' } },
              leaf_indexes: {
                type: 'array',
                items: { type: ['integer', 'null'] },
                description:
                  'With the verifiable log on: the leaf index of each trace (batch order) in its project log; null for a trace stored while the log was off.',
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await services.ingestor.ingest(request.params.project_id, request.body)
      return reply
        .code(201)
        .send(
          services.config.merkleLog
            ? { trace_ids: result.trace_ids, leaf_indexes: result.leaf_indexes }
            : { trace_ids: result.trace_ids },
        )
    },
  )
}
