/**
 * @module model/trace-representations
 * The API and file representations of a stored trace (spec §3.2).
 *
 * - API (v1/v2/v3 lists): `code`, `request`, `response` are strings; `time`/`record_time` ms numbers;
 *   `user` an object. Absent (null) optional fields are omitted.
 * - File (transferred trace files, log streams): `user` is a JSON-encoded string, `code` a number
 *   when it is numeric, plus `event_type`, `project_id`, `domain_id`, `tracker_name`.
 */
import type { TraceRecord, UserInfo } from './trace.js'

/** A trace as the query APIs return it. */
export interface ApiTrace {
  trace_id: string
  trace_name: string
  trace_rating: string
  trace_type: string
  service_type: string
  resource_type: string
  resource_id?: string
  resource_name?: string
  request?: string
  response?: string
  code?: string
  api_version?: string
  message?: string
  time: number
  record_time: number
  user?: UserInfo
  source_ip?: string
  request_id?: string
  location_info?: string
  endpoint?: string
  resource_url?: string
  enterprise_project_id?: string
  resource_account_id?: string
  read_only?: boolean
  operation_id?: string
  /** Legacy v2.0 name of `trace_rating`; only set on v2.0 responses. */
  trace_status?: string
}

const API_OPTIONAL = [
  'resource_id',
  'resource_name',
  'request',
  'response',
  'code',
  'api_version',
  'message',
  'source_ip',
  'request_id',
  'location_info',
  'endpoint',
  'resource_url',
  'enterprise_project_id',
  'resource_account_id',
  'operation_id',
] as const

export function toApiTrace(trace: TraceRecord): ApiTrace {
  const out: ApiTrace = {
    trace_id: trace.trace_id,
    trace_name: trace.trace_name,
    trace_rating: trace.trace_rating,
    trace_type: trace.trace_type,
    service_type: trace.service_type,
    resource_type: trace.resource_type,
    time: trace.time,
    record_time: trace.record_time,
  }
  for (const key of API_OPTIONAL) {
    const value = trace[key]
    if (value !== null) out[key] = value
  }
  if (trace.user !== null) out.user = trace.user
  if (trace.read_only !== null) out.read_only = trace.read_only
  return out
}

/** A trace as written to transferred files and log streams. */
export type FileTrace = Record<string, string | number | boolean>

export function toFileTrace(trace: TraceRecord): FileTrace {
  const out: FileTrace = {}
  for (const [key, value] of Object.entries(trace) as [keyof TraceRecord, unknown][]) {
    if (value === null || key === 'user_name' || key === 'access_key_id') continue
    if (key === 'user') out.user = JSON.stringify(value)
    else if (key === 'code' && typeof value === 'string') {
      out.code = /^\d+$/.test(value) ? Number(value) : value
    } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[key] = value
  }
  return out
}
