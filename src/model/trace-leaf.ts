/**
 * @module model/trace-leaf
 * The stored document and the leaf of the verifiable trace log, both byte-exact encodings of one
 * stored trace, and the RFC 8785 (JCS) canonical JSON encoder everything hashed or signed in
 * OpenCTS uses.
 *
 * Document: the JCS serialisation of one JSON object holding every field of the stored trace
 * (`TraceRecord`), absent values as `null`, and nothing else:
 *   access_key_id, api_version, code, content_length, domain_id, endpoint,
 *   enterprise_project_id, event_type, location_info, message, operation_id, project_id,
 *   read_only, record_time, request, request_id, resource_account_id, resource_id, resource_name,
 *   resource_type, resource_url, response, service_type, source_ip, time, total_time, trace_id,
 *   trace_name, trace_rating, trace_type, tracker_name, user, user_agent, user_name
 * (the order JCS gives: keys sorted by UTF-16 code units, at every depth, `user` included). No
 * whitespace, no trailing newline. With the log on, the store keeps exactly this text.
 *
 * Leaf format, version 1: the UTF-8 bytes of the JCS serialisation of the same object plus
 * `"_leaf_version": 1`. `_` sorts before every lower-case letter, so the leaf is the document with
 * `{"_leaf_version":1,` in place of its opening `{`. Any change to a stored trace therefore changes
 * its leaf. A new field in `TraceRecord` does not compile until it is listed here, and a new field
 * or a changed encoding requires a new `_leaf_version`. Example (abridged):
 *   {"_leaf_version":1,"access_key_id":null,"api_version":"v1",...,"user_name":"alice"}
 */
import type { TraceRecord } from './trace.js'

/** Version of the leaf format written by {@link traceLeaf}. */
export const TRACE_LEAF_VERSION = 1

/** Every stored field, checked by the compiler against `TraceRecord` in both directions. */
const TRACE_FIELDS: Record<keyof TraceRecord, true> = {
  trace_id: true,
  project_id: true,
  domain_id: true,
  tracker_name: true,
  trace_name: true,
  trace_rating: true,
  trace_type: true,
  event_type: true,
  service_type: true,
  resource_type: true,
  resource_id: true,
  resource_name: true,
  request: true,
  response: true,
  code: true,
  api_version: true,
  message: true,
  time: true,
  record_time: true,
  user: true,
  user_name: true,
  access_key_id: true,
  source_ip: true,
  request_id: true,
  location_info: true,
  endpoint: true,
  resource_url: true,
  enterprise_project_id: true,
  resource_account_id: true,
  read_only: true,
  operation_id: true,
  user_agent: true,
  content_length: true,
  total_time: true,
}
const FIELD_NAMES = Object.keys(TRACE_FIELDS) as (keyof TraceRecord)[]

/** The value cannot be encoded (JCS) or the bytes are not a valid leaf; `message` says why. */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CanonicalJsonError'
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** True unless the string has a lone surrogate (native where the runtime has isWellFormed). */
function wellFormed(s: string): boolean {
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed
  return native === undefined ? !LONE_SURROGATE.test(s) : native.call(s)
}

function encodeString(s: string, path: string): string {
  if (!wellFormed(s)) throw new CanonicalJsonError(`${path} has a lone surrogate`)
  return JSON.stringify(s)
}

function encode(value: unknown, path: string): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false'
    case 'string':
      return encodeString(value, path)
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${path} is ${value}, want finite`)
      return JSON.stringify(value)
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(',')}]`
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null)
        throw new CanonicalJsonError(`${path} is not a plain object`)
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      const members = keys.map(
        (k) => `${encodeString(k, path)}:${encode(record[k], `${path}.${k}`)}`,
      )
      return `{${members.join(',')}}`
    }
    default:
      throw new CanonicalJsonError(`${path} is ${typeof value}, not JSON`)
  }
}

/**
 * RFC 8785 canonical JSON: object keys sorted by UTF-16 code units, no whitespace, strings and
 * finite numbers as ES `JSON.stringify` writes them. Throws CanonicalJsonError for non-finite
 * numbers, undefined, functions, symbols, bigints, non-plain objects and lone surrogates.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$')
}

/** The leaf's version key, and the text that opens every version-1 leaf. */
const LEAF_VERSION_KEY = '_leaf_version'
const LEAF_OPENING = `{${JSON.stringify(LEAF_VERSION_KEY)}:${TRACE_LEAF_VERSION},`

/** The version-1 leaf bytes of a stored trace (format in the module comment). */
export function traceLeaf(trace: TraceRecord): Buffer {
  return Buffer.from(leafTextOf(traceDocument(trace)), 'utf8')
}

/**
 * The version-1 leaf text of a stored document (the output of {@link traceDocument}); its UTF-8
 * encoding is the leaf.
 */
export function leafTextOf(document: string): string {
  return LEAF_OPENING + document.slice(1)
}

/**
 * The canonical document of a stored trace (format in the module comment); throws
 * CanonicalJsonError where {@link canonicalJson} would.
 */
export function traceDocument(trace: TraceRecord): string {
  // The same text as canonicalJson(fields), built for speed (this runs once per ingested trace):
  // an object literal with its keys in JCS order, serialised by one native JSON.stringify, which
  // writes strings and finite numbers exactly as JCS does. Every value it would write otherwise
  // (non-finite numbers, lone surrogates, non-JSON values, array-index keys, which objects keep in
  // numeric order) sends the trace to the general encoder, which rejects it or encodes it exactly.
  const ordered = orderedFields(trace)
  for (const key in ordered) {
    const field = key as keyof TraceRecord
    const value = ordered[field]
    if (typeof value === 'object' && value !== null) {
      const fast = fastValue(value, 0)
      if (fast === SLOW) return canonicalJson(ordered)
      ordered[field] = fast
    } else if (!fastScalar(value)) return canonicalJson(ordered)
  }
  return JSON.stringify(ordered)
}

/** The trace's fields, absent as null, in JCS key order (checked by a test). */
function orderedFields(trace: TraceRecord): Record<keyof TraceRecord, unknown> {
  return {
    access_key_id: trace.access_key_id ?? null,
    api_version: trace.api_version ?? null,
    code: trace.code ?? null,
    content_length: trace.content_length ?? null,
    domain_id: trace.domain_id ?? null,
    endpoint: trace.endpoint ?? null,
    enterprise_project_id: trace.enterprise_project_id ?? null,
    event_type: trace.event_type ?? null,
    location_info: trace.location_info ?? null,
    message: trace.message ?? null,
    operation_id: trace.operation_id ?? null,
    project_id: trace.project_id ?? null,
    read_only: trace.read_only ?? null,
    record_time: trace.record_time ?? null,
    request: trace.request ?? null,
    request_id: trace.request_id ?? null,
    resource_account_id: trace.resource_account_id ?? null,
    resource_id: trace.resource_id ?? null,
    resource_name: trace.resource_name ?? null,
    resource_type: trace.resource_type ?? null,
    resource_url: trace.resource_url ?? null,
    response: trace.response ?? null,
    service_type: trace.service_type ?? null,
    source_ip: trace.source_ip ?? null,
    time: trace.time ?? null,
    total_time: trace.total_time ?? null,
    trace_id: trace.trace_id ?? null,
    trace_name: trace.trace_name ?? null,
    trace_rating: trace.trace_rating ?? null,
    trace_type: trace.trace_type ?? null,
    tracker_name: trace.tracker_name ?? null,
    user: trace.user ?? null,
    user_agent: trace.user_agent ?? null,
    user_name: trace.user_name ?? null,
  }
}

/** Marks a value the fast path does not encode exactly as JCS. */
const SLOW = Symbol('slow')
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/

function fastScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      return wellFormed(value)
    case 'number':
      return Number.isFinite(value)
    case 'boolean':
      return true
    default:
      return value === null
  }
}

/** The value with object keys in JCS order, or SLOW. */
function fastValue(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return fastScalar(value) ? value : SLOW
  if (depth > 64) return SLOW
  if (Array.isArray(value)) {
    const out: unknown[] = []
    for (const v of value as unknown[]) {
      const f = fastValue(v, depth + 1)
      if (f === SLOW) return SLOW
      out.push(f)
    }
    return out
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return SLOW
  const record = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(record).sort()) {
    if (ARRAY_INDEX.test(k) || k === '__proto__' || !wellFormed(k)) return SLOW
    const f = fastValue(record[k], depth + 1)
    if (f === SLOW) return SLOW
    out[k] = f
  }
  return out
}

/**
 * Decodes leaf bytes back into the stored trace. Throws CanonicalJsonError unless the bytes are
 * valid UTF-8 JSON of a version-1 leaf with exactly the documented fields, in canonical form (so
 * re-encoding gives the same bytes: no whitespace, no trailing bytes, no other key order).
 */
export function parseTraceLeaf(bytes: Uint8Array): TraceRecord {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (err) {
    throw new CanonicalJsonError(`leaf is not UTF-8 JSON: ${(err as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new CanonicalJsonError('leaf is not a JSON object')
  const { [LEAF_VERSION_KEY]: version, ...fields } = parsed as Record<string, unknown>
  if (version !== TRACE_LEAF_VERSION)
    throw new CanonicalJsonError(
      `${LEAF_VERSION_KEY} is ${JSON.stringify(version)}, want ${TRACE_LEAF_VERSION}`,
    )
  const keys = Object.keys(fields)
  const unknown = keys.filter((k) => !Object.hasOwn(TRACE_FIELDS, k))
  const missing = FIELD_NAMES.filter((k) => !keys.includes(k))
  if (unknown.length > 0 || missing.length > 0)
    throw new CanonicalJsonError(
      `leaf fields differ: unknown [${unknown.join(', ')}], missing [${missing.join(', ')}]`,
    )
  if (!Buffer.from(bytes).equals(Buffer.from(canonicalJson(parsed), 'utf8')))
    throw new CanonicalJsonError('leaf is not in canonical form')
  return fields as unknown as TraceRecord
}
