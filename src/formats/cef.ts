/**
 * @module formats/cef
 * ArcSight Common Event Format (CEF) version 0, one line a trace, as SIEMs take it over syslog:
 * `CEF:0|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension`.
 * - vendor and product `OpenCTS`, version the server's; signature `service_type:trace_name`, name
 *   the trace name; severity normal 3, warning 6, incident 9 (of 0–10);
 * - header fields escape `\` and `|` with a backslash; extension values escape `\` and `=`, and
 *   carry CR/LF as `\r`/`\n`; extension keys are CEF's own (below), custom ones as labelled
 *   `cs`/`cn` pairs.
 */
import { activityOf, numericCode, outcomeOf, type ApiTrace } from '../model/index.js'
import { operatorOf } from './trace-facts.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

const SEVERITY: Readonly<Record<string, number>> = { normal: 3, warning: 6, incident: 9 }

/** A header field: `\` and `|` escaped, line breaks as spaces (a header is one line). */
export function cefHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')
}

/** An extension value: `\` and `=` escaped, CR and LF as `\r` and `\n`. */
export function cefValue(value: string): string {
  return value
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
}

/** The CEF line of a trace. */
export function cefRecord(trace: ApiTrace, context: FormatContext): string {
  const operator = operatorOf(trace)
  const code = numericCode(trace)
  const standard: [string, string | number | undefined][] = [
    ['rt', trace.time],
    ['externalId', trace.trace_id],
    ['act', trace.trace_name],
    ['cat', trace.service_type],
    ['outcome', outcomeOf(trace)],
    ['src', trace.source_ip],
    ['suser', operator.name],
    ['suid', operator.id],
    ['request', trace.resource_url],
    ['msg', trace.message],
  ]
  // Custom fields: key, its label (written as `<key>Label` before it), value.
  const custom: [string, string, string | number | undefined][] = [
    ['cs1', 'projectId', context.projectId],
    ['cs2', 'resourceType', trace.resource_type],
    ['cs3', 'resourceId', trace.resource_id],
    ['cs4', 'resourceName', trace.resource_name],
    ['cs5', 'traceType', trace.trace_type],
    ['cs6', 'activity', activityOf(trace)],
    ['cn1', 'code', code],
  ]
  const pairs = [
    ...standard,
    ...custom.flatMap(([key, label, value]): [string, string | number | undefined][] => [
      [`${key}Label`, value === undefined ? undefined : label],
      [key, value],
    ]),
  ]
    .filter((pair): pair is [string, string | number] => pair[1] !== undefined)
    .map(([key, value]) => `${key}=${cefValue(String(value))}`)
  const head = [
    'CEF:0',
    'OpenCTS',
    'OpenCTS',
    context.productVersion,
    `${trace.service_type}:${trace.trace_name}`,
    trace.trace_name,
    String(SEVERITY[trace.trace_rating] ?? 3),
  ]
  return `${head.map((field, k) => (k === 0 ? field : cefHeader(field))).join('|')}|${pairs.join(' ')}`
}

export const CEF: TraceFormat = {
  name: 'cef',
  title: 'ArcSight Common Event Format (CEF:0), one line a trace',
  mediaType: 'text/plain; charset=utf-8',
  extension: 'cef',
  framing: 'lines',
  record: cefRecord,
}
