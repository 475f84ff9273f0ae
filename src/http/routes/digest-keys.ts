/**
 * @module http/routes/digest-keys
 * `GET /v3/{project_id}/digest-keys` (OpenCTS): the public keys that sign digest files, with their
 * validity windows, oldest first, so that anyone holding digests can verify them (the body is the
 * same as the file of `opencts keys public`). Optional `from`/`to` (13-digit epoch ms, exclusive
 * like ListTraces) keep the keys whose window overlaps (from, to); the oldest key's window is taken
 * to reach back indefinitely, as it signs digests ending before every key (transfer/signing-keys).
 * A bad bound → 400 OCTS_ERR_QUERY (CTS.0300).
 */
import type { FastifyInstance } from 'fastify'
import { ctsError } from '../../errors/index.js'
import type { RawQuery } from '../../query/index.js'
import type { HttpServices } from '../../services.js'
import { keysOverlapping } from '../../transfer/signing-keys.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'

const digestKey = {
  type: 'object',
  properties: {
    fingerprint: { type: 'string', description: 'Hex SHA-256 of the DER SubjectPublicKeyInfo.' },
    algorithm: { type: 'string', enum: ['SHA256withRSA'] },
    public_key: { type: 'string', description: 'PEM SubjectPublicKeyInfo (RSA 2048).' },
    valid_from: { type: 'integer', description: 'Start of the validity window, epoch ms.' },
    valid_to: {
      type: ['integer', 'null'],
      description: 'End of the validity window (exclusive), epoch ms; null for the current key.',
    },
  },
} as const

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

/** A 13-digit epoch ms query bound, or undefined. Throws OCTS_ERR_QUERY. */
function bound(query: RawQuery, name: string): number | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (Array.isArray(value)) fail(`${name} is given ${value.length} times, give it once`)
  if (!/^\d{13}$/.test(value))
    fail(`${name} must be a 13-digit UTC timestamp in milliseconds, got ${JSON.stringify(value)}`)
  return Number(value)
}

export function registerDigestKeyRoutes(app: FastifyInstance, services: HttpServices): void {
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/digest-keys',
    {
      config: projectRoute('cts:digestKey:list'),
      schema: {
        summary: 'List the public keys of digest signatures (OpenCTS)',
        tags: ['digests'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            from: queryString('Exclusive lower bound, 13-digit UTC ms: keys valid after it.'),
            to: queryString('Exclusive upper bound, 13-digit UTC ms: keys valid before it.'),
          },
        },
        response: {
          200: {
            description: 'Public signing keys with their validity windows, oldest first',
            type: 'object',
            properties: { digest_keys: { type: 'array', items: digestKey } },
          },
        },
      },
    },
    async (request) => {
      const query = rawQuery(request)
      const from = bound(query, 'from')
      const to = bound(query, 'to')
      if (from !== undefined && to !== undefined && from >= to)
        fail(`from (${from}) must be earlier than to (${to})`)
      const keys = await services.signingKeys.publicKeys()
      return { digest_keys: keysOverlapping(keys, from, to) }
    },
  )
}
