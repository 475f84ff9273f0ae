/**
 * @module delivery/log-streams/record-text
 * The text of one trace on a log stream (a file line, a syslog MSG, an OTLP log body), in the
 * configured format (`OPENCTS_LOG_STREAM_FORMAT`): `cts`, the trace in the file representation as
 * transferred trace files hold it (the default), or a record format of the registry
 * (formats/registry: OCSF, CADF, CEF, ECS, Splunk HEC, the API's JSON).
 */
import { traceFormat } from '../../formats/registry.js'
import { toApiTrace, toFileTrace, type TraceRecord } from '../../model/index.js'
import { OPENCTS_VERSION } from '../../version.js'

export type RecordText = (trace: TraceRecord) => string

/** The file representation as JSON (what the log streams always wrote). */
export const CTS_RECORD_TEXT: RecordText = (trace) => JSON.stringify(toFileTrace(trace))

/** The record text of a format name (`cts` or a registry format); throws RangeError on others. */
export function recordText(format: string): RecordText {
  if (format === 'cts') return CTS_RECORD_TEXT
  const registered = traceFormat(format)
  if (registered === undefined || registered.framing === 'csv')
    throw new RangeError(`no log-stream record format ${JSON.stringify(format)}`)
  return (trace) =>
    registered.record(toApiTrace(trace), {
      projectId: trace.project_id,
      productVersion: OPENCTS_VERSION,
    })
}
