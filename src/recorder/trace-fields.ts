/**
 * @module recorder/trace-fields
 * Field rules shared by the trace builders: rating, api_version, user, captured bodies, message.
 * Every value is clipped to the ingest limits (src/model/trace-limits.ts) so that built traces always
 * pass `normalizeTrace`. Pure.
 */
import { FIELD_MAX_CHARS, type TraceRating } from '../model/index.js'
import { clip, isOctetStream, mediaType, truncateText } from './body-capture.js'
import type { Exchange, ExchangeUser } from './exchange.js'
import { redact } from './redact.js'
import type { SourceContext } from './value-source.js'

/** Options of the trace builders. */
export interface BuildOptions {
  /** Trace id source (a UUID); default `randomUUID` of node:crypto. */
  readonly newId?: () => string
  /** Record read-only rules (with `read_only: true`) instead of skipping them. Default false. */
  readonly recordReads?: boolean
}

/** Rating from the upstream status: < 400 normal, 4xx warning, ≥ 500 incident (the service failed). */
export function ratingOf(status: number): TraceRating {
  if (status < 400) return 'normal'
  return status < 500 ? 'warning' : 'incident'
}

/** `v1`, `v1.1`, `v2`, `v2.1`… when the first path segment is a version, else undefined. */
export function versionOf(path: string): string | undefined {
  const first = path.split('/').find((s) => s !== '')
  return first !== undefined && /^v\d+(\.\d+)*$/.test(first) ? first : undefined
}

/** Request headers keyed by lower-cased name. */
export function lowerHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v
  return out
}

/** The value-source context of an exchange. */
export function contextOf(
  params: Readonly<Record<string, string>>,
  exchange: Exchange,
  job?: unknown,
): SourceContext {
  return {
    params,
    requestJson: exchange.requestJson,
    responseJson: exchange.responseJson,
    job,
    headers: lowerHeaders(exchange.requestHeaders),
    lookupName: exchange.lookupName,
  }
}

/** A plain copy of the operator with only string fields (the ingest validator's shape). */
export function userOf(user: ExchangeUser | null): Record<string, unknown> | undefined {
  if (user === null) return undefined
  const out: Record<string, unknown> = {}
  for (const key of ['id', 'name', 'access_key_id'] as const) {
    if (typeof user[key] === 'string') out[key] = user[key]
  }
  if (user.domain !== undefined) {
    const domain: Record<string, string> = {}
    if (typeof user.domain.id === 'string') domain.id = user.domain.id
    if (typeof user.domain.name === 'string') domain.name = user.domain.name
    out.domain = domain
  }
  return out
}

/** JSON (redacted) or text, capped; '' when there is nothing to capture. */
export function bodyText(json: unknown, text: string | undefined, keys: readonly string[]): string {
  if (json !== undefined) return truncateText(JSON.stringify(redact(json, keys)) ?? '')
  return text === undefined ? '' : truncateText(text)
}

/**
 * The captured request and, when the body is not captured (octet-stream or `capture_request:
 * false`), a `content_type=…; content_length=N` note for `message`.
 */
export function requestCapture(
  exchange: Exchange,
  capture: boolean,
  keys: readonly string[],
): { readonly request: string; readonly note?: string } {
  const contentType = lowerHeaders(exchange.requestHeaders)['content-type']
  if (!capture || isOctetStream(contentType)) {
    if (exchange.requestBytes <= 0) return { request: '' }
    const type = mediaType(contentType) || 'unknown'
    return { request: '', note: `content_type=${type}; content_length=${exchange.requestBytes}` }
  }
  return { request: bodyText(exchange.requestJson, exchange.requestText, keys) }
}

/** `a=1; b=2` from defined parts, clipped to the message limit. */
export function messageOf(parts: readonly (string | undefined)[]): string | undefined {
  const text = parts.filter((p): p is string => p !== undefined && p !== '').join('; ')
  return text === '' ? undefined : clip(text, FIELD_MAX_CHARS.message ?? 4096)
}

/** Sets the defined, clipped value of a string field. */
export function put(
  trace: Record<string, unknown>,
  field: string,
  value: string | undefined,
): void {
  if (value === undefined) return
  trace[field] = clip(value, FIELD_MAX_CHARS[field] ?? 1024)
}
