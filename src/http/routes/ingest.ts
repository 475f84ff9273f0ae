/**
 * @module http/routes/ingest
 * `POST /v3/{project_id}/traces`: batch ingest (OpenCTS; CTS ingestion is internal). Up to 1,000
 * traces or 12 MB; validated whole, committed in one transaction; 201 `{"trace_ids": [...]}` once
 * durable, with `leaf_indexes` (each trace's index in its project's Merkle log) when the log is on.
 *
 * The body, `application/json` (`{"traces": [...]}`) or `application/x-ndjson` (one trace per
 * line), reaches the handler as its raw bytes (a plugin of its own with buffer parsers): the ingest
 * worker threads parse it, not the event loop (src/ingest/prepare-pool.ts).
 */
import type { FastifyInstance } from 'fastify'
import { MAX_BATCH_BYTES } from '../../model/index.js'
import type { HttpServices } from '../../services.js'
import { NDJSON_MEDIA_TYPE, RawBody, registerRawBodyParsers } from '../body-parsers.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, traceObject } from '../schemas.js'

export function registerIngestRoutes(app: FastifyInstance, services: HttpServices): void {
  // Encapsulated: the buffer parsers apply to this route only.
  void app.register(async (scope) => {
    registerRawBodyParsers(scope, MAX_BATCH_BYTES)
    registerIngestRoute(scope, services)
  })
  // The threads stop with the app (a later batch, e.g. of another app on the same services,
  // starts them again).
  app.addHook('onClose', () => services.ingestor.close())
}

function registerIngestRoute(app: FastifyInstance, services: HttpServices): void {
  app.post<{ Params: { project_id: string }; Body: RawBody | undefined }>(
    '/v3/:project_id/traces',
    {
      config: projectRoute('cts:trace:report'),
      schema: {
        summary: 'Report traces (batch ingest)',
        tags: ['traces'],
        description:
          'Stores 1-1000 traces in one transaction. Required per trace: time, service_type, resource_type, trace_name, trace_type. ' +
          'trace_id (UUID) is generated when absent; a trace_id already stored is not stored again. An invalid trace rejects the ' +
          'whole batch with 400 naming traces[index].field. request/response <= 100 KB each, whole trace <= 256 KB. ' +
          'The body is JSON {"traces": [...]} (Content-Type application/json) or NDJSON (Content-Type application/x-ndjson): ' +
          'one trace object per line, empty lines ignored, traces[i] then being the i-th non-empty line.',
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
      const { body } = request
      const format = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
      // No body at all (no Content-Type, nothing sent): refused by validation as before.
      const result =
        body instanceof RawBody
          ? await services.ingestor.ingestRaw(
              request.params.project_id,
              body.bytes,
              format === NDJSON_MEDIA_TYPE ? 'ndjson' : 'json',
            )
          : await services.ingestor.ingest(request.params.project_id, body)
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
