/**
 * @module store/trace-columns
 * Engine-neutral: the indexed columns of a `traces` row as derived from its trace (what the filters and the audit
 * read), and the check that a row's columns still say what its document says (an edit made with
 * SQL behind OpenCTS's back changes one without the other).
 */
import { traceCategory, type TraceRecord } from '../model/index.js'
import type { TraceFilter } from './store.js'

/** Columns with a filter index `(project_id, <column>, time[, seq])` in every engine. */
export const FILTER_COLUMNS = [
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'user_name',
  'trace_rating',
  'tracker_name',
  'access_key_id',
] as const

/** Filter keys and their columns (every filter is an exact, case-sensitive match). */
export const FILTER_SQL: readonly (readonly [keyof TraceFilter, string])[] = [
  ['trackerName', 'tracker_name'],
  ['serviceType', 'service_type'],
  ['resourceType', 'resource_type'],
  ['resourceId', 'resource_id'],
  ['resourceName', 'resource_name'],
  ['traceName', 'trace_name'],
  ['traceRating', 'trace_rating'],
  ['userName', 'user_name'],
  ['accessKeyId', 'access_key_id'],
  ['enterpriseProjectId', 'enterprise_project_id'],
]

/** The columns `traceColumns` gives, in order. */
export const TRACE_COLUMNS = [
  'trace_id',
  'project_id',
  'time',
  'category',
  'tracker_name',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user_name',
  'access_key_id',
  'enterprise_project_id',
] as const

/** The values of TRACE_COLUMNS for a trace. */
export function traceColumns(t: TraceRecord): (string | number | null)[] {
  return [
    t.trace_id,
    t.project_id,
    t.time,
    traceCategory(t),
    t.tracker_name,
    t.service_type,
    t.resource_type,
    t.resource_id,
    t.resource_name,
    t.trace_name,
    t.trace_rating,
    t.user_name,
    t.access_key_id,
    t.enterprise_project_id,
  ]
}

/** Whether a row's TRACE_COLUMNS are what `traceColumns` gives for its document. */
export function columnsMatch(row: Readonly<Record<string, unknown>>, doc: string): boolean {
  let trace: TraceRecord
  try {
    trace = JSON.parse(doc) as TraceRecord
  } catch {
    return false
  }
  if (typeof trace !== 'object' || trace === null) return false
  let want: (string | number | null)[]
  try {
    want = traceColumns(trace)
  } catch {
    return false
  }
  return TRACE_COLUMNS.every((name, i) => (row[name] ?? null) === (want[i] ?? null))
}
