/**
 * @module http/routes/topics
 * Notification targets and deliveries (OpenCTS; docs/notifications-delivery.md): topics and their
 * subscriptions, function endpoints, the delivery list and redelivery. Acting on these needs the
 * notification actions: create/delete for targets, list for reading, update for redelivery.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { CtsAction } from '../../auth/index.js'
import type { HttpServices } from '../../services.js'
import { projectRoute } from '../route-auth.js'
import { PROJECT_ID, queryString } from '../schemas.js'

type Params = Record<string, string>
type Handler = (
  services: NonNullable<HttpServices['topics']>,
  params: Params,
  request: FastifyRequest,
) => Promise<unknown>

interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE'
  readonly url: string
  readonly action: CtsAction
  readonly summary: string
  readonly status: number
  readonly params: readonly string[]
  readonly query?: Record<string, unknown>
  readonly body?: Record<string, unknown>
  readonly handler: Handler
}

const object = (
  properties: Record<string, unknown>,
  required: string[],
): Record<string, unknown> => ({
  type: 'object',
  required,
  properties,
})

const ROUTES: readonly RouteSpec[] = [
  {
    method: 'POST',
    url: '/v3/:project_id/topics',
    action: 'cts:notification:create',
    summary: 'Create a topic (urn:smn:{region}:{project_id}:{name})',
    status: 201,
    params: [],
    body: object({ name: { type: 'string' } }, ['name']),
    handler: (t, p, r) => t.createTopic(p.project_id ?? '', r.body),
  },
  {
    method: 'GET',
    url: '/v3/:project_id/topics',
    action: 'cts:notification:list',
    summary: 'List topics',
    status: 200,
    params: [],
    handler: (t, p) => t.listTopics(p.project_id ?? ''),
  },
  {
    method: 'DELETE',
    url: '/v3/:project_id/topics/:topic_name',
    action: 'cts:notification:delete',
    summary: 'Delete a topic and its subscriptions',
    status: 204,
    params: ['topic_name'],
    handler: (t, p) => t.deleteTopic(p.project_id ?? '', p.topic_name ?? ''),
  },
  {
    method: 'POST',
    url: '/v3/:project_id/topics/:topic_name/subscriptions',
    action: 'cts:notification:create',
    summary:
      'Subscribe an endpoint (http, https or email); the answer carries its signing secret once',
    status: 201,
    params: ['topic_name'],
    body: object(
      {
        protocol: { type: 'string', enum: ['http', 'https', 'email'] },
        endpoint: { type: 'string' },
      },
      ['protocol', 'endpoint'],
    ),
    handler: (t, p, r) => t.subscribe(p.project_id ?? '', p.topic_name ?? '', r.body),
  },
  {
    method: 'GET',
    url: '/v3/:project_id/topics/:topic_name/subscriptions',
    action: 'cts:notification:list',
    summary: 'List the subscriptions of a topic',
    status: 200,
    params: ['topic_name'],
    handler: (t, p) => t.listSubscriptions(p.project_id ?? '', p.topic_name ?? ''),
  },
  {
    method: 'DELETE',
    url: '/v3/:project_id/topics/:topic_name/subscriptions/:subscription_id',
    action: 'cts:notification:delete',
    summary: 'Remove a subscription',
    status: 204,
    params: ['topic_name', 'subscription_id'],
    handler: (t, p) =>
      t.unsubscribe(p.project_id ?? '', p.topic_name ?? '', p.subscription_id ?? ''),
  },
  {
    method: 'POST',
    url: '/v3/:project_id/functions',
    action: 'cts:notification:create',
    summary: 'Bind a function URN (urn:fss:...) to the HTTP(S) endpoint that runs it',
    status: 201,
    params: [],
    body: object({ function_urn: { type: 'string' }, endpoint: { type: 'string' } }, [
      'function_urn',
      'endpoint',
    ]),
    handler: (t, p, r) => t.putFunction(p.project_id ?? '', r.body),
  },
  {
    method: 'GET',
    url: '/v3/:project_id/functions',
    action: 'cts:notification:list',
    summary: 'List function endpoints',
    status: 200,
    params: [],
    handler: (t, p) => t.listFunctions(p.project_id ?? ''),
  },
  {
    method: 'DELETE',
    url: '/v3/:project_id/functions',
    action: 'cts:notification:delete',
    summary: 'Remove a function endpoint',
    status: 204,
    params: [],
    query: { function_urn: queryString('The function URN.') },
    handler: (t, p, r) =>
      t.deleteFunction(p.project_id ?? '', (r.query as Params).function_urn ?? ''),
  },
  {
    method: 'GET',
    url: '/v3/:project_id/deliveries',
    action: 'cts:notification:list',
    summary: 'List notification deliveries, newest first',
    status: 200,
    params: [],
    query: {
      status: queryString('pending | delivered | dead (the dead letters)'),
      limit: queryString('1-1000, default 100'),
    },
    handler: (t, p, r) => {
      const q = r.query as Params
      return t.listDeliveries(p.project_id ?? '', q.status, q.limit)
    },
  },
  {
    method: 'POST',
    url: '/v3/:project_id/deliveries/:delivery_id/redeliver',
    action: 'cts:notification:update',
    summary: 'Send a delivery again (pending at once, attempts reset)',
    status: 202,
    params: ['delivery_id'],
    handler: (t, p) => t.redeliver(p.project_id ?? '', p.delivery_id ?? ''),
  },
]

export function registerTopicRoutes(app: FastifyInstance, services: HttpServices): void {
  const topics = services.topics
  for (const spec of ROUTES) {
    const properties: Record<string, unknown> = { project_id: PROJECT_ID }
    for (const name of spec.params) properties[name] = { type: 'string' }
    app.route({
      method: spec.method,
      url: spec.url,
      config: projectRoute(spec.action),
      schema: {
        summary: spec.summary,
        tags: ['notification delivery'],
        params: { type: 'object', required: ['project_id', ...spec.params], properties },
        ...(spec.query === undefined
          ? {}
          : { querystring: { type: 'object', properties: spec.query } }),
        ...(spec.body === undefined ? {} : { documentedBody: spec.body }),
      },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const body = await spec.handler(topics, request.params as Params, request)
        if (spec.status === 204 || body === undefined) return reply.code(spec.status).send()
        return reply.code(spec.status).send(body)
      },
    })
  }
}
