/**
 * Calls to the OpenCTS HTTP API (the console's only way to the server). Sends the session token as
 * `X-Auth-Token`, fills `{project_id}` / `{domain_id}`, and turns every failure into an ApiError
 * with a readable message: the API's `{"error_code", "error_msg"}`, or what went wrong on the way.
 * A 401 ends the session and returns to the sign-in page.
 */
import { navigate } from './router'
import { clearSession, loadSession } from './session'

export class ApiError extends Error {
  readonly status: number
  readonly code: string

  constructor(message: string, status: number, code: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export type Query = Readonly<Record<string, string | undefined>>

export function apiUrl(path: string, query: Query = {}): string {
  const session = loadSession()
  const filled = path
    .replace('{project_id}', encodeURIComponent(session?.projectId ?? ''))
    .replace('{domain_id}', encodeURIComponent(session?.accountId ?? ''))
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, value)
  const search = params.toString()
  return search === '' ? filled : `${filled}?${search}`
}

/** The readable message of a failed answer. */
export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '')
  try {
    const body = JSON.parse(text) as { error_code?: unknown; error_msg?: unknown }
    if (typeof body.error_msg === 'string') {
      const code = typeof body.error_code === 'string' ? body.error_code : 'unknown'
      return new ApiError(
        `${body.error_msg} (${code}, HTTP ${response.status})`,
        response.status,
        code,
      )
    }
  } catch {
    // not JSON: fall through
  }
  const status = `HTTP ${response.status} ${response.statusText}`.trim()
  return new ApiError(`The server answered ${status}.`, response.status, 'http')
}

/** fetch with the session token; throws ApiError on a network failure or a non-2xx answer. */
export async function send(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<Response> {
  const session = loadSession()
  const headers: Record<string, string> = { accept: 'application/json' }
  if (session !== null) headers['x-auth-token'] = session.token
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'omit',
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(
      'Cannot reach the OpenCTS server. Check the connection and retry.',
      0,
      'network',
    )
  }
  if (response.ok) return response
  const failure = await errorOf(response)
  if (response.status === 401 && session !== null) {
    clearSession()
    navigate('sign-in', true)
  }
  throw failure
}

/** A JSON call; resolves with the parsed body (undefined for an empty answer). */
export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { query?: Query; body?: unknown } = {},
): Promise<T> {
  const response = await send(method, path, options)
  const text = await response.text()
  return (text === '' ? undefined : JSON.parse(text)) as T
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
