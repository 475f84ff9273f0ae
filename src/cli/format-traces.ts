/**
 * @module cli/format-traces
 * The three output formats of `opencts query`:
 * - `table`: time (ISO, UTC, to the second), trace name, rating, service, resource type, id and name,
 *   user and code, for reading in a terminal;
 * - `json`: a JSON array of the traces exactly as the API returned them;
 * - `csv`: RFC 4180 with a header row and the fields useful in a spreadsheet (times as ISO with ms).
 */
import type { ApiTrace } from '../model/index.js'
import { formatCsv } from './format-csv.js'
import { formatTable } from './format-table.js'

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const TABLE_HEADER = [
  'TIME',
  'TRACE NAME',
  'RATING',
  'SERVICE',
  'RESOURCE TYPE',
  'RESOURCE ID',
  'RESOURCE NAME',
  'USER',
  'CODE',
] as const

export const CSV_HEADER = [
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

function iso(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

function userName(trace: ApiTrace): string {
  const name = trace.user?.name ?? trace.user?.user_name
  return typeof name === 'string' ? name : ''
}

function tableRow(t: ApiTrace): string[] {
  return [
    iso(t.time).replace(/\.\d{3}Z$/, 'Z'),
    t.trace_name,
    t.trace_rating,
    t.service_type,
    t.resource_type,
    t.resource_id ?? '',
    t.resource_name ?? '',
    userName(t),
    t.code ?? '',
  ]
}

function csvRow(t: ApiTrace): string[] {
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
    userName(t),
    typeof t.user?.id === 'string' ? t.user.id : '',
    typeof t.user?.domain?.name === 'string' ? t.user.domain.name : '',
    t.code ?? '',
    t.source_ip ?? '',
    t.api_version ?? '',
    t.request_id ?? '',
    t.message ?? '',
  ]
}

export function formatTraces(traces: readonly ApiTrace[], format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(TABLE_HEADER, traces.map(tableRow))
    case 'json':
      return JSON.stringify(traces, null, 2) + '\n'
    case 'csv':
      return formatCsv(CSV_HEADER, traces.map(csvRow))
  }
}
