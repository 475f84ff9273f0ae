/**
 * @module http/routes/versions
 * API version discovery (spec §7.9): `GET /` lists v1.0, v2.0 and v3; `GET /{version}` one of them,
 * 404 CTS.0100 for any other. `links` is emitted as an array of {href, rel}.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ctsError } from '../../errors/index.js'

const VERSIONS = [
  { id: 'v1.0', status: 'DEPRECATED', updated: '2018-09-30T00:00:00Z' },
  { id: 'v2.0', status: 'SUPPORTED', updated: '2018-09-30T00:00:00Z' },
  { id: 'v3', status: 'CURRENT', updated: '2020-05-20T00:00:00Z' },
] as const

function describe(
  request: FastifyRequest,
  version: (typeof VERSIONS)[number],
): Record<string, unknown> {
  const host = request.headers.host ?? 'localhost'
  return {
    id: version.id,
    links: [{ href: `${request.protocol}://${host}/${version.id}/`, rel: 'self' }],
    min_version: '',
    status: version.status,
    updated: version.updated,
    version: '',
  }
}

const versionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    links: {
      type: 'array',
      items: { type: 'object', properties: { href: { type: 'string' }, rel: { type: 'string' } } },
    },
    min_version: { type: 'string' },
    status: { type: 'string' },
    updated: { type: 'string' },
    version: { type: 'string' },
  },
}

export function registerVersionRoutes(app: FastifyInstance): void {
  app.get(
    '/',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'List API versions',
        tags: ['versions'],
        response: {
          200: {
            type: 'object',
            properties: { versions: { type: 'array', items: versionSchema } },
          },
        },
      },
    },
    async (request) => ({ versions: VERSIONS.map((v) => describe(request, v)) }),
  )
  app.get<{ Params: { version: string } }>(
    '/:version',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Show one API version',
        tags: ['versions'],
        params: { type: 'object', properties: { version: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { version: versionSchema } } },
      },
    },
    async (request) => {
      const wanted = request.params.version.replace(/\/$/, '')
      const found = VERSIONS.find((v) => v.id === wanted)
      if (found === undefined)
        throw ctsError(
          'OCTS_ERR_VERSION_NOT_FOUND',
          `API version ${JSON.stringify(wanted.slice(0, 32))} is not supported; use v3, v2.0 or v1.0.`,
        )
      return { version: describe(request, found) }
    },
  )
}
