/**
 * @module store/sqlite/blocks/prepare-batch
 * The block store's `prepareBatch` (see TracePreparer): runs in an ingest worker thread (and on the
 * event loop for `append`), so it imports only the codec. It drops repeats of an id within the
 * batch (the first report is kept), splits the batch by UTC day (retention drops whole blocks, so a
 * block never spans a day boundary) and into blocks of at most MAX_BLOCK_TRACES in batch order,
 * encodes each block, computes each trace's key for the trace-id index, and collects the operator
 * and catalogue upserts. Every byte array goes out as its own ArrayBuffer (transferred, not copied).
 */
import { traceCategory, type TraceRecord } from '../../../model/trace.js'
import type { PrepareInput, PreparedBatch } from '../../ports/traces.js'
import { encodeBlock, type BlockEntry } from './block-codec.js'
import { MAX_BLOCK_TRACES } from './block-schema.js'
import { traceKey } from './hashes.js'
import { entryValueRows, type ValueRows } from './value-index.js'

const DAY_MS = 86_400_000

/** One encoded block of a prepared batch; its traces are in commit order (positions). */
export interface PreparedBlock {
  readonly count: number
  readonly minTime: number
  readonly maxTime: number
  readonly dims: Uint8Array
  readonly strs: Uint8Array
  readonly body: Uint8Array
  /** Offset in `body` of each `trace_chunks` row, and the body's length last. */
  readonly rowOffsets: Uint32Array
  readonly bloom: Uint8Array
  /** traceKey of each position. */
  readonly keys: Float64Array
  readonly traceIds: readonly string[]
  /** Leaf hash of each position, concatenated (`hashLength` bytes each); null: the log is off. */
  readonly leafHashes: Uint8Array | null
  readonly hashLength: number
  /** The block's rows of the resource value index. */
  readonly values: ValueRows
}

/** The engine-specific payload of a PreparedBatch made by this module. */
export interface BlockBatchPayload {
  readonly blocks: readonly PreparedBlock[]
  /** `[user_name, last time]` of the batch's traces. */
  readonly operators: readonly (readonly [string, number])[]
  /** `[service_type, resource_type, trace_name, last time]` of the batch's traces. */
  readonly catalogue: readonly (readonly [string, string, string, number])[]
}

/** The values a block indexes of a trace (its dims and strs columns). */
export function entryValues(t: TraceRecord): BlockEntry['values'] {
  return {
    trace_id: t.trace_id,
    category: traceCategory(t),
    tracker_name: t.tracker_name,
    service_type: t.service_type,
    resource_type: t.resource_type,
    resource_id: t.resource_id,
    resource_name: t.resource_name,
    trace_name: t.trace_name,
    trace_rating: t.trace_rating,
    user_name: t.user_name,
    access_key_id: t.access_key_id,
    enterprise_project_id: t.enterprise_project_id,
    source_ip: t.source_ip,
    code: t.code,
  }
}

/** A copy of `bytes` in an ArrayBuffer of its own (transferable without moving anything else). */
function own(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/** A trace of the batch with what its block needs. */
export interface BatchItem {
  readonly entry: BlockEntry
  readonly leafHash: Buffer | Uint8Array | null
}

/** Encodes items (commit order, one project and one day) as one block. */
export function prepareBlock(projectId: string, items: readonly BatchItem[]): PreparedBlock {
  const encoded = encodeBlock(items.map((i) => i.entry))
  const traceIds = items.map((i) => i.entry.values.trace_id ?? '')
  const hashLength = items[0]?.leafHash?.length ?? 0
  let leafHashes: Uint8Array | null = null
  if (items.every((i) => i.leafHash !== null) && hashLength > 0) {
    leafHashes = new Uint8Array(hashLength * items.length)
    items.forEach((i, p) => leafHashes?.set(i.leafHash as Uint8Array, p * hashLength))
  }
  return {
    count: encoded.count,
    minTime: encoded.minTime,
    maxTime: encoded.maxTime,
    dims: own(encoded.dims),
    strs: own(encoded.strs),
    body: own(encoded.body),
    rowOffsets: encoded.rowOffsets,
    bloom: own(encoded.bloom),
    keys: Float64Array.from(traceIds, (id) => traceKey(projectId, id)),
    traceIds,
    leafHashes,
    hashLength,
    values: entryValueRows(
      projectId,
      items.map((i) => i.entry),
      encoded.page,
    ),
  }
}

/** Splits items by UTC day (oldest day first) and into runs of MAX_BLOCK_TRACES. */
export function blockRuns(items: readonly BatchItem[]): BatchItem[][] {
  const days = new Map<number, BatchItem[]>()
  for (const item of items) {
    const day = Math.floor(item.entry.time / DAY_MS)
    let list = days.get(day)
    if (list === undefined) days.set(day, (list = []))
    list.push(item)
  }
  const runs: BatchItem[][] = []
  for (const day of [...days.keys()].sort((a, b) => a - b)) {
    const list = days.get(day) ?? []
    for (let at = 0; at < list.length; at += MAX_BLOCK_TRACES)
      runs.push(list.slice(at, at + MAX_BLOCK_TRACES))
  }
  return runs
}

/** What the operator and catalogue upserts read of a trace. */
export interface UpsertSource {
  readonly time: number
  readonly user_name: string | null
  readonly service_type: string | null
  readonly resource_type: string | null
  readonly trace_name: string | null
}

/** The operator and catalogue upserts of some traces (the latest time of each). */
export function upsertsOf(traces: Iterable<UpsertSource>): Omit<BlockBatchPayload, 'blocks'> {
  const operators = new Map<string, number>()
  const catalogue = new Map<string, [string, string, string, number]>()
  for (const t of traces) {
    if (t.user_name !== null)
      operators.set(t.user_name, Math.max(operators.get(t.user_name) ?? -Infinity, t.time))
    const [s, r, n] = [t.service_type ?? '', t.resource_type ?? '', t.trace_name ?? '']
    const key = `${s}\u0000${r}\u0000${n}`
    const prev = catalogue.get(key)
    if (prev === undefined || prev[3] < t.time) catalogue.set(key, [s, r, n, t.time])
  }
  return { operators: [...operators], catalogue: [...catalogue.values()] }
}

/** The ArrayBuffers of a payload, to transfer. */
function transferList(blocks: readonly PreparedBlock[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = []
  for (const b of blocks) {
    const { keys, offsets, positions, page } = b.values
    for (const a of [
      page?.ranks ?? null,
      page?.times ?? null,
      page?.docLengths ?? null,
      page?.chunkOffsets ?? null,
      b.dims,
      b.strs,
      b.body,
      b.rowOffsets,
      b.bloom,
      b.keys,
      b.leafHashes,
      keys,
      offsets,
      positions,
    ])
      if (a !== null) out.push(a.buffer as ArrayBuffer)
  }
  return out
}

/** See the module comment. Input traces must all be of `input.projectId`. */
export function prepareBatch(input: PrepareInput): PreparedBatch {
  const seen = new Set<string>()
  const items: BatchItem[] = []
  const unique: TraceRecord[] = []
  input.traces.forEach((t, i) => {
    if (seen.has(t.trace_id)) return
    seen.add(t.trace_id)
    unique.push(t)
    items.push({
      entry: { time: t.time, values: entryValues(t), document: input.documents[i] ?? '' },
      leafHash: input.leafHashes?.[i] ?? null,
    })
  })
  const blocks = blockRuns(items).map((run) => prepareBlock(input.projectId, run))
  const payload: BlockBatchPayload = { blocks, ...upsertsOf(unique) }
  return {
    projectId: input.projectId,
    traceIds: input.traces.map((t) => t.trace_id),
    payload,
    transfer: transferList(blocks),
  }
}
