/**
 * @module alarms/alarm-filter
 * An alarm rule's filter: the ListTraces v3 filter fields and search (`q`), validated exactly as ListTraces
 * validates them (query/parse-trace-query), and turned into the store filter of one window.
 * Violations throw OCTS_ERR_ALARM_INVALID (400 OCTS.0170) naming the field.
 */
import { OpenCtsError, isOpenCtsError } from '../errors/index.js'
import { parseTraceQuery, type RawQuery } from '../query/parse-trace-query.js'
import type { AlarmFilter, TraceFilter } from '../store/index.js'

/** The filter fields a rule takes (ListTraces v3's, without paging, time and trace_id). */
export const ALARM_FILTER_FIELDS = [
  'trace_type',
  'tracker_name',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user',
  'access_key_id',
  'q',
] as const

function invalid(message: string): never {
  throw new OpenCtsError('OCTS_ERR_ALARM_INVALID', { message })
}

/** The store filter of the window (`from`, `to`) exclusive, as ListTraces would build it. */
function parse(projectId: string, filter: RawQuery, from: number, to: number): TraceFilter {
  const plan = parseTraceQuery(
    { ...filter, from: String(from), to: String(to) },
    { projectId, now: to, retentionMs: to - from, legacy: false },
  )
  // Unreachable: `trace_id` is not a filter field.
  if (plan.kind !== 'page') return invalid('filter: trace_id is not a filter field')
  return plan.filter
}

/**
 * Checks a filter object of a request (absent: every management trace) and returns it normalised
 * (`trace_type` explicit, empty values dropped).
 */
export function validateAlarmFilter(projectId: string, value: unknown, now: number): AlarmFilter {
  if (value === undefined || value === null) return { trace_type: 'system' }
  if (typeof value !== 'object' || Array.isArray(value)) invalid('filter must be an object')
  const raw: Record<string, string> = {}
  for (const [key, field] of Object.entries(value)) {
    if (!(ALARM_FILTER_FIELDS as readonly string[]).includes(key))
      invalid(`filter.${key} is not a filter field (${ALARM_FILTER_FIELDS.join(', ')})`)
    if (field === null || field === '') continue
    if (typeof field !== 'string') invalid(`filter.${key} must be a string`)
    raw[key] = field
  }
  try {
    parse(projectId, raw, now - 60_000, now)
  } catch (error) {
    if (isOpenCtsError(error) && error.code === 'OCTS_ERR_QUERY')
      invalid(`filter: ${error.message.replace(/^Query failed: /, '')}`)
    throw error
  }
  return { trace_type: 'system', ...raw }
}

/**
 * The store filter counting the rule's traces with `time` in [windowStart, windowEnd) (the
 * store's bounds are exclusive). The filter was validated when the rule was stored.
 */
export function windowFilter(
  projectId: string,
  filter: AlarmFilter,
  windowStart: number,
  windowEnd: number,
): TraceFilter {
  return parse(projectId, filter as unknown as RawQuery, windowStart - 1, windowEnd)
}
