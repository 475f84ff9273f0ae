/**
 * @module cli/http-client
 * A small client of the OpenCTS API over `fetch`, for the CLI. Every request carries the credential
 * of a `RequestAuthorizer`: an AK/SK signature (`SDK-HMAC-SHA256`, with `X-Project-Id`), a token
 * (`X-Auth-Token`), or a token got once by signing in with a password (`POST /v3/auth/tokens`).
 * A 4xx/5xx answer becomes a `CtsApiError` carrying the CTS error body (`error_code`, `error_msg`),
 * with a hint naming the credential's source on 401, 403 and 429 (never a secret); an unreachable
 * server or a timeout becomes a `CliFailure` naming the endpoint.
 */
import { signRequest } from '../auth/sdk-hmac.js'
import { passwordSignInBody } from '../auth/credentials-file.js'
import type { ListTracesResponse } from '../query/index.js'
import type { ResourceHistory } from '../query/resource-history.js'
import { CliFailure, UsageError } from './cli-errors.js'

/** Default API endpoint of the CLI (where `opencts serve` listens by default). */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8088'

/** How long a request may take, headers and body. */
const DEFAULT_TIMEOUT_MS = 120_000

/** The API answered with an error status. */
export class CtsApiError extends Error {
  override readonly name = 'CtsApiError'
  readonly status: number
  readonly errorCode: string
  readonly errorMsg: string
  /** What to do about it (on 401, 403 and 429), or undefined; never holds a secret. */
  readonly hint: string | undefined

  constructor(status: number, errorCode: string, errorMsg: string, hint?: string) {
    super(`${errorCode} ${errorMsg} (HTTP ${status})${hint === undefined ? '' : `\n  ${hint}`}`)
    this.status = status
    this.errorCode = errorCode
    this.errorMsg = errorMsg
    this.hint = hint
  }
}

/** A request about to be sent, as an authorizer sees it. */
export interface OutgoingRequest {
  readonly method: string
  readonly url: URL
  /** Every header the request sends besides the authorizer's (lowercase names). */
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
  /**
   * The project the request acts on (the `{project_id}` of its path). A credential scoped to a
   * project is scoped to this one, so one client serves every project its user may act on.
   */
  readonly projectId?: string
}

/** Authenticates requests with one credential. */
export interface RequestAuthorizer {
  /** The credential and where it came from, for messages; never holds a secret. */
  readonly description: string
  /**
   * The headers to add to `request` (sent together with `request.headers`, nothing else signed).
   * Throws CtsApiError or CliFailure when getting a token fails.
   */
  authorize(request: OutgoingRequest): Promise<Readonly<Record<string, string>>>
  /** Forgets a credential the server answered 401 to, when it can get a new one (a token). */
  refresh?(request: OutgoingRequest): void
}

/** Sends `X-Auth-Token`. */
export function tokenAuthorizer(token: string, description: string): RequestAuthorizer {
  return { description, authorize: () => Promise.resolve({ 'x-auth-token': token }) }
}

/**
 * Signs each request with SDK-HMAC-SHA256, scoped by a signed `X-Project-Id` to the request's
 * project (`projectId` when the request names none).
 */
export function akskAuthorizer(input: {
  readonly accessKeyId: string
  readonly secretKey: string
  readonly projectId: string
  readonly description: string
  readonly now: () => number
}): RequestAuthorizer {
  return {
    description: input.description,
    authorize: (request) => {
      const projectId = request.projectId ?? input.projectId
      const headers = { ...request.headers, 'x-project-id': projectId }
      const signed = signRequest({
        method: request.method,
        url: request.url,
        headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        accessKeyId: input.accessKeyId,
        secretKey: input.secretKey,
        now: input.now(),
      })
      return Promise.resolve({ 'x-project-id': projectId, ...signed })
    },
  }
}

/**
 * Signs in once per project (a token scoped to the request's project, `projectId` when it names
 * none, on first use) and sends that token. A failed sign-in is not remembered: the next request
 * tries again; `refresh` forgets a token the server no longer accepts.
 */
export function passwordAuthorizer(input: {
  readonly endpoint: URL
  readonly account: string
  readonly user: string
  readonly password: string
  readonly projectId: string
  readonly description: string
  readonly timeoutMs?: number
}): RequestAuthorizer {
  const tokens = new Map<string, Promise<string>>()
  return {
    description: input.description,
    authorize: async (request) => {
      const projectId = request.projectId ?? input.projectId
      let token = tokens.get(projectId)
      if (token === undefined) {
        token = signIn({ ...input, projectId })
        tokens.set(projectId, token)
        token.catch(() => tokens.delete(projectId))
      }
      return { 'x-auth-token': await token }
    },
    refresh: (request) => {
      tokens.delete(request.projectId ?? input.projectId)
    },
  }
}

/** POST /v3/auth/tokens with a password, scoped to the project; resolves with the token. */
async function signIn(input: Parameters<typeof passwordAuthorizer>[0]): Promise<string> {
  const base = baseOf(input.endpoint)
  const body = JSON.stringify(passwordSignInBody(input))
  const response = await send(
    base,
    'POST',
    '/v3/auth/tokens',
    { 'content-type': 'application/json' },
    body,
    input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  )
  const text = await response.text()
  if (!response.ok) throw apiError(response, text, input.description)
  const token = response.headers.get('x-subject-token')
  if (token === null || token === '')
    throw new CliFailure(
      `the server answered ${response.status} to sign-in without X-Subject-Token`,
    )
  return token
}

/** Checks an endpoint URL given by flag or environment. Throws UsageError. */
export function parseEndpoint(text: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`--endpoint must be an http(s) URL, got ${JSON.stringify(text)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--endpoint must be an http(s) URL, got ${JSON.stringify(text)}`)
  return url
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time'
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

function baseOf(endpoint: URL): string {
  return endpoint.href.replace(/\/+$/, '')
}

/** One fetch; an unreachable server or a timeout becomes a CliFailure naming the endpoint. */
async function send(
  base: string,
  method: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: string | undefined,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (error) {
    throw new CliFailure(`cannot reach ${base}: ${networkReason(error)}`, { cause: error })
  }
}

/** The CtsApiError of an error answer; `credential` names the credential for the hint. */
function apiError(response: Response, text: string, credential: string): CtsApiError {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const error = json as { error_code?: unknown; error_msg?: unknown } | null | undefined
  const status = response.status
  return new CtsApiError(
    status,
    typeof error?.error_code === 'string' ? error.error_code : `HTTP ${status}`,
    typeof error?.error_msg === 'string' ? error.error_msg : text.slice(0, 200),
    authHint(status, credential, response.headers.get('retry-after')),
  )
}

function authHint(
  status: number,
  credential: string,
  retryAfter: string | null,
): string | undefined {
  switch (status) {
    case 401:
      return `check the credentials (${credential})`
    case 403:
      return (
        `the credentials (${credential}) are valid, but their user holds no policy allowing ` +
        'this in the project (an administrator can grant one with "opencts admin grant")'
      )
    case 429: {
      const wait = retryAfter !== null && /^\d+$/.test(retryAfter) ? `${retryAfter} s` : 'a while'
      return (
        `too many failed authentications from this address: wait ${wait}, then check the ` +
        `credentials (${credential})`
      )
    }
    default:
      return undefined
  }
}

export class CtsClient {
  readonly #base: string
  readonly #authorizer: RequestAuthorizer
  readonly #timeoutMs: number

  constructor(endpoint: URL, authorizer: RequestAuthorizer, timeoutMs = DEFAULT_TIMEOUT_MS) {
    this.#base = baseOf(endpoint)
    this.#authorizer = authorizer
    this.#timeoutMs = timeoutMs
  }

  /** POST /v3/{project}/traces with a prepared `{"traces":[...]}` body; returns the trace ids. */
  async postTraces(projectId: string, body: string): Promise<string[]> {
    const answer = (await this.#call(
      'POST',
      projectId,
      `/v3/${encodeURIComponent(projectId)}/traces`,
      body,
    )) as {
      trace_ids?: unknown
    }
    if (!Array.isArray(answer.trace_ids))
      throw new CliFailure('the server answered 201 without a trace_ids array')
    return answer.trace_ids.map(String)
  }

  /** GET /v3/{project}/traces with the given query parameters. */
  async listTraces(
    projectId: string,
    params: Readonly<Record<string, string>>,
  ): Promise<ListTracesResponse> {
    const query = new URLSearchParams(params).toString()
    const path = `/v3/${encodeURIComponent(projectId)}/traces${query === '' ? '' : `?${query}`}`
    const answer = (await this.#call('GET', projectId, path)) as Partial<ListTracesResponse>
    if (!Array.isArray(answer.traces) || typeof answer.meta_data !== 'object')
      throw new CliFailure('the server answered without traces and meta_data')
    return answer as ListTracesResponse
  }

  /**
   * GET /v3/{project}/resources/history (`resource_id` or `resource_name`, `from`, `to`, `limit`,
   * `next`, …): the summary and a page of events of one resource.
   */
  async resourceHistory(
    projectId: string,
    params: Readonly<Record<string, string>>,
  ): Promise<ResourceHistory> {
    const query = new URLSearchParams(params).toString()
    const path = `/v3/${encodeURIComponent(projectId)}/resources/history?${query}`
    const answer = (await this.#call('GET', projectId, path)) as Record<string, unknown>
    if (
      typeof answer.summary !== 'object' ||
      !Array.isArray(answer.events) ||
      typeof answer.meta_data !== 'object'
    )
      throw new CliFailure('the server answered without summary, events and meta_data')
    return answer as unknown as ResourceHistory
  }

  /** GET /v3/{project}/trackers with the given query parameters. */
  async listTrackers(
    projectId: string,
    params: Readonly<Record<string, string>>,
  ): Promise<{ trackers: Record<string, unknown>[] }> {
    const query = new URLSearchParams(params).toString()
    const path = `/v3/${encodeURIComponent(projectId)}/trackers${query === '' ? '' : `?${query}`}`
    const answer = (await this.#call('GET', projectId, path)) as { trackers?: unknown }
    if (!Array.isArray(answer.trackers))
      throw new CliFailure('the server answered without a trackers array')
    return answer as { trackers: Record<string, unknown>[] }
  }

  /** GET /v3/{project}/insights (docs/insights.md filters): one page of insights, newest first. */
  async listInsights(
    projectId: string,
    params: Readonly<Record<string, string>>,
  ): Promise<{ insights: Record<string, unknown>[]; meta_data: { marker: string | null } }> {
    const query = new URLSearchParams(params).toString()
    const path = `/v3/${encodeURIComponent(projectId)}/insights${query === '' ? '' : `?${query}`}`
    const answer = (await this.#call('GET', projectId, path)) as {
      insights?: unknown
      meta_data?: { marker?: unknown }
    }
    if (!Array.isArray(answer.insights))
      throw new CliFailure('the server answered without an insights array')
    const marker = answer.meta_data?.marker
    return {
      insights: answer.insights as Record<string, unknown>[],
      meta_data: { marker: typeof marker === 'string' ? marker : null },
    }
  }

  /** GET /v3/{project}/deliveries (`status`, `limit`): notification deliveries, newest first. */
  async listDeliveries(
    projectId: string,
    params: Readonly<Record<string, string>>,
  ): Promise<{ deliveries: Record<string, unknown>[] }> {
    const query = new URLSearchParams(params).toString()
    const path = `/v3/${encodeURIComponent(projectId)}/deliveries${query === '' ? '' : `?${query}`}`
    const answer = (await this.#call('GET', projectId, path)) as { deliveries?: unknown }
    if (!Array.isArray(answer.deliveries))
      throw new CliFailure('the server answered without a deliveries array')
    return answer as { deliveries: Record<string, unknown>[] }
  }

  /** POST /v3/{project}/deliveries/{id}/redeliver. */
  async redeliver(projectId: string, deliveryId: string): Promise<void> {
    await this.#call(
      'POST',
      projectId,
      `/v3/${encodeURIComponent(projectId)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`,
      '{}',
    )
  }

  /**
   * Any JSON call of the project's API under `/v3/{project}` (`path` starts with `/`), e.g. the
   * alarm rules; resolves with the parsed answer (`{}` for an empty one).
   */
  async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    projectId: string,
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
    return (await this.#call(
      method,
      projectId,
      `/v3/${encodeURIComponent(projectId)}${path}`,
      body === undefined ? undefined : JSON.stringify(body),
    )) as Record<string, unknown>
  }

  async #call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    projectId: string,
    path: string,
    body?: string,
  ): Promise<unknown> {
    const headers: Record<string, string> =
      body === undefined ? {} : { 'content-type': 'application/json' }
    const request: OutgoingRequest = {
      method,
      url: new URL(this.#base + path),
      headers,
      projectId,
      ...(body === undefined ? {} : { body }),
    }
    const attempt = async (): Promise<Response> =>
      send(
        this.#base,
        method,
        path,
        { ...headers, ...(await this.#authorizer.authorize(request)) },
        body,
        this.#timeoutMs,
      )
    let response = await attempt()
    if (response.status === 401 && this.#authorizer.refresh !== undefined) {
      // A token that expired meanwhile: sign in again, once.
      await response.body?.cancel()
      this.#authorizer.refresh(request)
      response = await attempt()
    }
    const text = await response.text()
    if (!response.ok) throw apiError(response, text, this.#authorizer.description)
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      json = undefined
    }
    if (typeof json !== 'object' || json === null)
      throw new CliFailure(`the server answered ${response.status} with a body that is not JSON`)
    return json
  }
}
