/**
 * @module cli/http-client
 * A small client of the OpenCTS API over `fetch`, for the CLI. A 4xx/5xx answer becomes a
 * `CtsApiError` carrying the CTS error body (`error_code`, `error_msg`); an unreachable server or a
 * timeout becomes a `CliFailure` naming the endpoint.
 */
import type { ListTracesResponse } from '../query/index.js'
import { CliFailure, UsageError } from './cli-errors.js'

/** Default API endpoint of the CLI (where `opencts serve` listens by default). */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8088'

/** The API answered with an error status. */
export class CtsApiError extends Error {
  override readonly name = 'CtsApiError'
  readonly status: number
  readonly errorCode: string
  readonly errorMsg: string

  constructor(status: number, errorCode: string, errorMsg: string) {
    super(`${errorCode} ${errorMsg} (HTTP ${status})`)
    this.status = status
    this.errorCode = errorCode
    this.errorMsg = errorMsg
  }
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

export class CtsClient {
  readonly #base: string
  readonly #timeoutMs: number

  constructor(endpoint: URL, timeoutMs = 120_000) {
    this.#base = endpoint.href.replace(/\/+$/, '')
    this.#timeoutMs = timeoutMs
  }

  /** POST /v3/{project}/traces with a prepared `{"traces":[...]}` body; returns the trace ids. */
  async postTraces(projectId: string, body: string): Promise<string[]> {
    const answer = (await this.#call(
      'POST',
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
    const answer = (await this.#call('GET', path)) as Partial<ListTracesResponse>
    if (!Array.isArray(answer.traces) || typeof answer.meta_data !== 'object')
      throw new CliFailure('the server answered without traces and meta_data')
    return answer as ListTracesResponse
  }

  async #call(method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
    let response: Response
    try {
      response = await fetch(this.#base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
    } catch (error) {
      throw new CliFailure(`cannot reach ${this.#base}: ${networkReason(error)}`, { cause: error })
    }
    const text = await response.text()
    let json: unknown
    try {
      json = text === '' ? {} : JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!response.ok) {
      const error = json as { error_code?: unknown; error_msg?: unknown } | undefined
      throw new CtsApiError(
        response.status,
        typeof error?.error_code === 'string' ? error.error_code : `HTTP ${response.status}`,
        typeof error?.error_msg === 'string' ? error.error_msg : text.slice(0, 200),
      )
    }
    if (typeof json !== 'object' || json === null)
      throw new CliFailure(`the server answered ${response.status} with a body that is not JSON`)
    return json
  }
}
