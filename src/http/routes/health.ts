/**
 * @module http/routes/health
 * `GET /health`: 200 when the store answers a read and can take writes, with the condition of each
 * storage (`database`, and `objects` for the object folder: `ok` or `full`), the database itself
 * (`store.health()`: engine, location without credentials, reachable, connection pool) and the
 * leases of background work this node holds (`leases`; with one node, all of them). 503 otherwise,
 * with a CTS body and Retry-After: `OCTS.0507` (OCTS_ERR_STORE_UNAVAILABLE) when the database
 * cannot be reached, `OCTS.0503` when the store does not answer a read, `OCTS.0505`
 * (OCTS_ERR_STORAGE_FULL) while its disk is full. While full, each call probes for space
 * (store.probeSpace), so health and ingest come back by themselves once space is freed. A full
 * object folder alone keeps 200 (ingest still works; transfers wait and retry) and shows
 * `objects: "full"`.
 */
import type { FastifyInstance } from 'fastify'
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type { HttpServices } from '../../services.js'
import { sendError } from '../error-handler.js'
import { errorBody } from '../schemas.js'

const databaseSchema = {
  type: 'object',
  properties: {
    engine: { type: 'string' },
    location: { type: 'string' },
    reachable: { type: 'boolean' },
    pool: {
      type: 'object',
      properties: {
        size: { type: 'integer' },
        idle: { type: 'integer' },
        waiting: { type: 'integer' },
      },
    },
  },
} as const

export function registerHealthRoutes(app: FastifyInstance, services: HttpServices): void {
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
              database: databaseSchema,
              leases: { type: 'array', items: { type: 'string' } },
            },
          },
          503: errorBody,
        },
      },
    },
    async (_request, reply) => {
      const store = services.storeStatus
      const database = await store.health()
      if (!database.reachable)
        return sendError(
          new OpenCtsError('OCTS_ERR_STORE_UNAVAILABLE', {
            message: `The database ${database.location} cannot be reached.`,
            retryAfter: 5,
          }),
          reply,
        )
      try {
        await store.read(services.clock.now())
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
        database: {
          engine: database.engine,
          location: database.location,
          reachable: database.reachable,
          ...(database.pool === undefined ? {} : { pool: database.pool }),
        },
        leases: store.leases(),
      }
    },
  )
}
