/**
 * @module http/routes/log
 * The verifiable log API (OpenCTS; docs/merkle.md): every route answers 404 OCTS_ERR_LOG_OFF when
 * the server runs with `OPENCTS_MERKLE_LOG=false`. Hashes are lowercase hex; checkpoints carry
 * their signed note.
 *   GET /v3/{project_id}/log/checkpoint[?tree_size=N]            latest, or of exactly N leaves
 *   GET /v3/{project_id}/log/checkpoints[?after_size=N&limit=L]  smallest first, for monitors
 *   GET /v3/{project_id}/log/inclusion-proof?trace_id=T[&tree_size=N]
 *   GET /v3/{project_id}/log/consistency-proof?first=M[&second=N]
 *   GET /v3/{project_id}/log/keys                                public checkpoint keys
 * Bad numbers → 400 OCTS_ERR_PROOF_INVALID.
 */
import type { FastifyInstance } from 'fastify'
import { ctsError } from '../../errors/index.js'
import { checkpointView } from '../../log/log-service.js'
import type { RawQuery } from '../../query/index.js'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'

const hash = { type: 'string', description: 'Lowercase hex SHA-256.' } as const

const checkpoint = {
  type: 'object',
  properties: {
    origin: { type: 'string', description: '`opencts/<project_id>`.' },
    tree_size: { type: 'integer' },
    root_hash: hash,
    timestamp: { type: 'integer', description: 'Signing time, epoch ms.' },
    note: { type: 'string', description: 'The signed checkpoint note (docs/merkle.md).' },
  },
} as const

const MAX_LIMIT = 1000

/** An optional non-negative integer query parameter. Throws OCTS_ERR_PROOF_INVALID. */
function count(query: RawQuery, name: string, min = 0): number | undefined {
  const value = query[name]
  if (value === undefined || value === '') return undefined
  if (Array.isArray(value))
    throw ctsError(
      'OCTS_ERR_PROOF_INVALID',
      `${name} is given ${value.length} times, give it once.`,
    )
  const n = Number(value)
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min)
    throw ctsError(
      'OCTS_ERR_PROOF_INVALID',
      `${name} must be an integer of at least ${min}, got ${JSON.stringify(value.slice(0, 40))}.`,
    )
  return n
}

function required(query: RawQuery, name: string, min = 0): number {
  const n = count(query, name, min)
  if (n === undefined) throw ctsError('OCTS_ERR_PROOF_INVALID', `${name} is required.`)
  return n
}

export function registerLogRoutes(app: FastifyInstance, services: HttpServices): void {
  const log = services.log
  const tags = ['verifiable log']

  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/log/checkpoint',
    {
      config: projectRoute('cts:log:get'),
      schema: {
        summary: 'Get the latest signed checkpoint, or the one of a tree size (OpenCTS)',
        tags,
        params: projectParams,
        querystring: {
          type: 'object',
          properties: { tree_size: queryString('Tree size of the checkpoint; default latest.') },
        },
        response: { 200: { type: 'object', properties: { checkpoint } } },
      },
    },
    async (request) => {
      const size = count(rawQuery(request), 'tree_size')
      const cp = await log.checkpoint(request.params.project_id, size)
      return { checkpoint: checkpointView(cp) }
    },
  )

  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/log/checkpoints',
    {
      config: projectRoute('cts:log:get'),
      schema: {
        summary: 'List signed checkpoints, smallest tree first (OpenCTS)',
        tags,
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            after_size: queryString('Only checkpoints of a larger tree; default 0.'),
            limit: queryString(`At most this many, 1 to ${MAX_LIMIT}; default 100.`),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { checkpoints: { type: 'array', items: checkpoint } },
          },
        },
      },
    },
    async (request) => {
      const query = rawQuery(request)
      const after = count(query, 'after_size') ?? 0
      const limit = Math.min(count(query, 'limit', 1) ?? 100, MAX_LIMIT)
      return { checkpoints: await log.checkpoints(request.params.project_id, after, limit) }
    },
  )

  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/log/inclusion-proof',
    {
      config: projectRoute('cts:log:get'),
      schema: {
        summary: 'Prove that a trace is in the log at a checkpoint (OpenCTS)',
        tags,
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            trace_id: queryString('The trace.'),
            tree_size: queryString('Checkpoint tree size to prove against; default latest.'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              trace_id: { type: 'string' },
              leaf_index: { type: 'integer' },
              tree_size: { type: 'integer' },
              leaf_hash: hash,
              audit_path: { type: 'array', items: hash },
              checkpoint,
              trace: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    async (request) => {
      const query = rawQuery(request)
      const traceId = query.trace_id
      if (typeof traceId !== 'string' || traceId === '')
        throw ctsError('OCTS_ERR_PROOF_INVALID', 'trace_id is required, once.')
      return log.inclusion(request.params.project_id, traceId, count(query, 'tree_size', 1))
    },
  )

  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/log/consistency-proof',
    {
      config: projectRoute('cts:log:get'),
      schema: {
        summary: 'Prove that a smaller tree is a prefix of a larger one (OpenCTS)',
        tags,
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            first: queryString('The smaller tree size (at least 1).'),
            second: queryString('The larger tree size; default the latest checkpoint.'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              first: { type: 'integer' },
              second: { type: 'integer' },
              proof: { type: 'array', items: hash },
            },
          },
        },
      },
    },
    async (request) => {
      const query = rawQuery(request)
      return log.consistency(
        request.params.project_id,
        required(query, 'first', 1),
        count(query, 'second', 1),
      )
    },
  )

  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/log/keys',
    {
      config: projectRoute('cts:log:get'),
      schema: {
        summary: 'List the public keys of checkpoint signatures (OpenCTS)',
        tags,
        params: projectParams,
        response: {
          200: {
            type: 'object',
            properties: {
              keys: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    key_name: { type: 'string' },
                    key_id: { type: 'string', description: 'Hex of the 4-byte note key id.' },
                    algorithm: { type: 'string', enum: ['Ed25519'] },
                    public_key: { type: 'string', description: 'PEM SubjectPublicKeyInfo.' },
                    verifier_key: {
                      type: 'string',
                      description: 'C2SP verifier key `<name>+<hex id>+<base64(0x01||key)>`.',
                    },
                    created_at: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async () => ({ keys: await log.publicKeys() }),
  )
}
