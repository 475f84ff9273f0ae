/**
 * @module transfer/batch-delivery
 * One transfer batch of a tracker, written ahead: plan (which traces, which file keys) → save the
 * plan as the state's `pending` → put every file → commit the cursor and the delivered files in one
 * transaction. After a crash the saved plan is delivered again under the same keys (the files are
 * rebuilt from the same traces), so every trace ends up in exactly one object and nothing is lost;
 * only the batch in flight is ever written twice, and then over itself.
 *
 * Plan format, version 1 (JSON in TransferState.pending):
 *   {"v":1,"projectId","bucket","compress","kmsId"|null,"deliveredAt" (ms, whole seconds),
 *    "fromSeq" (cursor before), "toSeq" (cursor after), "files":[{"key","service"|null,"seqs":[…]}]}
 */
import { randomBytes } from 'node:crypto'
import type { CompressType, TraceRecord, Tracker } from '../model/index.js'
import type { DeliveredFile, SequencedTrace, TraceStore, TransferStore } from '../store/index.js'
import { sha256Hex } from '../integrity/digest.js'
import { sealEnvelope, type MasterKeyVersion } from './envelope.js'
import { traceFileKey } from './layout.js'
import type { ObjectSink } from './object-sink.js'
import { encodeTraceFile, groupIntoFiles, tracksTrace } from './trace-files.js'

/** Traces planned into one batch at most (then the next batch follows in the same cycle). */
export const MAX_BATCH_TRACES = 10_000
const READ_PAGE = 2_000
/** Sequence numbers one query scans at most when reading a project's traces. */
const SCAN_WINDOW = 20_000
/** Windows one plan scans at most (a long stretch of other projects' traces takes several cycles). */
const MAX_WINDOWS = 100

export interface PlannedFile {
  readonly key: string
  readonly service: string | null
  readonly seqs: readonly number[]
}

export interface PendingBatch {
  readonly v: 1
  readonly projectId: string
  readonly bucket: string
  readonly compress: CompressType
  readonly kmsId: string | null
  readonly deliveredAt: number
  readonly fromSeq: number
  readonly toSeq: number
  readonly files: readonly PlannedFile[]
}

/** Current version of a named master key (transfer/kms-keys.ts). */
export interface DataKeySource {
  current(kmsId: string): Promise<MasterKeyVersion>
}

export interface BatchDeliveryDeps {
  readonly traces: TraceStore
  readonly transfer: TransferStore
  readonly sink: ObjectSink
  readonly kms: DataKeySource
  readonly region: string
  /** 8 random bytes as 16 hex characters (injected for tests). */
  readonly unique?: () => string
}

export function parsePending(text: string): PendingBatch {
  const value = JSON.parse(text) as PendingBatch
  if (value.v !== 1) throw new Error(`unknown pending batch version ${String(value.v)}`)
  return value
}

export class BatchDelivery {
  readonly #deps: BatchDeliveryDeps
  readonly #unique: () => string

  constructor(deps: BatchDeliveryDeps) {
    this.#deps = deps
    this.#unique = deps.unique ?? (() => randomBytes(8).toString('hex'))
  }

  /**
   * Plans the next batch after `cursor`: null when no trace was committed since. When traces were
   * committed but none is the tracker's, the cursor moves past them and an empty plan is returned
   * (`files` empty), to be committed as is.
   */
  async plan(
    tracker: Tracker,
    cursor: number,
    now: number,
    regionSegment: string,
  ): Promise<PendingBatch | null> {
    const selected: SequencedTrace[] = []
    let last = cursor
    for await (const item of this.#scan(
      tracker.project_id,
      cursor,
      await this.#deps.traces.headSeq(),
    )) {
      last = item.seq
      if (item.trace !== null && tracksTrace(tracker, item.trace))
        selected.push({ seq: item.seq, trace: item.trace })
      if (selected.length >= MAX_BATCH_TRACES) break
    }
    if (last === cursor) return null
    const deliveredAt = Math.floor(now / 1000) * 1000
    const { obs_info: obs } = tracker
    const files = groupIntoFiles(selected, obs.is_sort_by_service).map((group) => ({
      key: traceFileKey({
        region: this.#deps.region,
        regionSegment,
        tracker: tracker.tracker_name,
        service: group.service,
        prefix: obs.file_prefix_name,
        time: deliveredAt,
        unique: this.#unique(),
        compress: obs.compress_type,
      }),
      service: group.service,
      seqs: group.traces.map((t) => t.seq),
    }))
    const encrypted = tracker.is_support_trace_files_encryption && (tracker.kms_id ?? '') !== ''
    return {
      v: 1,
      projectId: tracker.project_id,
      bucket: obs.bucket_name,
      compress: obs.compress_type,
      kmsId: encrypted ? (tracker.kms_id ?? null) : null,
      deliveredAt,
      fromSeq: cursor,
      toSeq: last,
      files,
    }
  }

  /**
   * Puts every file of a saved plan and commits it. `record` says whether delivered files are kept
   * for the digest (validation on). Throws the sink's errors; the plan then stays pending.
   */
  async deliver(trackerId: string, batch: PendingBatch, record: boolean): Promise<DeliveredFile[]> {
    const bySeq = await this.#tracesOf(batch)
    const delivered: DeliveredFile[] = []
    const master = batch.kmsId === null ? null : await this.#deps.kms.current(batch.kmsId)
    for (const file of batch.files) {
      // A trace purged by retention since the plan was saved is gone; the rest still goes out.
      const traces = file.seqs.flatMap((seq) => bySeq.get(seq) ?? [])
      if (traces.length === 0) continue
      const plain = encodeTraceFile(traces, batch.compress)
      const body = master === null ? plain : sealEnvelope(plain, master)
      await this.#deps.sink.put(batch.bucket, file.key, body)
      const times = traces.map((t) => t.time)
      delivered.push({
        trackerId,
        bucket: batch.bucket,
        key: file.key,
        sha256: sha256Hex(body),
        deliveredAt: batch.deliveredAt,
        traceCount: traces.length,
        oldestTime: Math.min(...times),
        newestTime: Math.max(...times),
      })
    }
    await this.#deps.transfer.commitBatch(trackerId, batch.toSeq, record ? delivered : [])
    return delivered
  }

  async #tracesOf(batch: PendingBatch): Promise<Map<number, TraceRecord>> {
    const wanted = new Set(batch.files.flatMap((f) => f.seqs))
    const out = new Map<number, TraceRecord>()
    if (wanted.size === 0) return out
    for await (const item of this.#scan(batch.projectId, batch.fromSeq, batch.toSeq, Infinity)) {
      if (item.trace !== null && wanted.has(item.seq)) out.set(item.seq, item.trace)
    }
    return out
  }

  /**
   * The project's traces with `after < seq <= until` in commit order, read window by window
   * (SCAN_WINDOW sequence numbers per query, so no query scans long when the project has few of
   * the store's traces). After the last trace of each window a `{seq: windowEnd, trace: null}`
   * marker reports the progress; at most `maxWindows` windows are read.
   */
  async *#scan(
    projectId: string,
    after: number,
    until: number,
    maxWindows = MAX_WINDOWS,
  ): AsyncGenerator<{ seq: number; trace: TraceRecord | null }> {
    let last = after
    for (let window = 0; window < maxWindows && last < until; window++) {
      const maxSeq = Math.min(until, last + SCAN_WINDOW)
      for (;;) {
        const page = await this.#deps.traces.readFrom(last, READ_PAGE, { projectId, maxSeq })
        for (const item of page) {
          last = item.seq
          yield item
        }
        if (page.length < READ_PAGE) break
      }
      last = maxSeq
      yield { seq: maxSeq, trace: null }
    }
  }
}
