/**
 * @module formats/api-json
 * The two formats OpenCTS had before the registry: `json`, the traces as ListTraces answers them
 * (a JSON array, one trace a line), and `csv`, the columns of model/trace-csv (RFC 4180).
 */
import { TRACE_CSV_HEADER, csvLine, traceCsvFields } from '../model/trace-csv.js'
import type { TraceFormat } from './trace-format.js'

export const API_JSON: TraceFormat = {
  name: 'json',
  title: 'the traces as ListTraces answers them, a JSON array',
  mediaType: 'application/json; charset=utf-8',
  extension: 'json',
  framing: 'array',
  record: (trace) => JSON.stringify(trace),
}

export const CSV: TraceFormat = {
  name: 'csv',
  title: 'CSV (RFC 4180), one row a trace with a header row',
  mediaType: 'text/csv; charset=utf-8',
  extension: 'csv',
  framing: 'csv',
  header: csvLine(TRACE_CSV_HEADER),
  record: (trace, context) =>
    csvLine(traceCsvFields(trace), { neutralizeFormulas: context.neutralizeFormulas === true }),
}
