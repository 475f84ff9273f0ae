/**
 * @module http/routes/reply-with
 * Sends a capability service's `{status, body}` result.
 */
import type { FastifyReply } from 'fastify'

export interface ServiceAnswer {
  readonly status: number
  readonly body?: unknown
}

export function replyWith(reply: FastifyReply, result: ServiceAnswer): FastifyReply {
  if (result.body === undefined) return reply.code(result.status).send()
  return reply.code(result.status).send(result.body)
}
