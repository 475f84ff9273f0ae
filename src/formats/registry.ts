/**
 * @module formats/registry
 * The trace output formats, by name: the one list the export API (`format=`), `opencts query
 * --format` and the log streams (`OPENCTS_LOG_STREAM_FORMAT`) take theirs from, and the framing of
 * a whole file or stream of records (see TraceFormat).
 */
import type { ApiTrace } from '../model/index.js'
import { API_JSON, CSV } from './api-json.js'
import { CADF } from './cadf.js'
import { CEF } from './cef.js'
import { ECS } from './ecs.js'
import { OCSF } from './ocsf.js'
import { SPLUNK_HEC } from './splunk-hec.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

export const TRACE_FORMATS: readonly TraceFormat[] = [
  API_JSON,
  CSV,
  OCSF,
  CADF,
  CEF,
  ECS,
  SPLUNK_HEC,
]

export const TRACE_FORMAT_NAMES: readonly string[] = TRACE_FORMATS.map((f) => f.name)

/** The formats whose records stand alone (a log-stream record, a syslog MSG): all but CSV. */
export const RECORD_FORMAT_NAMES: readonly string[] = TRACE_FORMATS.filter(
  (f) => f.framing !== 'csv',
).map((f) => f.name)

/** The format of that name, or undefined. */
export function traceFormat(name: string): TraceFormat | undefined {
  return TRACE_FORMATS.find((f) => f.name === name)
}

/** The pieces of text a file or stream of `format` is made of, records as they come. */
export async function* encodeTraces(
  format: TraceFormat,
  traces: AsyncIterable<ApiTrace> | Iterable<ApiTrace>,
  context: FormatContext,
): AsyncGenerator<string> {
  if (format.framing === 'csv') yield format.header ?? ''
  else if (format.framing === 'array') yield '['
  let first = true
  for await (const trace of traces) {
    const record = format.record(trace, context)
    if (format.framing === 'array') yield `${first ? '' : ','}\n${record}`
    else if (format.framing === 'lines') yield `${record}\n`
    else yield record
    first = false
  }
  if (format.framing === 'array') yield '\n]\n'
}

/** A whole document of `format` (for lists already in memory: the CLI, tests). */
export function encodeTraceList(
  format: TraceFormat,
  traces: readonly ApiTrace[],
  context: FormatContext,
): string {
  const records = traces.map((t) => format.record(t, context))
  switch (format.framing) {
    case 'csv':
      return (format.header ?? '') + records.join('')
    case 'lines':
      return records.map((r) => `${r}\n`).join('')
    case 'array':
      return `[${records.map((r, k) => `${k === 0 ? '' : ','}\n${r}`).join('')}\n]\n`
  }
}
