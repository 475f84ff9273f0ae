/**
 * @module http/request-context
 * What the HTTP layer knows about a caller, for self-audit traces.
 */
import type { FastifyRequest } from 'fastify'
import type { Caller } from '../ingest/index.js'

export function callerOf(request: FastifyRequest): Caller {
  const agent = request.headers['user-agent']
  const principal = request.principal
  return {
    sourceIp: request.ip,
    user:
      principal === null
        ? null
        : {
            id: principal.user.id,
            name: principal.user.name,
            domain: { id: principal.account.id, name: principal.account.name },
            ...(principal.accessKeyId === null ? {} : { access_key_id: principal.accessKeyId }),
          },
    requestId: request.id,
    userAgent: typeof agent === 'string' ? agent.slice(0, 1024) : null,
    traceType: 'ApiCall',
  }
}

/** Query string as a plain record (Fastify gives arrays for repeated keys). */
export function rawQuery(request: FastifyRequest): Record<string, string | string[] | undefined> {
  return (request.query ?? {}) as Record<string, string | string[] | undefined>
}
