/**
 * @module http/routes/auth
 * The IAM token API (spec ims-glance-auth §3.8), enough for CTS clients:
 * - `POST /v3/auth/tokens`: password sign-in scoped to a project; 201 with the token in
 *   `X-Subject-Token` and a Keystone/IAM body (expires_at, user, project, roles, catalog);
 * - `GET|HEAD /v3/auth/tokens`: checks the caller's own `X-Subject-Token`;
 * - `DELETE /v3/auth/tokens`: revokes it (sign-out).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SignInContext } from '../../auth/index.js'
import { OpenCtsError } from '../../errors/index.js'
import type { HttpServices } from '../../services.js'
import { callerOf } from '../request-context.js'
import { errorBody } from '../schemas.js'

const domainRef = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' } },
}

const signInBody = {
  type: 'object',
  required: ['auth'],
  properties: {
    auth: {
      type: 'object',
      required: ['identity', 'scope'],
      properties: {
        identity: {
          type: 'object',
          properties: {
            methods: { type: 'array', items: { type: 'string', enum: ['password'] } },
            password: {
              type: 'object',
              properties: {
                user: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    id: { type: 'string' },
                    password: { type: 'string' },
                    domain: domainRef,
                  },
                },
              },
            },
          },
        },
        scope: { type: 'object', properties: { project: domainRef } },
      },
    },
  },
}

const tokenBody = {
  type: 'object',
  description: 'Keystone/IAM token body; the token itself is the X-Subject-Token header.',
  additionalProperties: true,
}

function signInContext(request: FastifyRequest, services: HttpServices): SignInContext {
  return {
    caller: callerOf(request),
    publicUrl: `${request.protocol}://${request.host}`,
    region: services.config.region,
  }
}

function subjectToken(request: FastifyRequest): string {
  const value = request.headers['x-subject-token']
  if (typeof value !== 'string' || value === '')
    throw new OpenCtsError('OCTS_ERR_SUBJECT_TOKEN', {
      message: 'The X-Subject-Token header names the token to check or revoke.',
    })
  return value
}

export function registerAuthRoutes(app: FastifyInstance, services: HttpServices): void {
  const { auth } = services
  app.post(
    '/v3/auth/tokens',
    {
      config: { auth: 'public' },
      schema: {
        summary: 'Obtain a token (password, project scope)',
        tags: ['auth'],
        description:
          'IAM password authentication scoped to a project. The token (valid 24 h) is returned in the X-Subject-Token header; ' +
          'send it as X-Auth-Token. Every sign-in is recorded as an IAM `login` trace; failures are rated warning and ' +
          'repeated failures from one address are answered 429.',
        documentedBody: signInBody,
        response: { 201: tokenBody, 401: errorBody, 429: errorBody },
      },
    },
    async (request, reply) => {
      const result = await auth.signIn(request.body, signInContext(request, services))
      return reply.code(201).header('x-subject-token', result.token).send(result.body)
    },
  )
  app.get(
    '/v3/auth/tokens',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Check a token',
        tags: ['auth'],
        description:
          'Returns the body of X-Subject-Token if it is a live token of the caller; 404 otherwise. HEAD answers 200 or 404.',
        response: { 200: tokenBody, 404: errorBody },
      },
    },
    async (request, reply) => {
      const principal = request.principal
      if (principal === null) throw new OpenCtsError('OCTS_ERR_UNAUTHENTICATED')
      const body = await auth.subjectToken(
        principal,
        subjectToken(request),
        signInContext(request, services),
      )
      return reply.header('x-subject-token', subjectToken(request)).send(body)
    },
  )
  app.delete(
    '/v3/auth/tokens',
    {
      config: { auth: 'authenticated' },
      schema: {
        summary: 'Revoke a token (sign out)',
        tags: ['auth'],
        description: 'Revokes X-Subject-Token, which must be a token of the caller. 204.',
        response: { 204: { type: 'null', description: 'Revoked' }, 404: errorBody },
      },
    },
    async (request, reply) => {
      const principal = request.principal
      if (principal === null) throw new OpenCtsError('OCTS_ERR_UNAUTHENTICATED')
      await auth.revokeSubjectToken(principal, subjectToken(request))
      return reply.code(204).send()
    },
  )
}
