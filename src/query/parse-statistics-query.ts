/**
 * @module query/parse-statistics-query
 * The query string of the statistics API (`GET /v3/{project_id}/traces/statistics`) as a store
 * filter and a StatisticsSpec: the ListTraces filters and window (parse-trace-query), `group_by`
 * (up to two fields, comma-separated), `distinct` (one field), `interval` (ms; intervals aligned
 * on multiples of it since the epoch, at most MAX_STAT_INTERVALS over the window) and `top`. The
 * API's field names are the ListTraces ones (`user`, not the store's `user_name`). A parameter the
 * API does not know, a `trace_id` or paging parameters are refused: a typo must not silently count
 * everything. Violations throw OCTS_ERR_QUERY (400 CTS.0300) saying what was got and wanted.
 */
import { ctsError } from '../errors/index.js'
import type { StatField, StatisticsSpec, TraceFilter } from '../store/index.js'
import { parseTraceQuery, type ParseOptions, type RawQuery } from './parse-trace-query.js'

/** API field name → store field, in the order the docs list them. */
export const STAT_API_FIELDS: Readonly<Record<string, StatField>> = {
  service_type: 'service_type',
  resource_type: 'resource_type',
  trace_name: 'trace_name',
  user: 'user_name',
  source_ip: 'source_ip',
  trace_rating: 'trace_rating',
  code: 'code',
  access_key_id: 'access_key_id',
}

/** The API name of a store field. */
export function statApiName(field: StatField): string {
  return Object.keys(STAT_API_FIELDS).find((k) => STAT_API_FIELDS[k] === field) ?? field
}

export const DEFAULT_STAT_TOP = 10
export const MAX_STAT_TOP = 1000
export const MAX_STAT_INTERVALS = 1000
const MIN_INTERVAL_MS = 1000
const MAX_INTERVAL_MS = 7 * 86_400_000

/** The filter parameters statistics take (those of ListTraces but trace_id and paging). */
const FILTER_NAMES = [
  'from',
  'to',
  'trace_type',
  'tracker_name',
  'service_type',
  'user',
  'resource_id',
  'resource_name',
  'resource_type',
  'trace_name',
  'trace_rating',
  'trace_status',
  'access_key_id',
  'enterprise_project_id',
  'q',
]
const OWN_NAMES = ['group_by', 'distinct', 'interval', 'top']

export interface StatisticsPlan {
  readonly filter: TraceFilter
  readonly spec: StatisticsSpec
}

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

function single(raw: RawQuery, name: string): string | undefined {
  const value = raw[name]
  if (Array.isArray(value)) fail(`${name} is given ${value.length} times, give it once`)
  return value === undefined || value === '' ? undefined : value
}

function field(name: string, value: string): StatField {
  const f = Object.hasOwn(STAT_API_FIELDS, value) ? STAT_API_FIELDS[value] : undefined
  if (f === undefined)
    fail(
      `${name} must name ${Object.keys(STAT_API_FIELDS).join(', ')}, got ${JSON.stringify(value.slice(0, 64))}`,
    )
  return f
}

function integer(raw: RawQuery, name: string, min: number, max: number): number | undefined {
  const value = single(raw, name)
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d{1,16}$/.test(value) || n < min || n > max)
    fail(
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value.slice(0, 40))}`,
    )
  return n
}

/**
 * Parses a statistics query string. `alsoAllowed`: names the caller handles itself (let through
 * unparsed).
 */
export function parseStatisticsQuery(
  raw: RawQuery,
  options: Omit<ParseOptions, 'legacy'>,
  alsoAllowed: readonly string[] = [],
): StatisticsPlan {
  const known = new Set([...FILTER_NAMES, ...OWN_NAMES, ...alsoAllowed])
  for (const name of Object.keys(raw)) {
    if (known.has(name)) continue
    if (name === 'trace_id')
      fail(
        'trace_id is not a statistics filter: statistics count many traces, get one with ListTraces',
      )
    fail(
      `unknown parameter ${JSON.stringify(name.slice(0, 64))}: statistics take ${[...FILTER_NAMES, ...OWN_NAMES].join(', ')}`,
    )
  }
  const groupText = single(raw, 'group_by')
  const groupBy =
    groupText === undefined ? [] : groupText.split(',').map((v) => field('group_by', v.trim()))
  if (groupBy.length > 2) fail(`group_by takes one or two fields, got ${groupBy.length}`)
  if (groupBy.length === 2 && groupBy[0] === groupBy[1])
    fail(`group_by names ${JSON.stringify(groupText)} twice`)
  const distinctText = single(raw, 'distinct')
  const distinct = distinctText === undefined ? null : field('distinct', distinctText)
  const top = integer(raw, 'top', 1, MAX_STAT_TOP) ?? DEFAULT_STAT_TOP
  const step = integer(raw, 'interval', MIN_INTERVAL_MS, MAX_INTERVAL_MS)
  const filters: Record<string, string | string[] | undefined> = {}
  for (const name of FILTER_NAMES) if (raw[name] !== undefined) filters[name] = raw[name]
  const plan = parseTraceQuery(filters, { ...options, legacy: false })
  // No trace_id reaches it: always a page plan.
  if (plan.kind !== 'page') fail('trace_id is not a statistics filter')
  const { filter } = plan
  let buckets: StatisticsSpec['buckets'] = null
  if (step !== undefined) {
    const start = Math.floor((filter.from + 1) / step) * step
    const count = Math.ceil((filter.to - start) / step)
    if (count > MAX_STAT_INTERVALS)
      fail(
        `interval ${step} ms cuts the window into ${count} intervals, at most ${MAX_STAT_INTERVALS}: use a longer interval or a shorter window`,
      )
    buckets = { start, step }
  }
  return { filter, spec: { groupBy, distinct, top, buckets } }
}
