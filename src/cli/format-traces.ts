/**
 * @module cli/format-traces
 * The output formats of `opencts query`: `table` — time (ISO, UTC, to the second), trace name,
 * rating, service, resource type, id and name, user and code, for reading in a terminal — and every
 * format of the registry (formats/registry: `json` as the API returned the traces, `csv` with values
 * verbatim, the open formats), as the export API writes them.
 */
import { encodeTraceList, traceFormat, TRACE_FORMAT_NAMES } from '../formats/registry.js'
import type { ApiTrace } from '../model/index.js'
import { traceUserName } from '../model/trace-csv.js'
import { OPENCTS_VERSION } from '../version.js'
import { formatTable } from './format-table.js'

export const OUTPUT_FORMATS: readonly string[] = ['table', ...TRACE_FORMAT_NAMES]
export type OutputFormat = string

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

/** The traces of project `projectId` in `format` (one of OUTPUT_FORMATS). */
export function formatTraces(
  traces: readonly ApiTrace[],
  format: OutputFormat,
  projectId: string,
): string {
  if (format === 'table') return formatTable(TABLE_HEADER, traces.map(tableRow))
  // `json` stays as it always was here: indented, for reading.
  if (format === 'json') return JSON.stringify(traces, null, 2) + '\n'
  const registered = traceFormat(format)
  if (registered === undefined) throw new RangeError(`no output format ${format}`)
  return encodeTraceList(registered, traces, { projectId, productVersion: OPENCTS_VERSION })
}
