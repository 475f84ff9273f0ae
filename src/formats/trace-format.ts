/**
 * @module formats/trace-format
 * What a trace output format is: a name, how a whole file or stream of it is framed, and one trace
 * as one record. The registry (registry.ts) lists them; export, `opencts query` and the log
 * streams take their formats from it.
 */
import type { ApiTrace } from '../model/index.js'

/** What a record is made from besides the trace: the API form leaves the project out. */
export interface FormatContext {
  /** The project the trace belongs to. */
  readonly projectId: string
  /** The producing software's version (OpenCTS's), written where a format has a place for it. */
  readonly productVersion: string
  /**
   * CSV only: a cell starting with `=`, `+`, `@`, a tab or a CR gets a leading `'` so spreadsheets
   * do not run it (the export's downloads); without it values are verbatim (`opencts query`).
   */
  readonly neutralizeFormulas?: boolean
}

/**
 * How records make a file or stream:
 * - `array`: a JSON array, one record a line (`[`, records separated by `,`, `]`);
 * - `lines`: each record and a line feed (JSON lines, CEF lines, Splunk HEC batches);
 * - `csv`: a header line, then one CRLF-terminated line a trace (the record is the line).
 */
export type Framing = 'array' | 'lines' | 'csv'

export interface TraceFormat {
  readonly name: string
  /** One line for help texts and docs. */
  readonly title: string
  readonly mediaType: string
  /** File name extension of an export, without the dot. */
  readonly extension: string
  readonly framing: Framing
  /** The header line of a `csv` format (CRLF-terminated). */
  readonly header?: string
  /** One trace as one record: a JSON text or a line, without the line end (csv: with it). */
  record(trace: ApiTrace, context: FormatContext): string
}
