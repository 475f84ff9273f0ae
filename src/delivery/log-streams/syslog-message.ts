/**
 * @module delivery/log-streams/syslog-message
 * RFC 5424 syslog messages of log records, their TCP framing and their UDP size rule. Pure.
 *
 * Message (RFC 5424 §6): `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] BOM MSG`
 * - PRI = facility × 8 + severity; facility from the target (default local0 = 16), severity from
 *   `trace_rating`: normal 6 (info), warning 4 (warning), incident 3 (err);
 * - TIMESTAMP the trace's `time` (RFC 3339, UTC, milliseconds); APP-NAME `opencts`;
 * - HOSTNAME, PROCID, MSGID: printable US-ASCII only (other characters removed), cut to 255, 128
 *   and 32 characters, `-` when empty; MSGID is the `trace_name`;
 * - SD: one element `[cts@32473 name="value" …]` with SYSLOG_SD_FIELDS (null fields left out, each
 *   value cut to 256 UTF-8 bytes, `"`, `\` and `]` escaped with `\`);
 * - MSG: the UTF-8 BOM, then the trace as JSON in the file representation (`toFileTrace`), or in
 *   the configured record format (`OPENCTS_LOG_STREAM_FORMAT`, record-text: a CEF line, an OCSF
 *   event …).
 *
 * TCP framing: octet counting (RFC 6587 §3.4.1), `MSG-LEN SP SYSLOG-MSG`.
 *
 * UDP (RFC 5426, one message per datagram) at most MAX_DATAGRAM_BYTES (8 KB). A larger record is
 * reduced, never dropped: first the MSG leaves out `request` and `response` and the SD gains
 * `truncated="request,response"`; if still too large the MSG is left out and the SD says
 * `truncated="msg"`. The capped SD keeps that last form under the limit.
 */
import type { TraceRating } from '../../model/index.js'
import type { LogRecordInput } from './log-sink.js'
import { CTS_RECORD_TEXT, type RecordText } from './record-text.js'

/** The SD-ID of the structured data element (32473: the documentation enterprise number). */
export const SD_ID = 'cts@32473'
/** Largest UDP datagram sent. */
export const MAX_DATAGRAM_BYTES = 8192
/** Largest SD parameter value, UTF-8 bytes before escaping. */
export const MAX_SD_VALUE_BYTES = 256
export const DEFAULT_FACILITY = 16

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** Trace fields carried as SD parameters (`user` is the operator's name), in this order. */
export const SYSLOG_SD_FIELDS = [
  'project_id',
  'tracker_name',
  'trace_id',
  'trace_rating',
  'trace_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'user',
  'code',
  'source_ip',
] as const

export interface SyslogHeader {
  /** 0..23. */
  readonly facility: number
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  /** What MSG holds (record-text; default the file representation as JSON). */
  readonly msg?: RecordText
}

export interface SyslogTarget {
  readonly protocol: 'tcp' | 'udp'
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string
  readonly port: number
  readonly facility: number
}

/** What a message leaves out to fit a datagram. */
export type Reduction = 'none' | 'bodies' | 'msg'

const SEVERITY: Readonly<Record<TraceRating, number>> = { normal: 6, warning: 4, incident: 3 }

/** Syslog severity of a trace rating: normal 6 (info), warning 4 (warning), incident 3 (err). */
export function syslogSeverity(rating: TraceRating): number {
  return SEVERITY[rating]
}

/** `value` reduced to printable US-ASCII (33..126), cut to `max`; `-` (NILVALUE) when empty. */
export function headerField(value: string, max: number): string {
  const kept = value.replace(/[^\x21-\x7e]/g, '').slice(0, max)
  return kept === '' ? '-' : kept
}

/** An SD parameter value cut to MAX_SD_VALUE_BYTES (on a character boundary) and escaped. */
export function sdValue(value: string): string {
  let cut = value
  if (Buffer.byteLength(value) > MAX_SD_VALUE_BYTES) {
    let bytes = 0
    let end = 0
    for (const char of value) {
      bytes += Buffer.byteLength(char)
      if (bytes > MAX_SD_VALUE_BYTES) break
      end += char.length
    }
    cut = value.slice(0, end)
  }
  return cut.replace(/["\\\]]/g, (c) => `\\${c}`)
}

function structuredData(record: LogRecordInput, reduction: Reduction): string {
  const { trace } = record
  const values: Record<(typeof SYSLOG_SD_FIELDS)[number], string | null> = {
    project_id: trace.project_id,
    tracker_name: record.tracker.tracker_name,
    trace_id: trace.trace_id,
    trace_rating: trace.trace_rating,
    trace_type: trace.trace_type,
    service_type: trace.service_type,
    resource_type: trace.resource_type,
    resource_id: trace.resource_id,
    resource_name: trace.resource_name,
    user: trace.user_name,
    code: trace.code,
    source_ip: trace.source_ip,
  }
  let sd = `[${SD_ID}`
  for (const name of SYSLOG_SD_FIELDS) {
    const value = values[name]
    if (value !== null) sd += ` ${name}="${sdValue(value)}"`
  }
  if (reduction === 'bodies') sd += ' truncated="request,response"'
  if (reduction === 'msg') sd += ' truncated="msg"'
  return `${sd}]`
}

/** The RFC 5424 message of a record, whole or reduced. */
export function formatSyslogMessage(
  record: LogRecordInput,
  header: SyslogHeader,
  reduction: Reduction = 'none',
): Buffer {
  const { trace } = record
  const pri = header.facility * 8 + syslogSeverity(trace.trace_rating)
  const head = [
    `<${pri}>1`,
    new Date(trace.time).toISOString(),
    headerField(header.hostname, 255),
    headerField(header.appName, 48),
    headerField(header.procId, 128),
    headerField(trace.trace_name, 32),
    structuredData(record, reduction),
  ].join(' ')
  if (reduction === 'msg') return Buffer.from(head, 'utf8')
  const text = header.msg ?? CTS_RECORD_TEXT
  const msg = text(reduction === 'bodies' ? { ...trace, request: null, response: null } : trace)
  return Buffer.concat([Buffer.from(`${head} `, 'utf8'), BOM, Buffer.from(msg, 'utf8')])
}

/** Octet-counting frame (RFC 6587 §3.4.1): the byte length, a space, the message. */
export function octetCountingFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message])
}

/** The datagram of a record: the whole message, or reduced to fit `maxBytes` (module header). */
export function syslogDatagram(
  record: LogRecordInput,
  header: SyslogHeader,
  maxBytes = MAX_DATAGRAM_BYTES,
): { datagram: Buffer; reduction: Reduction } {
  for (const reduction of ['none', 'bodies'] as const) {
    const datagram = formatSyslogMessage(record, header, reduction)
    if (datagram.length <= maxBytes) return { datagram, reduction }
  }
  return { datagram: formatSyslogMessage(record, header, 'msg'), reduction: 'msg' }
}

const FACILITY_NAMES: Readonly<Record<string, number>> = Object.fromEntries(
  Array.from({ length: 8 }, (_, i) => [`local${i}`, 16 + i]),
)

/**
 * Parses `tcp://host:port` or `udp://host:port`, optionally `?facility=local0..local7|0..23`
 * (default local0). Throws a RangeError saying what is wrong.
 */
export function parseSyslogTarget(text: string): SyslogTarget {
  const fail = (why: string): never => {
    throw new RangeError(`syslog target ${JSON.stringify(text)}: ${why}`)
  }
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return fail('want tcp://host:port or udp://host:port')
  }
  const protocol = url.protocol === 'tcp:' ? 'tcp' : url.protocol === 'udp:' ? 'udp' : undefined
  if (protocol === undefined) return fail('the scheme must be tcp or udp')
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') fail('a host is required')
  const port = Number(url.port)
  if (url.port === '' || !(port >= 1 && port <= 65535)) fail('a port from 1 to 65535 is required')
  if ((url.pathname !== '' && url.pathname !== '/') || url.username !== '' || url.hash !== '')
    fail('only a host, a port and ?facility= are allowed')
  let facility = DEFAULT_FACILITY
  for (const [key, value] of url.searchParams) {
    if (key !== 'facility') fail(`unknown parameter ${key}`)
    const named = FACILITY_NAMES[value]
    if (named !== undefined) facility = named
    else if (/^\d{1,2}$/.test(value) && Number(value) <= 23) facility = Number(value)
    else fail('facility must be local0..local7 or a number from 0 to 23')
  }
  return { protocol, host, port, facility }
}
