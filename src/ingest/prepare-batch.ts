/**
 * @module ingest/prepare-batch
 * Everything ingest does to a raw batch before the store: decode, parse (a JSON `{"traces": [...]}`
 * body or NDJSON, one trace per non-empty line), bound the nesting, validate and normalise, then
 * the stored document of each trace, its leaf hash (with the Merkle log on) and, when the store has
 * a preparer, the engine's encoding. It runs in the ingest worker threads (prepare-worker) and, as
 * the fallback and with `ingestWorkers` 0, on the event loop: one function, so both give the same
 * answers. Each step's CPU time is measured (µs) for the pool's stats.
 */
import { ctsError } from '../errors/index.js'
import {
  MAX_BATCH_TRACES,
  MAX_JSON_DEPTH,
  deepNestingMessage,
  findDeepNesting,
  type TraceRecord,
} from '../model/index.js'
import { traceDocument } from '../model/trace-leaf.js'
import { documentLeafHash } from '../log/trace-log-hashing.js'
import type { PrepareBatch, PreparedBatch } from '../store/index.js'
import type { PublishedTrace } from './publisher.js'
import { checkBatchSize, validateBatchBody, validateTraceList } from './validate-batch.js'

export type BatchFormat = 'json' | 'ndjson'

/** One raw batch to prepare (structured-cloneable: it is posted to a worker). */
export interface PrepareJob {
  readonly projectId: string
  /** The request body as received. */
  readonly bytes: Uint8Array
  readonly format: BatchFormat
  /** Epoch ms of the request (record_time, the accepted time window). */
  readonly now: number
  readonly retentionMs: number
  /** Whether the Merkle log is on (leaf hashes are computed). */
  readonly merkle: boolean
  /** The store's preparer module (`file:` URL); absent: the traces are appended as they are. */
  readonly preparerModule?: string
}

/** Cumulative CPU time of each step, µs, and the traces they handled. */
export interface PrepareTimes {
  parse: number
  normalise: number
  document: number
  hash: number
  prepare: number
  traces: number
}

/** A prepared batch: either an engine's encoding (`batch`) or the normalised traces (`traces`). */
export interface PreparedIngest {
  /** Every trace id of the batch, batch order (new and re-reported). */
  readonly traceIds: string[]
  /** What publisher listeners get of each trace, batch order. */
  readonly published: PublishedTrace[]
  /** With a preparer: the engine's encoding, for `appendPrepared`. */
  readonly batch?: PreparedBatch
  /** Without a preparer: the normalised traces, for `append`. */
  readonly traces?: TraceRecord[]
  readonly times: PrepareTimes
}

export function emptyTimes(): PrepareTimes {
  return { parse: 0, normalise: 0, document: 0, hash: 0, prepare: 0, traces: 0 }
}

export function addTimes(into: PrepareTimes, more: PrepareTimes): void {
  into.parse += more.parse
  into.normalise += more.normalise
  into.document += more.document
  into.hash += more.hash
  into.prepare += more.prepare
  into.traces += more.traces
}

const INVALID_JSON = 'The message body is not valid JSON.'

/** Keys that poison a prototype (refused like Fastify's parser refuses them: secure-json-parse). */
const SUSPECT_PROTO =
  /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"\s*:/
const SUSPECT_CONSTRUCTOR =
  /"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"\s*:/

/** True when a parsed value has an own `__proto__`, or a `constructor` object with `prototype`. */
function poisoned(root: object): boolean {
  const nodes: object[] = [root]
  const has = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key)
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    if (has(node, '__proto__')) return true
    const ctor = (node as { constructor?: unknown }).constructor
    if (
      has(node, 'constructor') &&
      typeof ctor === 'object' &&
      ctor !== null &&
      has(ctor, 'prototype')
    )
      return true
    for (const key in node) {
      const value = (node as Record<string, unknown>)[key]
      if (typeof value === 'object' && value !== null) nodes.push(value)
    }
  }
  return false
}

/**
 * JSON.parse with what Fastify's default parser adds (a leading BOM skipped; `__proto__` and
 * `constructor.prototype` refused); undefined when the text is not accepted.
 */
function parseJsonText(text: string): { value: unknown } | undefined {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let value: unknown
  try {
    value = JSON.parse(source)
  } catch {
    return undefined
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    (SUSPECT_PROTO.test(source) || SUSPECT_CONSTRUCTOR.test(source)) &&
    poisoned(value)
  )
    return undefined
  return { value }
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** The parsed `{"traces": [...]}` body, its nesting bounded (as the HTTP layer bounds every body). */
function parseJsonBody(bytes: Uint8Array): unknown {
  const text = decode(bytes)
  if (text.length === 0)
    throw ctsError('OCTS_ERR_INVALID_BODY', 'The message body is empty; send a JSON object.')
  const parsed = parseJsonText(text)
  if (parsed === undefined) throw ctsError('OCTS_ERR_INVALID_BODY', INVALID_JSON)
  const violation = findDeepNesting(parsed.value)
  if (violation !== undefined)
    throw ctsError('OCTS_ERR_INVALID_BODY', deepNestingMessage(violation))
  return parsed.value
}

/** The traces of an NDJSON body: one JSON value per non-empty line (`\n` or `\r\n`). */
function parseNdjsonBody(bytes: Uint8Array): unknown[] {
  const lines = decode(bytes).split('\n')
  const traces: unknown[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim()
    if (line === '') continue
    // Refused before parsing the rest: a too large batch costs no more than its counting.
    if (traces.length === MAX_BATCH_TRACES)
      checkBatchSize(traces.length + lines.slice(i).filter((l) => l.trim() !== '').length)
    const parsed = parseJsonText(line)
    if (parsed === undefined)
      throw ctsError(
        'OCTS_ERR_INVALID_BODY',
        `The message body is not valid NDJSON: line ${i + 1} is not a JSON value.`,
      )
    const violation = findDeepNesting(parsed.value, MAX_JSON_DEPTH, `traces[${traces.length}]`)
    if (violation !== undefined)
      throw ctsError('OCTS_ERR_INVALID_BODY', deepNestingMessage(violation))
    traces.push(parsed.value)
  }
  return traces
}

/** What listeners get of a trace (see PublishedTrace). */
export function publishedOf(trace: TraceRecord): PublishedTrace {
  return {
    trace_id: trace.trace_id,
    project_id: trace.project_id,
    time: trace.time,
    service_type: trace.service_type,
    resource_type: trace.resource_type,
    trace_name: trace.trace_name,
    trace_rating: trace.trace_rating,
    user_name: trace.user_name,
  }
}

/** Microseconds since `start` (a performance.now() value). */
function since(start: number): number {
  return (performance.now() - start) * 1000
}

/** Loads a preparer module's `prepareBatch` (cached by the caller). */
export async function loadPrepareBatch(module: string): Promise<PrepareBatch> {
  const loaded = (await import(module)) as { prepareBatch?: unknown }
  if (typeof loaded.prepareBatch !== 'function')
    throw new Error(`the preparer module ${module} exports no prepareBatch function`)
  return loaded.prepareBatch as PrepareBatch
}

/**
 * Prepares one raw batch. Throws an OpenCtsError for a client's mistake (the same as the event
 * loop's path); `newId` makes the ids of traces reported without one.
 */
export async function prepareIngest(
  job: PrepareJob,
  newId: () => string,
  preparer: (module: string) => Promise<PrepareBatch>,
): Promise<PreparedIngest> {
  const times = emptyTimes()
  let start = performance.now()
  const body = job.format === 'ndjson' ? parseNdjsonBody(job.bytes) : parseJsonBody(job.bytes)
  times.parse = since(start)
  start = performance.now()
  const ctx = { projectId: job.projectId, now: job.now, retentionMs: job.retentionMs, newId }
  const traces =
    job.format === 'ndjson'
      ? validateTraceList(body as unknown[], ctx)
      : validateBatchBody(body, ctx)
  const published = traces.map(publishedOf)
  times.normalise = since(start)
  times.traces = traces.length
  const traceIds = traces.map((t) => t.trace_id)
  if (job.preparerModule === undefined) return { traceIds, published, traces, times }
  start = performance.now()
  const documents = traces.map(traceDocument)
  times.document = since(start)
  start = performance.now()
  const leafHashes = job.merkle ? documents.map(documentLeafHash) : null
  times.hash = since(start)
  const prepareBatch = await preparer(job.preparerModule)
  start = performance.now()
  const batch = prepareBatch({ projectId: job.projectId, traces, documents, leafHashes })
  times.prepare = since(start)
  return { traceIds, published, batch, times }
}
