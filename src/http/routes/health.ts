/**
 * @module http/routes/health
 * `GET /health`: 200 when the store answers a read and can take writes, with the condition of each
 * storage (`database`, and `objects` for the object folder: `ok` or `full`). 503 otherwise, with a CTS body and Retry-After:
 * `OCTS.0503` when the store does not answer, `OCTS.0505` (OCTS_ERR_STORAGE_FULL) while its disk is
 * full. While full, each call probes for space (store.probeSpace), so health and ingest come back
 * by themselves once space is freed. A full object folder alone keeps 200 (ingest still works;
 * transfers wait and retry) and shows `objects: "full"`.
 */
import type { FastifyInstance } from 'fastify'
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type { Services } from '../../services.js'
import { sendError } from '../error-handler.js'
import { errorBody } from '../schemas.js'

export function registerHealthRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/health',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Health check',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              region: { type: 'string' },
              storage: {
                type: 'object',
                properties: {
                  database: { type: 'string', enum: ['ok', 'full'] },
                  objects: { type: 'string', enum: ['ok', 'full'] },
                },
              },
            },
          },
          503: errorBody,
        },
      },
    },
    async (_request, reply) => {
      const { store } = services
      try {
        await store.traces.operators('', services.clock.now())
        if (store.storage.full) await store.probeSpace()
      } catch (error) {
        if (isOpenCtsError(error) && error.code === 'OCTS_ERR_STORAGE_FULL') {
          const since = new Date(store.storage.fullSince ?? services.clock.now()).toISOString()
          return sendError(
            new OpenCtsError('OCTS_ERR_STORAGE_FULL', {
              message: `The disk of the store is full since ${since}: ingest and changes answer 503 until space is freed.`,
              retryAfter: error.retryAfter ?? 30,
            }),
            reply,
          )
        }
        return sendError(
          new OpenCtsError('OCTS_ERR_STORE_CONFLICT', {
            message: 'The store does not answer.',
            retryAfter: 5,
          }),
          reply,
        )
      }
      return {
        status: 'ok',
        region: services.config.region,
        storage: {
          database: 'ok',
          // Known for the object folder only (an S3 store reports its own failures).
          ...(services.objectStorage === null
            ? {}
            : { objects: services.objectStorage.full ? 'full' : 'ok' }),
        },
      }
    },
  )
}
