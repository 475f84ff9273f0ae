/**
 * @module model/trace-leaf
 * The leaf of the verifiable trace log: the versioned, byte-exact encoding of one stored trace,
 * and the RFC 8785 (JCS) canonical JSON encoder everything hashed or signed in OpenCTS uses.
 *
 * Leaf format, version 1: the UTF-8 bytes of the JCS serialisation of one JSON object holding
 * `"leaf_version": 1` and every field of the stored trace (`TraceRecord`), absent values as
 * `null`, and nothing else:
 *   access_key_id, api_version, code, content_length, domain_id, endpoint,
 *   enterprise_project_id, event_type, leaf_version, location_info, message, operation_id,
 *   project_id, read_only, record_time, request, request_id, resource_account_id, resource_id,
 *   resource_name, resource_type, resource_url, response, service_type, source_ip, time,
 *   total_time, trace_id, trace_name, trace_rating, trace_type, tracker_name, user, user_agent,
 *   user_name
 * (the order JCS gives: keys sorted by UTF-16 code units, at every depth, `user` included). No
 * whitespace, no trailing newline. Any change to a stored trace therefore changes its leaf. A new
 * field in `TraceRecord` does not compile until it is listed here, and a new field or a changed
 * encoding requires a new `leaf_version`. Example (abridged):
 *   {"access_key_id":null,"api_version":"v1",...,"leaf_version":1,...,"user_name":"alice"}
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

function encodeString(s: string, path: string): string {
  const wellFormed = (s as { isWellFormed?: () => boolean }).isWellFormed
  const ok = wellFormed === undefined ? !LONE_SURROGATE.test(s) : wellFormed.call(s)
  if (!ok) throw new CanonicalJsonError(`${path} has a lone surrogate`)
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

/** The version-1 leaf bytes of a stored trace (format in the module comment). */
export function traceLeaf(trace: TraceRecord): Buffer {
  // The same bytes as canonicalJson({leaf_version, ...fields}), with the top-level key order and
  // the encoded keys computed once (this runs once per ingested trace).
  let out = '{'
  for (let i = 0; i < LEAF_KEYS.length; i++) {
    const key = LEAF_KEYS[i] as keyof TraceRecord | 'leaf_version'
    const value = key === 'leaf_version' ? TRACE_LEAF_VERSION : (trace[key] ?? null)
    out += `${i === 0 ? '' : ','}${LEAF_KEY_PREFIXES[i] ?? ''}${encode(value, LEAF_PATHS[i] ?? '$')}`
  }
  return Buffer.from(`${out}}`, 'utf8')
}

/** The top-level keys of a leaf in JCS order (UTF-16 code units), encoded once. */
const LEAF_KEYS: readonly string[] = ['leaf_version', ...FIELD_NAMES].sort()
const LEAF_KEY_PREFIXES = LEAF_KEYS.map((k) => `${JSON.stringify(k)}:`)
const LEAF_PATHS = LEAF_KEYS.map((k) => `$.${k}`)

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
  const { leaf_version: version, ...fields } = parsed as Record<string, unknown>
  if (version !== TRACE_LEAF_VERSION)
    throw new CanonicalJsonError(
      `leaf_version is ${JSON.stringify(version)}, want ${TRACE_LEAF_VERSION}`,
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
