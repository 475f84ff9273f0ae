/**
 * @module http/request-context
 * What the HTTP layer knows about a caller, for self-audit traces.
 */
import type { FastifyRequest } from 'fastify'
import type { Caller } from '../ingest/index.js'

export function callerOf(request: FastifyRequest): Caller {
  const agent = request.headers['user-agent']
  return {
    sourceIp: request.ip,
    user: null,
    requestId: request.id,
    userAgent: typeof agent === 'string' ? agent.slice(0, 1024) : null,
    traceType: 'ApiCall',
  }
}

/** Query string as a plain record (Fastify gives arrays for repeated keys). */
export function rawQuery(request: FastifyRequest): Record<string, string | string[] | undefined> {
  return (request.query ?? {}) as Record<string, string | string[] | undefined>
}
