/**
 * Test helper: a store preparer (see TracePreparer in src/store/ports/traces.ts) for stores that
 * have none. `prepareBatch` (run in the ingest worker threads) packs the batch — traces, documents,
 * leaf hashes — as JSON into one transferred buffer; `withJsonPreparer` gives a trace store whose
 * `appendPrepared` unpacks it, checks that the documents and leaf hashes are those of the traces
 * (what the worker computed), and appends the traces with the store's own `append`.
 */
import { documentLeafHash } from '../../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../../src/model/index.js'
import { traceDocument } from '../../src/model/trace-leaf.js'
import type {
  AppendResult,
  PrepareInput,
  PreparedBatch,
  TraceStore,
} from '../../src/store/index.js'

interface Packed {
  readonly traces: TraceRecord[]
  readonly documents: string[]
  readonly leafHashes: string[] | null
}

export function prepareBatch(input: PrepareInput): PreparedBatch {
  const packed: Packed = {
    traces: [...input.traces],
    documents: [...input.documents],
    leafHashes: input.leafHashes?.map((h) => h.toString('hex')) ?? null,
  }
  const bytes = new TextEncoder().encode(JSON.stringify(packed))
  return {
    projectId: input.projectId,
    traceIds: input.traces.map((t) => t.trace_id),
    payload: bytes,
    transfer: [bytes.buffer],
  }
}

/** What `appendPrepared` has seen: batches, and whether their documents and hashes were right. */
export interface PreparedLog {
  batches: number
  mismatches: string[]
}

/** `traces` with this module as its preparer; `log` records what appendPrepared got. */
export function withJsonPreparer(traces: TraceStore, log: PreparedLog): TraceStore {
  const appendPrepared = async (batch: PreparedBatch): Promise<AppendResult> => {
    log.batches++
    const packed = JSON.parse(new TextDecoder().decode(batch.payload as Uint8Array)) as Packed
    packed.traces.forEach((trace, i) => {
      const document = traceDocument(trace)
      if (packed.documents[i] !== document) log.mismatches.push(`document ${i}`)
      const hash = packed.leafHashes?.[i]
      if (hash !== undefined && hash !== documentLeafHash(document).toString('hex'))
        log.mismatches.push(`leaf hash ${i}`)
    })
    return traces.append(packed.traces)
  }
  return {
    preparer: { module: new URL(import.meta.url).href },
    appendPrepared,
    append: (batch) => traces.append(batch),
    page: (filter, after, limit) => traces.page(filter, after, limit),
    activity: (filter, start, step, top) => traces.activity(filter, start, step, top),
    statistics: (filter, spec) => traces.statistics(filter, spec),
    get: (projectId, traceId) => traces.get(projectId, traceId),
    purgeBefore: (time, maxRows) => traces.purgeBefore(time, maxRows),
    readFrom: (afterSeq, limit, scope) => traces.readFrom(afterSeq, limit, scope),
    headSeq: () => traces.headSeq(),
    operators: (projectId, since) => traces.operators(projectId, since),
    catalogue: (projectId) => traces.catalogue(projectId),
  }
}
