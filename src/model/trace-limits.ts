/**
 * @module model/trace-limits
 * Size and format limits of a trace, in one place (documented in docs/traces.md).
 */

/** Max UTF-8 bytes of `request` and of `response`, each: 100 KB. */
export const MAX_REQUEST_BYTES = 100 * 1024
export const MAX_RESPONSE_BYTES = 100 * 1024
/** Max UTF-8 bytes of a whole normalised trace, serialised as JSON: 256 KB. */
export const MAX_TRACE_BYTES = 256 * 1024
/** Max traces in one ingest batch. */
export const MAX_BATCH_TRACES = 1000
/** Max bytes of one ingest request body: 12 MB (the CTS AK/SK body limit). */
export const MAX_BATCH_BYTES = 12 * 1024 * 1024

/**
 * How far ahead of the server clock a trace's `time` may be: 1 day (as Cloud Logging accepts),
 * room for skewed producer clocks, not for times in the wrong unit or zone.
 */
export const MAX_FUTURE_SKEW_MS = 86_400_000

/**
 * The `time` values a trace is accepted with (epoch ms, both ends inclusive): no older than the
 * retention (it would be purged at once, acknowledged but never queryable) and at most
 * MAX_FUTURE_SKEW_MS ahead of the clock.
 */
export interface TimeWindow {
  readonly oldest: number
  readonly newest: number
  /** The retention it derives from, ms (named in the error message). */
  readonly retentionMs: number
}

/** The accepted `time` window at `now` for a retention of `retentionMs`. */
export function acceptedTimeWindow(now: number, retentionMs: number): TimeWindow {
  return { oldest: now - retentionMs, newest: now + MAX_FUTURE_SKEW_MS, retentionMs }
}

/** `trace_name`: 1–64 chars, letters/digits/`-`/`_`/`.`, starting with a letter (spec §3.1). */
export const TRACE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/
/** `service_type`: 1–64 chars, letters/digits/`_`/`-`, starting with a letter (`ECS`, `IMS`, `CTS`). */
export const SERVICE_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/
/** `resource_type`: 1–64 chars, letters/digits/`_`/`-`/`.`/`:`, starting with a letter or digit. */
export const RESOURCE_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/
/** `trace_id`: a UUID (any version), compared lower-cased. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Max characters of the free-text string fields not listed above. */
export const FIELD_MAX_CHARS: Readonly<Record<string, number>> = {
  resource_id: 350,
  resource_name: 256,
  api_version: 64,
  message: 4096,
  source_ip: 64,
  request_id: 256,
  location_info: 4096,
  endpoint: 1024,
  resource_url: 2048,
  enterprise_project_id: 64,
  resource_account_id: 64,
  operation_id: 256,
  user_agent: 1024,
  domain_id: 64,
  tracker_name: 32,
}
