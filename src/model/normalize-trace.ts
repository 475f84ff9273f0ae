/**
 * @module model/normalize-trace
 * Validation and normalisation of one reported trace into the stored form (spec §3, §18 ingestion).
 *
 * Accepts the API representation (user object, code string) and the file representation (user as a
 * JSON string, code number), `trace_status` as an alias of `trace_rating`, and `request`/`response`
 * as strings or JSON values (serialised). Rejects unknown fields so that typos are not silently lost.
 * Pure: the clock value and id generator come from the caller.
 */
import {
  EVENT_TYPES,
  TRACE_RATINGS,
  TRACE_TYPES,
  isDataTraceType,
  type EventType,
  type TraceRating,
  type TraceRecord,
  type TraceType,
  type UserInfo,
} from './trace.js'
import {
  FIELD_MAX_CHARS,
  MAX_REQUEST_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_TRACE_BYTES,
  RESOURCE_TYPE_PATTERN,
  SERVICE_TYPE_PATTERN,
  TRACE_NAME_PATTERN,
  UUID_PATTERN,
  type TimeWindow,
} from './trace-limits.js'
import { MAX_JSON_DEPTH, findDeepNesting } from './json-depth.js'
import { utf8Length } from './utf8.js'

export interface NormalizeContext {
  /** Project the trace is reported to (from the URL); a differing `project_id` field is rejected. */
  readonly projectId: string
  /** Epoch ms used as `record_time` (a producer's `record_time` is ignored). */
  readonly now: number
  /**
   * The accepted `time` window (see acceptedTimeWindow); a time outside it is refused. Without it
   * any positive time is accepted (for callers that only build traces, such as recorder tests).
   */
  readonly timeWindow?: TimeWindow
  /** Generates a trace id (UUID) when the producer sent none. */
  readonly newId: () => string
}

export interface TraceProblem {
  readonly field: string
  readonly message: string
}

export type NormalizeResult =
  | { readonly ok: true; readonly trace: TraceRecord }
  | { readonly ok: false; readonly problem: TraceProblem }

const KNOWN_FIELDS = new Set([
  'trace_id',
  'trace_name',
  'trace_rating',
  'trace_status',
  'trace_type',
  'event_type',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'request',
  'response',
  'code',
  'api_version',
  'message',
  'time',
  'record_time',
  'user',
  'source_ip',
  'request_id',
  'location_info',
  'endpoint',
  'resource_url',
  'enterprise_project_id',
  'resource_account_id',
  'read_only',
  'operation_id',
  'project_id',
  'domain_id',
  'tracker_name',
  'user_agent',
  'content_length',
  'total_time',
  'access_key_id',
])

class Problem extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'string' ? 'a string' : `a ${typeof value}`
}

function requiredString(
  input: Record<string, unknown>,
  field: string,
  pattern: RegExp,
  rule: string,
): string {
  const value = input[field]
  if (value === undefined || value === null || value === '')
    throw new Problem(field, `${field} is required`)
  if (typeof value !== 'string')
    throw new Problem(field, `${field} must be a string, got ${describe(value)}`)
  if (!pattern.test(value))
    throw new Problem(field, `${field} must be ${rule}, got ${JSON.stringify(value.slice(0, 80))}`)
  return value
}

function optionalString(input: Record<string, unknown>, field: string): string | null {
  const value = input[field]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string')
    throw new Problem(field, `${field} must be a string, got ${describe(value)}`)
  const max = FIELD_MAX_CHARS[field] ?? 1024
  if (value.length > max)
    throw new Problem(field, `${field} is ${value.length} characters, max ${max}`)
  return value
}

function optionalEnum<T extends string>(
  input: Record<string, unknown>,
  field: string,
  values: readonly T[],
): T | null {
  const value = input[field]
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new Problem(
      field,
      `${field} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`,
    )
  }
  return value as T
}

function optionalCount(input: Record<string, unknown>, field: string): number | null {
  const value = input[field]
  if (value === undefined || value === null) return null
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Problem(field, `${field} must be a non-negative number, got ${JSON.stringify(value)}`)
  }
  return value
}

/** Refuses a JSON value nested deeper than MAX_JSON_DEPTH (checked iteratively, before any walk). */
function boundedNesting(value: unknown, field: string): void {
  const violation = findDeepNesting(value, MAX_JSON_DEPTH, field)
  if (violation !== undefined)
    throw new Problem(
      field,
      `${field} is JSON nested deeper than ${MAX_JSON_DEPTH} levels of arrays/objects`,
    )
}

function body(
  input: Record<string, unknown>,
  field: 'request' | 'response',
  maxBytes: number,
): string | null {
  const value = input[field]
  if (value === undefined || value === null) return null
  boundedNesting(value, field)
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  const bytes = utf8Length(text)
  if (bytes > maxBytes) throw new Problem(field, `${field} is ${bytes} bytes, max ${maxBytes}`)
  return text
}

const DAY_MS = 86_400_000

/** A duration in whole days or hours, for messages. */
function span(ms: number): string {
  if (ms % DAY_MS === 0) return ms === DAY_MS ? '1 day' : `${ms / DAY_MS} days`
  const hours = Math.round(ms / 3_600_000)
  return hours === 1 ? '1 hour' : `${hours} hours`
}

/** An epoch ms value as ISO 8601 text, or a plain number when out of the Date range. */
function iso(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

function time(input: Record<string, unknown>, window: TimeWindow | undefined): number {
  const value = input.time
  if (value === undefined || value === null) throw new Problem('time', 'time is required')
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new Problem(
      'time',
      `time must be a positive integer of epoch milliseconds, got ${JSON.stringify(value)}`,
    )
  }
  if (window !== undefined && (value < window.oldest || value > window.newest)) {
    const accepted =
      `the accepted window is ${iso(window.oldest)} to ${iso(window.newest)} (${window.oldest}` +
      ` to ${window.newest} ms: the ${span(window.retentionMs)} of retention back, ` +
      `${span(window.newest - window.oldest - window.retentionMs)} ahead)`
    // 10-digit values are epoch seconds of 1973..2286: as ms they would be in January 1970.
    const seconds = value < 100_000_000_000 && value * 1000 >= window.oldest - DAY_MS
    const hint = seconds
      ? `; ${value} looks like epoch seconds (${iso(value * 1000)}): send epoch milliseconds`
      : ''
    const where = value < window.oldest ? 'older than the retention' : 'too far in the future'
    throw new Problem('time', `time ${value} (${iso(value)}) is ${where}: ${accepted}${hint}`)
  }
  return value
}

function code(input: Record<string, unknown>): string | null {
  const value = input.code
  if (value === undefined || value === null || value === '') return null
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 999) {
      throw new Problem('code', `code must be an HTTP status from 0 to 999, got ${value}`)
    }
    return String(value)
  }
  if (typeof value !== 'string')
    throw new Problem('code', `code must be a number or a string, got ${describe(value)}`)
  if (value.length > 256) throw new Problem('code', `code is ${value.length} characters, max 256`)
  return value
}

function user(input: Record<string, unknown>): UserInfo | null {
  let value = input.user
  if (value === undefined || value === null || value === '') return null
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown
    } catch {
      throw new Problem(
        'user',
        'user must be an object or a JSON-encoded object, got a string that is not JSON',
      )
    }
  }
  if (!isPlainObject(value))
    throw new Problem('user', `user must be an object, got ${describe(value)}`)
  boundedNesting(value, 'user')
  for (const key of ['id', 'name', 'user_name', 'account_id', 'access_key_id', 'type'] as const) {
    const field = value[key]
    if (field !== undefined && field !== null && typeof field !== 'string') {
      throw new Problem(`user.${key}`, `user.${key} must be a string, got ${describe(field)}`)
    }
  }
  if (value.domain !== undefined && value.domain !== null && !isPlainObject(value.domain)) {
    throw new Problem('user.domain', `user.domain must be an object, got ${describe(value.domain)}`)
  }
  return value
}

/** Rating rule of spec §3.3: the producer's rating; otherwise code < 400 → normal, else warning. */
export function defaultRating(codeValue: string | null): TraceRating {
  if (codeValue === null) return 'normal'
  const status = Number(codeValue)
  return Number.isFinite(status) && status >= 400 ? 'warning' : 'normal'
}

/** A `\udXXX` escape of a lone surrogate in JSON.stringify output, not preceded by a `\`. */
const LONE_SURROGATE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/

function normalize(input: Record<string, unknown>, ctx: NormalizeContext): TraceRecord {
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) throw new Problem(key, `unknown field ${JSON.stringify(key)}`)
  }
  let traceId = optionalString(input, 'trace_id')
  if (traceId === null || traceId === '') traceId = ctx.newId()
  else if (!UUID_PATTERN.test(traceId))
    throw new Problem(
      'trace_id',
      `trace_id must be a UUID, got ${JSON.stringify(traceId.slice(0, 80))}`,
    )
  const projectId = optionalString(input, 'project_id')
  if (projectId !== null && projectId !== ctx.projectId) {
    throw new Problem(
      'project_id',
      `project_id ${JSON.stringify(projectId)} differs from the project in the URL`,
    )
  }
  const traceType = requiredString(input, 'trace_type', /^.*$/, 'a trace type') as TraceType
  if (!(TRACE_TYPES as readonly string[]).includes(traceType)) {
    throw new Problem(
      'trace_type',
      `trace_type must be one of ${TRACE_TYPES.join(', ')}, got ${JSON.stringify(traceType)}`,
    )
  }
  const codeValue = code(input)
  const rating =
    optionalEnum(input, 'trace_rating', TRACE_RATINGS) ??
    optionalEnum(input, 'trace_status', TRACE_RATINGS) ??
    defaultRating(codeValue)
  const operator = user(input)
  const data = isDataTraceType(traceType)
  const eventType: EventType =
    optionalEnum(input, 'event_type', EVENT_TYPES) ?? (data ? 'data' : 'system')
  const readOnly = input.read_only
  if (readOnly !== undefined && readOnly !== null && typeof readOnly !== 'boolean') {
    throw new Problem('read_only', `read_only must be a boolean, got ${describe(readOnly)}`)
  }
  const userName = operator?.name ?? operator?.user_name ?? null
  const trace: TraceRecord = {
    trace_id: traceId.toLowerCase(),
    project_id: ctx.projectId,
    domain_id: optionalString(input, 'domain_id') ?? operator?.domain?.id ?? null,
    tracker_name: optionalString(input, 'tracker_name') ?? (data ? null : 'system'),
    trace_name: requiredString(
      input,
      'trace_name',
      TRACE_NAME_PATTERN,
      '1-64 letters, digits, -, _ or . starting with a letter',
    ),
    trace_rating: rating,
    trace_type: traceType,
    event_type: eventType,
    service_type: requiredString(
      input,
      'service_type',
      SERVICE_TYPE_PATTERN,
      '1-64 letters, digits, _ or - starting with a letter',
    ),
    resource_type: requiredString(
      input,
      'resource_type',
      RESOURCE_TYPE_PATTERN,
      '1-64 letters, digits, _, ., : or -',
    ),
    resource_id: optionalString(input, 'resource_id'),
    resource_name: optionalString(input, 'resource_name'),
    request: body(input, 'request', MAX_REQUEST_BYTES),
    response: body(input, 'response', MAX_RESPONSE_BYTES),
    code: codeValue,
    api_version: optionalString(input, 'api_version'),
    message: optionalString(input, 'message'),
    time: time(input, ctx.timeWindow),
    record_time: ctx.now,
    user: operator,
    user_name: typeof userName === 'string' ? userName : null,
    access_key_id:
      optionalString(input, 'access_key_id') ??
      (typeof operator?.access_key_id === 'string' ? operator.access_key_id : null),
    source_ip: optionalString(input, 'source_ip'),
    request_id: optionalString(input, 'request_id'),
    location_info: optionalString(input, 'location_info'),
    endpoint: optionalString(input, 'endpoint'),
    resource_url: optionalString(input, 'resource_url'),
    enterprise_project_id: optionalString(input, 'enterprise_project_id'),
    resource_account_id: optionalString(input, 'resource_account_id'),
    read_only: typeof readOnly === 'boolean' ? readOnly : null,
    operation_id: optionalString(input, 'operation_id'),
    user_agent: optionalString(input, 'user_agent'),
    content_length: optionalCount(input, 'content_length'),
    total_time: optionalCount(input, 'total_time'),
  }
  // Serialising the whole trace is the costliest step of ingest: a bound and a scan of its strings
  // decide nearly every trace without it (see scanTrace).
  const scan = scanTrace(trace)
  if (scan === null) return checkSerialised(trace)
  if (scan.bound > MAX_TRACE_BYTES) checkSize(utf8Length(JSON.stringify(trace)))
  if (scan.lone) throw loneSurrogate()
  return trace
}

function checkSize(bytes: number): void {
  if (bytes > MAX_TRACE_BYTES)
    throw new Problem('trace', `trace is ${bytes} bytes, max ${MAX_TRACE_BYTES}`)
}

function loneSurrogate(): Problem {
  return new Problem(
    'trace',
    'a string of the trace has a lone UTF-16 surrogate (not Unicode text)',
  )
}

/** The size and Unicode checks on the serialised trace: exact for any value. */
function checkSerialised(trace: TraceRecord): TraceRecord {
  const json = JSON.stringify(trace)
  checkSize(utf8Length(json))
  // JSON.stringify escapes a lone surrogate as \udXXX (an escaped backslash before it does not
  // count); such a string is not Unicode text and has no canonical encoding (RFC 8785).
  if (json.includes('\\ud') && LONE_SURROGATE_ESCAPE.test(json)) throw loneSurrogate()
  return trace
}

/** In unicode mode a surrogate pair is one code point: only a lone surrogate matches. */
const LONE_SURROGATE = /[\ud800-\udfff]/u
/** Most characters of a JSON number (`-1.7976931348623157e+308`), of `false` and of `null`. */
const SCALAR_BOUND = 25

interface TraceScan {
  /** At least the UTF-8 bytes of JSON.stringify(trace): each code unit of a string 6 at most. */
  bound: number
  /** Whether a string of the trace (a value or a key) has a lone surrogate. */
  lone: boolean
}

function scanString(text: string, scan: TraceScan): void {
  scan.bound += 6 * text.length + 2
  if (!scan.lone && LONE_SURROGATE.test(text)) scan.lone = true
}

/**
 * Adds a JSON value's bound to `scan`; false for anything JSON.stringify might write otherwise
 * (an object not plain, toJSON, bigint...), which the exact check then handles. The nesting is
 * bounded (the user object is checked against MAX_JSON_DEPTH first).
 */
function scanValue(value: unknown, scan: TraceScan): boolean {
  switch (typeof value) {
    case 'string':
      scanString(value, scan)
      return true
    case 'number':
    case 'boolean':
      scan.bound += SCALAR_BOUND
      return true
    case 'object': {
      if (value === null) {
        scan.bound += SCALAR_BOUND
        return true
      }
      scan.bound += 2
      if (Array.isArray(value)) {
        for (const item of value as unknown[]) {
          scan.bound += 1
          if (!scanValue(item, scan)) return false
        }
        return true
      }
      const proto: unknown = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in value) {
        scan.bound += 2
        scanString(key, scan)
        if (!scanValue((value as Record<string, unknown>)[key], scan)) return false
      }
      return true
    }
    case 'undefined':
      // Left out of an object, `null` in an array.
      scan.bound += SCALAR_BOUND
      return true
    default:
      return false
  }
}

/**
 * The bound and the lone surrogates of a normalised trace without serialising it, or null when
 * it holds a value the bound does not cover (only possible for a user object not parsed from JSON).
 */
function scanTrace(trace: TraceRecord): TraceScan | null {
  const scan: TraceScan = { bound: 0, lone: false }
  return scanValue(trace, scan) ? scan : null
}

/** Validates and normalises one reported trace. Never throws; the first problem found is returned. */
export function normalizeTrace(input: unknown, ctx: NormalizeContext): NormalizeResult {
  if (!isPlainObject(input))
    return {
      ok: false,
      problem: { field: 'trace', message: `a trace must be an object, got ${describe(input)}` },
    }
  try {
    return { ok: true, trace: normalize(input, ctx) }
  } catch (error) {
    if (error instanceof Problem)
      return { ok: false, problem: { field: error.field, message: error.message } }
    throw error
  }
}
