/**
 * @module http/authenticate
 * Authentication and authorization of every request, in Fastify's hooks:
 *
 * 1. `onRequest`: a route that is not public needs `X-Auth-Token` or an `SDK-HMAC-SHA256`
 *    `Authorization` (else 401, not counted as a failure). A source blocked after too many failures
 *    answers 429. A token is checked here. For a signature, everything but the body hash is checked
 *    here (format, X-Sdk-Date within ±15 min, access key active) and the secret key is fetched.
 * 2. `preParsing`: for signed requests, the body is hashed (SHA-256) as it streams in: the exact
 *    bytes received, not a re-serialisation. The hashing stream always has an error listener (a
 *    broken chunk must not end the process, also when no route reads the body).
 * 3. `preValidation`: the signature is verified (both canonical-URI variants, constant time), then
 *    the route's action is authorized against the `:project_id` / `:domain_id` of the path, before
 *    any validation of the request can reveal anything.
 *
 * Failed tokens and signatures count against the source address (auth/failure-throttle).
 */
import { createHash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import {
  EMPTY_BODY_SHA256,
  parseAuthorization,
  precheckSignedRequest,
  verifySignature,
  type Account,
  type ParsedAuthorization,
  type Principal,
  type ReceivedRequest,
  type User,
} from '../auth/index.js'
import { OpenCtsError, isOpenCtsError } from '../errors/index.js'
import type { HttpServices } from '../services.js'
import { pipeBody } from './body-intake.js'
import type { RouteAuth } from './route-auth.js'

interface PendingSignature {
  readonly auth: ParsedAuthorization
  readonly secretKey: string
  readonly user: User
  readonly account: Account
  bodySha256: string | null
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; null on public routes. */
    principal: Principal | null
    /** A signed request whose signature is verified once the body is read. */
    pendingSignature: PendingSignature | null
  }
}

function unauthenticated(reason: string): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_UNAUTHENTICATED', {
    message: `Incorrect IAM authentication information: ${reason}`,
  })
}

function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  if (value === undefined) return undefined
  if (Array.isArray(value)) throw unauthenticated(`more than one ${name} header`)
  return value
}

function received(request: FastifyRequest, bodySha256: string): ReceivedRequest {
  const url = request.raw.url ?? '/'
  const q = url.indexOf('?')
  return {
    method: request.method,
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? '' : url.slice(q + 1),
    headers: request.headers,
    bodySha256,
  }
}

/** Passes the body through unchanged while hashing it. */
class HashingStream extends Transform {
  readonly #hash = createHash('sha256')
  readonly #onDone: (hex: string) => void
  /** Read by Fastify to check Content-Length. */
  receivedEncodedLength = 0

  constructor(onDone: (hex: string) => void) {
    super()
    this.#onDone = onDone
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk)
    this.receivedEncodedLength += chunk.length
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.#onDone(this.#hash.digest('hex'))
    callback()
  }
}

function routeAuth(request: FastifyRequest): RouteAuth | undefined {
  return request.routeOptions.config.auth
}

export function registerAuthentication(app: FastifyInstance, services: HttpServices): void {
  const { auth } = services
  app.decorateRequest('principal', null)
  app.decorateRequest('pendingSignature', null)

  app.addHook('onRoute', (route) => {
    const config = route.config as { auth?: RouteAuth } | undefined
    if (config?.auth === undefined)
      throw new Error(`route ${String(route.method)} ${route.url} declares no config.auth`)
  })

  /** Runs an authentication step; a 401 counts as a failure of the source. */
  async function counted<T>(request: FastifyRequest, step: () => Promise<T>): Promise<T> {
    try {
      return await step()
    } catch (error) {
      if (isOpenCtsError(error) && error.code === 'OCTS_ERR_UNAUTHENTICATED') {
        if (auth.recordFailure(request.ip))
          request.log.warn({ ip: request.ip }, 'authentication failures: source blocked')
      }
      throw error
    }
  }

  app.addHook('onRequest', async (request) => {
    const required = routeAuth(request)
    if (required === undefined || required === 'public') return
    const token = singleHeader(request, 'x-auth-token')
    const authorization = singleHeader(request, 'authorization')
    if (token === undefined && authorization === undefined)
      throw unauthenticated('x-auth-token not found')
    auth.checkSource(request.ip)
    if (token !== undefined) {
      request.principal = await counted(request, () => auth.authenticateToken(token))
      return
    }
    await counted(request, async () => {
      const parsed = parseAuthorization(authorization ?? '')
      if ('error' in parsed) throw unauthenticated(parsed.error)
      const problem = precheckSignedRequest(received(request, EMPTY_BODY_SHA256), parsed, {
        now: services.clock.now(),
        allowUnsignedPayload: services.config.allowUnsignedPayload,
      })
      if (problem !== null) throw unauthenticated(problem)
      const key = await auth.accessKey(parsed.accessKeyId)
      request.pendingSignature = { auth: parsed, ...key, bodySha256: null }
    })
  })

  app.addHook('preParsing', async (request, _reply, payload) => {
    const pending = request.pendingSignature
    if (pending === null) return payload
    const hashing = new HashingStream((hex) => {
      pending.bodySha256 = hex
    })
    return pipeBody(payload, hashing)
  })

  app.addHook('preValidation', async (request) => {
    const required = routeAuth(request)
    if (required === undefined || required === 'public') return
    const pending = request.pendingSignature
    if (pending !== null) {
      await counted(request, async () => {
        const ok = verifySignature(
          received(request, pending.bodySha256 ?? EMPTY_BODY_SHA256),
          pending.auth,
          pending.secretKey,
        )
        if (!ok) throw unauthenticated('verify aksk signature fail')
      })
      request.principal = await auth.signedPrincipal(
        pending.auth.accessKeyId,
        pending.user,
        pending.account,
        singleHeader(request, 'x-project-id') ?? null,
        singleHeader(request, 'x-domain-id') ?? null,
      )
      request.pendingSignature = null
    }
    const principal = request.principal
    if (principal === null) throw unauthenticated('x-auth-token not found')
    if (required === 'authenticated') return
    const params = (request.params ?? {}) as Record<string, unknown>
    const id = params[required.scope === 'project' ? 'project_id' : 'domain_id']
    const target = typeof id === 'string' ? id : ''
    await auth.authorize(
      principal,
      required.action,
      required.scope === 'project' ? { projectId: target } : { domainId: target },
    )
  })
}
