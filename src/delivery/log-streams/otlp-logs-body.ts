/**
 * @module delivery/log-streams/otlp-logs-body
 * The body of an OTLP/HTTP logs export (`ExportLogsServiceRequest`, JSON encoding) for a batch of
 * log records. Pure.
 *
 * Encoding (OTLP specification, "JSON Protobuf Encoding"): the proto3 JSON mapping with
 * lowerCamelCase keys; 64-bit integers (`timeUnixNano`, `observedTimeUnixNano`) are decimal
 * strings; enums (`severityNumber`) are integers; an attribute is `{key, value: {stringValue}}`.
 *
 * Layout:
 * - one `resourceLogs` per (project, tracker), in the order of their first record; resource
 *   attributes `service.name=opencts`, `cts.project_id`, `cts.tracker_name`, `cts.log_group_name`,
 *   `cts.log_topic_name`;
 * - one scope `opencts`, holding the records in commit order;
 * - per record: `timeUnixNano` the trace's `time`, `observedTimeUnixNano` its `record_time`;
 *   severity from `trace_rating` (normal INFO 9, warning WARN 13, incident ERROR 17); `body` the
 *   trace as JSON in the file representation (`toFileTrace`, as in transferred trace files);
 *   attributes `cts.<field>` for each non-null field of OTLP_ATTRIBUTE_FIELDS (`cts.user` is the
 *   operator's name).
 */
import type { TraceRating, TraceRecord } from '../../model/index.js'
import { CTS_RECORD_TEXT } from './record-text.js'
import type { LogRecordInput } from './log-sink.js'

export interface OtlpKeyValue {
  readonly key: string
  readonly value: { readonly stringValue: string }
}

export interface OtlpLogRecord {
  readonly timeUnixNano: string
  readonly observedTimeUnixNano: string
  readonly severityNumber: number
  readonly severityText: string
  readonly body: { readonly stringValue: string }
  readonly attributes: readonly OtlpKeyValue[]
}

export interface OtlpResourceLogs {
  readonly resource: { readonly attributes: readonly OtlpKeyValue[] }
  readonly scopeLogs: readonly {
    readonly scope: { readonly name: string }
    readonly logRecords: readonly OtlpLogRecord[]
  }[]
}

export interface OtlpLogsRequest {
  readonly resourceLogs: readonly OtlpResourceLogs[]
}

/** Trace fields carried as `cts.<field>` record attributes (`user_name` as `cts.user`). */
export const OTLP_ATTRIBUTE_FIELDS = [
  'trace_id',
  'trace_name',
  'trace_rating',
  'trace_type',
  'event_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'user_name',
  'code',
  'source_ip',
  'request_id',
] as const satisfies readonly (keyof TraceRecord)[]

const SEVERITY: Readonly<Record<TraceRating, { number: number; text: string }>> = {
  normal: { number: 9, text: 'INFO' },
  warning: { number: 13, text: 'WARN' },
  incident: { number: 17, text: 'ERROR' },
}

/** OTLP severity of a trace rating: normal INFO 9, warning WARN 13, incident ERROR 17. */
export function otlpSeverity(rating: TraceRating): { number: number; text: string } {
  return SEVERITY[rating]
}

/** Epoch milliseconds as the decimal string of epoch nanoseconds (OTLP fixed64 in JSON). */
export function unixNano(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString()
}

function attribute(key: string, value: string): OtlpKeyValue {
  return { key, value: { stringValue: value } }
}

/** One OTLP log record of a trace. */
export function otlpLogRecord(trace: TraceRecord, text = CTS_RECORD_TEXT): OtlpLogRecord {
  const attributes: OtlpKeyValue[] = []
  for (const field of OTLP_ATTRIBUTE_FIELDS) {
    const value = trace[field]
    if (value !== null)
      attributes.push(attribute(field === 'user_name' ? 'cts.user' : `cts.${field}`, value))
  }
  const severity = otlpSeverity(trace.trace_rating)
  return {
    timeUnixNano: unixNano(trace.time),
    observedTimeUnixNano: unixNano(trace.record_time),
    severityNumber: severity.number,
    severityText: severity.text,
    body: { stringValue: text(trace) },
    attributes,
  }
}

/** The export request of a batch (records in commit order); empty `resourceLogs` for none. */
export function otlpLogsRequest(
  records: readonly LogRecordInput[],
  text = CTS_RECORD_TEXT,
): OtlpLogsRequest {
  const groups = new Map<string, { input: LogRecordInput; logRecords: OtlpLogRecord[] }>()
  for (const record of records) {
    const key = `${record.tracker.project_id}\u0000${record.tracker.tracker_name}`
    let group = groups.get(key)
    if (group === undefined) groups.set(key, (group = { input: record, logRecords: [] }))
    group.logRecords.push(otlpLogRecord(record.trace, text))
  }
  return {
    resourceLogs: [...groups.values()].map(({ input, logRecords }) => ({
      resource: {
        attributes: [
          attribute('service.name', 'opencts'),
          attribute('cts.project_id', input.tracker.project_id),
          attribute('cts.tracker_name', input.tracker.tracker_name),
          attribute('cts.log_group_name', input.tracker.lts.log_group_name),
          attribute('cts.log_topic_name', input.tracker.lts.log_topic_name),
        ],
      },
      scopeLogs: [{ scope: { name: 'opencts' }, logRecords }],
    })),
  }
}
