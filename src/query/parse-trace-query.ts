/**
 * @module query/parse-trace-query
 * Turns the query string of ListTraces (v3 and legacy v1.0/v2.0) into a store filter, with the rules
 * of spec §4.1: `from`/`to` exclusive 13-digit ms (default: the last hour), clamped to the retention
 * window; `limit` 1–200 (default 10); `trace_type` system|data (default system); `trace_rating`
 * (alias `trace_status`) normal|warning|incident; `next` a previous marker; `trace_id` overrides
 * every other filter; `q` (v3) a search (search-query). Violations throw OCTS_ERR_QUERY (400 CTS.0300) saying what was got and wanted.
 */
import { ctsError } from '../errors/index.js'
import {
  TRACE_CATEGORIES,
  TRACE_RATINGS,
  UUID_PATTERN,
  type TraceCategory,
  type TraceRating,
} from '../model/index.js'
import type { TraceFilter } from '../store/index.js'
import { parseSearch, searchFilter } from './search-query.js'

export const DEFAULT_LIMIT = 10
export const MAX_LIMIT = 200
export const DEFAULT_WINDOW_MS = 3_600_000

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>

export type TraceQueryPlan =
  | { readonly kind: 'byId'; readonly projectId: string; readonly traceId: string }
  | {
      readonly kind: 'page'
      readonly filter: TraceFilter
      readonly limit: number
      readonly next: string | null
    }

export interface ParseOptions {
  readonly projectId: string
  readonly now: number
  /** Traces older than this many ms are not queryable. */
  readonly retentionMs: number
  /** Legacy v1.0/v2.0: no trace_type/tracker_name (management traces of tracker `system` only), no `q`. */
  readonly legacy: boolean
  /** The bound of a search (TraceSearch.maxScan); default DEFAULT_SEARCH_MAX_SCAN. */
  readonly searchMaxScan?: number
}

export const DEFAULT_SEARCH_MAX_SCAN = 1_000_000

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

function single(raw: RawQuery, name: string): string | undefined {
  const value = raw[name]
  if (Array.isArray(value)) fail(`${name} is given ${value.length} times, give it once`)
  return value === undefined || value === '' ? undefined : value
}

function epochMs(raw: RawQuery, name: string): number | undefined {
  const value = single(raw, name)
  if (value === undefined) return undefined
  if (!/^\d{13}$/.test(value))
    fail(`${name} must be a 13-digit UTC timestamp in milliseconds, got ${JSON.stringify(value)}`)
  return Number(value)
}

function oneOf<T extends string>(raw: RawQuery, name: string, values: readonly T[]): T | undefined {
  const value = single(raw, name)
  if (value === undefined) return undefined
  if (!(values as readonly string[]).includes(value))
    fail(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`)
  return value as T
}

function text(raw: RawQuery, name: string, max = 1024): string | undefined {
  const value = single(raw, name)
  if (value !== undefined && value.length > max)
    fail(`${name} is ${value.length} characters, max ${max}`)
  return value
}

export function parseTraceQuery(raw: RawQuery, options: ParseOptions): TraceQueryPlan {
  const traceId = text(raw, 'trace_id', 64)
  if (traceId !== undefined) {
    if (!UUID_PATTERN.test(traceId)) fail(`trace_id must be a UUID, got ${JSON.stringify(traceId)}`)
    return { kind: 'byId', projectId: options.projectId, traceId: traceId.toLowerCase() }
  }
  const limitText = single(raw, 'limit')
  let limit = DEFAULT_LIMIT
  if (limitText !== undefined) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT) {
      fail(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limitText)}`)
    }
    limit = Number(limitText)
  }
  // `to` defaults to now, inclusive of the current millisecond (exclusive bound now + 1).
  const to = epochMs(raw, 'to') ?? options.now + 1
  const fromGiven = epochMs(raw, 'from')
  const from = fromGiven ?? to - DEFAULT_WINDOW_MS - 1
  if (from >= to) fail(`from (${from}) must be earlier than to (${to})`)
  const oldest = options.now - options.retentionMs
  const category: TraceCategory = options.legacy
    ? 'system'
    : (oneOf(raw, 'trace_type', TRACE_CATEGORIES) ?? 'system')
  const trackerName = options.legacy ? undefined : text(raw, 'tracker_name', 64)
  if (category === 'system' && trackerName !== undefined && trackerName !== 'system') {
    fail(
      `tracker_name must be system when trace_type is system, got ${JSON.stringify(trackerName)}`,
    )
  }
  const rating: TraceRating | undefined =
    oneOf(raw, 'trace_rating', TRACE_RATINGS) ?? oneOf(raw, 'trace_status', TRACE_RATINGS)
  const next = text(raw, 'next', 64)
  if (next !== undefined && !UUID_PATTERN.test(next))
    fail(`next must be a marker (trace id) from a previous page, got ${JSON.stringify(next)}`)
  const filter: { -readonly [K in keyof TraceFilter]: TraceFilter[K] } = {
    projectId: options.projectId,
    from: Math.max(from, oldest - 1),
    to,
    category,
  }
  if (category === 'data' && trackerName !== undefined) filter.trackerName = trackerName
  const optional: [keyof TraceFilter, string, number][] = [
    ['serviceType', 'service_type', 64],
    ['userName', 'user', 256],
    ['resourceId', 'resource_id', 350],
    ['resourceName', 'resource_name', 256],
    ['resourceType', 'resource_type', 64],
    ['traceName', 'trace_name', 64],
    ['accessKeyId', 'access_key_id', 128],
    ['enterpriseProjectId', 'enterprise_project_id', 64],
  ]
  for (const [key, name, max] of optional) {
    if (options.legacy && (name === 'access_key_id' || name === 'enterprise_project_id')) continue
    const value = text(raw, name, max)
    if (value !== undefined) (filter as Record<string, unknown>)[key] = value
  }
  if (rating !== undefined) filter.traceRating = rating
  const q = options.legacy ? undefined : single(raw, 'q')
  const searched =
    q === undefined
      ? filter
      : searchFilter(filter, parseSearch(q), options.searchMaxScan ?? DEFAULT_SEARCH_MAX_SCAN)
  return {
    kind: 'page',
    filter: searched,
    limit,
    next: next === undefined ? null : next.toLowerCase(),
  }
}
