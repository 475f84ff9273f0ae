/**
 * @module cli/format-traces
 * The three output formats of `opencts query`:
 * - `table`: time (ISO, UTC, to the second), trace name, rating, service, resource type, id and name,
 *   user and code, for reading in a terminal;
 * - `json`: a JSON array of the traces exactly as the API returned them;
 * - `csv`: RFC 4180 with a header row, the columns of model/trace-csv (the console's export has the
 *   same), values verbatim.
 */
import type { ApiTrace } from '../model/index.js'
import { TRACE_CSV_HEADER, traceCsvFields, traceUserName } from '../model/trace-csv.js'
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

function iso(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
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
    traceUserName(t),
    t.code ?? '',
  ]
}

export function formatTraces(traces: readonly ApiTrace[], format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(TABLE_HEADER, traces.map(tableRow))
    case 'json':
      return JSON.stringify(traces, null, 2) + '\n'
    case 'csv':
      return formatCsv(TRACE_CSV_HEADER, traces.map(traceCsvFields))
  }
}
