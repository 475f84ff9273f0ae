/**
 * @module model/trace
 * The trace: one recorded operation on a cloud resource (spec/cts-api.md §3). This file defines the
 * stored form, which every other representation (API, file) is derived from.
 *
 * Stored form invariants (produced only by `normalizeTrace`):
 * - every key is present; absent optional values are `null`;
 * - `code` is a decimal string (or null), `request`/`response` are strings (or null);
 * - `user` is an object (or null), `user_name` mirrors `user.name` for filtering;
 * - `time` and `record_time` are integer epoch milliseconds.
 */

export const TRACE_RATINGS = ['normal', 'warning', 'incident'] as const
export type TraceRating = (typeof TRACE_RATINGS)[number]

export const MANAGEMENT_TRACE_TYPES = [
  'ApiCall',
  'ConsoleAction',
  'SystemAction',
  'Others',
] as const
export const DATA_TRACE_TYPES = ['ObsSDK', 'ObsAPI'] as const
export const TRACE_TYPES = [...MANAGEMENT_TRACE_TYPES, ...DATA_TRACE_TYPES] as const
export type TraceType = (typeof TRACE_TYPES)[number]

/** Query-side trace category (`trace_type` query parameter): management (`system`) or data traces. */
export const TRACE_CATEGORIES = ['system', 'data'] as const
export type TraceCategory = (typeof TRACE_CATEGORIES)[number]

export const EVENT_TYPES = ['system', 'global', 'data'] as const
export type EventType = (typeof EVENT_TYPES)[number]

export interface BaseUser {
  id?: string
  name?: string
}

/** Operator of a trace (spec §3.1 UserInfo). Unknown keys are kept as sent. */
export interface UserInfo {
  id?: string
  name?: string
  user_name?: string
  domain?: BaseUser
  account_id?: string
  access_key_id?: string
  principal_urn?: string
  principal_id?: string
  principal_is_root_user?: 'true' | 'false'
  type?: string
  invoked_by?: string[]
  session_context?: { attributes?: { created_at?: string; mfa_authenticated?: string } }
  OriginUser?: string
  [key: string]: unknown
}

/** The stored form of a trace. */
export interface TraceRecord {
  trace_id: string
  project_id: string
  domain_id: string | null
  tracker_name: string | null
  trace_name: string
  trace_rating: TraceRating
  trace_type: TraceType
  event_type: EventType
  service_type: string
  resource_type: string
  resource_id: string | null
  resource_name: string | null
  request: string | null
  response: string | null
  code: string | null
  api_version: string | null
  message: string | null
  time: number
  record_time: number
  user: UserInfo | null
  user_name: string | null
  access_key_id: string | null
  source_ip: string | null
  request_id: string | null
  location_info: string | null
  endpoint: string | null
  resource_url: string | null
  enterprise_project_id: string | null
  resource_account_id: string | null
  read_only: boolean | null
  operation_id: string | null
  user_agent: string | null
  content_length: number | null
  total_time: number | null
}

/** Whether a trace type is a data-plane (`data` category) trace type. */
export function isDataTraceType(type: TraceType): boolean {
  return (DATA_TRACE_TYPES as readonly string[]).includes(type)
}

/** The query category a stored trace belongs to. */
export function traceCategory(trace: Pick<TraceRecord, 'trace_type'>): TraceCategory {
  return isDataTraceType(trace.trace_type) ? 'data' : 'system'
}
