/**
 * @module http/routes/health
 * `GET /health`: 200 when the store answers a read, 503 otherwise.
 */
import type { FastifyInstance } from 'fastify'
import type { Services } from '../../services.js'
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
            properties: { status: { type: 'string' }, region: { type: 'string' } },
          },
          503: errorBody,
        },
      },
    },
    async (_request, reply) => {
      try {
        await services.store.traces.operators('', services.clock.now())
        return { status: 'ok', region: services.config.region }
      } catch {
        return reply
          .code(503)
          .send({ error_code: 'OCTS.0503', error_msg: 'The store does not answer.' })
      }
    },
  )
}
