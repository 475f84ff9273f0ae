/**
 * @module model/trace-csv
 * The CSV form of traces, shared by `opencts query --format csv` and the export route (the
 * console's "Export CSV"), so both files have the same columns: RFC 4180 (CRLF line ends; a field
 * holding a comma, a double quote, CR or LF is enclosed in double quotes, inner quotes doubled),
 * times as ISO 8601 UTC. With `neutralizeFormulas`, a field starting with `=`, `+`, `@`, a tab or
 * a CR gets a leading `'` so that spreadsheets do not run it (the console's downloads); without it
 * values are verbatim, a faithful copy of the audit data.
 */
import type { ApiTrace } from './trace-representations.js'

export const TRACE_CSV_HEADER = [
  'trace_id',
  'time',
  'record_time',
  'trace_name',
  'trace_rating',
  'trace_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'user',
  'user_id',
  'domain',
  'code',
  'source_ip',
  'api_version',
  'request_id',
  'message',
] as const

export interface CsvOptions {
  readonly neutralizeFormulas?: boolean
}

/** One field, formula-neutralised when asked and quoted when RFC 4180 requires it. */
export function csvField(value: string, options: CsvOptions = {}): string {
  const text = options.neutralizeFormulas === true && /^[=+@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** One CSV line (CRLF-terminated) of fields. */
export function csvLine(fields: readonly string[], options: CsvOptions = {}): string {
  return fields.map((f) => csvField(f, options)).join(',') + '\r\n'
}

function iso(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

/** The operator's name: `user.name`, else `user.user_name`, else empty. */
export function traceUserName(trace: ApiTrace): string {
  const name = trace.user?.name ?? trace.user?.user_name
  return typeof name === 'string' ? name : ''
}

/** The fields of one trace in TRACE_CSV_HEADER order. */
export function traceCsvFields(t: ApiTrace): string[] {
  return [
    t.trace_id,
    iso(t.time),
    iso(t.record_time),
    t.trace_name,
    t.trace_rating,
    t.trace_type,
    t.service_type,
    t.resource_type,
    t.resource_id ?? '',
    t.resource_name ?? '',
    traceUserName(t),
    typeof t.user?.id === 'string' ? t.user.id : '',
    typeof t.user?.domain?.name === 'string' ? t.user.domain.name : '',
    t.code ?? '',
    t.source_ip ?? '',
    t.api_version ?? '',
    t.request_id ?? '',
    t.message ?? '',
  ]
}
