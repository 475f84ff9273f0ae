/**
 * @module transfer/transfer-service
 * Trace transfer to object storage (spec/cts-api.md §9–§10): every cycle (config
 * `transferIntervalMs`, default 60 s) each tracker with `obs_info.bucket_name` delivers the traces
 * committed since its durable cursor as CTS trace files, then writes its due digest files.
 *
 * Per tracker and cycle, in this order:
 * 1. a batch left pending by a crash is delivered under its saved keys (batch-delivery.ts);
 * 2. digests whose period ended are written (digest-chain.ts), so a digest never misses a file of
 *    its period (files of this cycle are named with this cycle's time, after those ends);
 * 3. new batches are planned, saved, put and committed until caught up (at most MAX_STEPS);
 * 4. the project's latest signed checkpoint is copied into the bucket when newer than the one there
 *    (checkpoint-export.ts; only with the `latestCheckpoint` dependency, i.e. the log on).
 * A tracker that does not deliver (disabled, or its bucket removed) ends its digest chain and moves
 * its cursor to the head: traces recorded meanwhile are not transferred later (CTS: a disabled
 * tracker stops transfer). A tracker that has never had a bucket has no transfer state at all (it
 * is not started, whatever the cycles saw meanwhile): when a bucket is configured for the first
 * time, the tracker's traces still in the store are delivered too. One created with a bucket but
 * `disabled` starts at the head.
 *
 * Health: a missing bucket sets the tracker `status=error`, `detail=noBucket`; a refused write
 * `detail=bucketPolicyError`; the next successful delivery (or, for noBucket, the bucket existing
 * again) sets it back to `enabled`. Nothing is skipped while in error: delivery resumes from the
 * cursor. An unavailable store only logs and retries next cycle.
 *
 * A checkpoint export runs only after the tracker's trace files went out, and only while its bucket
 * is usable (not in error, or written or found again this cycle, or after a refused write: then the
 * export is the next try), so it never delays or fails their delivery. Its failure is reported like
 * a delivery failure (health for bucket errors, else `onError`), counts in `errors`, and the export
 * is retried next cycle; its success heals like any successful write.
 */
import { isOpenCtsError } from '../errors/index.js'
import type { Tracker } from '../model/index.js'
import { trackerDelivers } from '../model/index.js'
import type { Clock } from '../platform/clock.js'
import type {
  ConfigStore,
  DeliveredFile,
  StoredCheckpoint,
  TraceStore,
  TransferStore,
} from '../store/index.js'
import { BatchDelivery, parsePending, type DataKeySource } from './batch-delivery.js'
import { CheckpointExport } from './checkpoint-export.js'
import {
  DigestWriter,
  parseChainState,
  type ChainState,
  type DigestSigner,
  type FileNaming,
} from './digest-chain.js'
import { regionSegment } from './layout.js'
import type { ObjectSink } from './object-sink.js'

/** Batches per tracker and cycle at most; the rest follows next cycle. */
export const MAX_STEPS = 50

export interface TransferServiceDeps {
  readonly traces: TraceStore
  readonly transfer: TransferStore
  readonly config: ConfigStore
  readonly sink: ObjectSink
  readonly clock: Clock
  readonly signer: DigestSigner
  readonly kms: DataKeySource
  readonly region: string
  readonly intervalMs: number
  readonly digestPeriodSeconds: number
  /** Whether the project is its account's default one (named after the region): file names. */
  readonly isDefaultProject: (projectId: string) => Promise<boolean>
  /** Failures of a tracker's cycle other than bucket health (logged by the server). */
  readonly onError: (error: unknown, tracker: Tracker) => void
  /** Tracker health changes, for the log. */
  readonly onHealth?: (tracker: Tracker) => void
  /**
   * The project's latest signed checkpoint (the verifiable log). Given only when the log is on;
   * checkpoints are then exported to delivering trackers' buckets each cycle.
   */
  readonly latestCheckpoint?: (projectId: string) => Promise<StoredCheckpoint | undefined>
  readonly unique?: () => string
}

/** What one cycle did, for tests and logs. */
export interface CycleReport {
  readonly files: number
  readonly traces: number
  readonly digests: number
  readonly errors: number
}

type MutableReport = { -readonly [K in keyof CycleReport]: CycleReport[K] }

function tally(report: MutableReport, files: readonly DeliveredFile[]): void {
  report.files += files.length
  report.traces += files.reduce((n, f) => n + f.traceCount, 0)
}

export class TransferService {
  readonly #deps: TransferServiceDeps
  readonly #batches: BatchDelivery
  readonly #digests: DigestWriter
  readonly #checkpoints: CheckpointExport | null
  #timer: NodeJS.Timeout | undefined
  #running: Promise<CycleReport> | undefined
  #stopped = true
  #stopRequested = false

  constructor(deps: TransferServiceDeps) {
    this.#deps = deps
    this.#batches = new BatchDelivery({
      traces: deps.traces,
      transfer: deps.transfer,
      sink: deps.sink,
      kms: deps.kms,
      region: deps.region,
      ...(deps.unique === undefined ? {} : { unique: deps.unique }),
    })
    this.#digests = new DigestWriter({
      transfer: deps.transfer,
      sink: deps.sink,
      signer: deps.signer,
      region: deps.region,
      periodSeconds: deps.digestPeriodSeconds,
    })
    this.#checkpoints =
      deps.latestCheckpoint === undefined
        ? null
        : new CheckpointExport({
            sink: deps.sink,
            region: deps.region,
            latestCheckpoint: deps.latestCheckpoint,
          })
  }

  /** Runs a cycle every `intervalMs` until `stop()`. */
  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#stopRequested = false
    this.#schedule()
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      void this.runCycle().finally(() => this.#schedule())
    }, this.#deps.intervalMs)
    this.#timer.unref()
  }

  /** Stops the timer and waits for a cycle in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#stopRequested = true
    clearTimeout(this.#timer)
    await this.#running?.catch(() => undefined)
  }

  /** One cycle over every tracker (cycles never overlap: a call during one waits for it). */
  async runCycle(): Promise<CycleReport> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined)
    const run = this.#cycle()
    this.#running = run
    try {
      return await run
    } finally {
      this.#running = undefined
    }
  }

  async #cycle(): Promise<CycleReport> {
    const report: MutableReport = { files: 0, traces: 0, digests: 0, errors: 0 }
    const trackers = await this.#deps.config.listAllTrackers()
    this.#checkpoints?.retain(new Set(trackers.map((t) => t.id)))
    for (const tracker of trackers) {
      if (this.#stopRequested) break
      try {
        await this.#runTracker(tracker, report)
      } catch (error) {
        report.errors++
        await this.#onFailure(tracker, error)
      }
    }
    return report
  }

  async #onFailure(tracker: Tracker, error: unknown): Promise<void> {
    const code = isOpenCtsError(error) ? error.code : undefined
    if (code === 'OCTS_ERR_NO_BUCKET' || code === 'OCTS_ERR_BUCKET_DENIED') {
      const detail = code === 'OCTS_ERR_NO_BUCKET' ? 'noBucket' : 'bucketPolicyError'
      await this.#setHealth(tracker, { status: 'error', detail })
      return
    }
    this.#deps.onError(error, tracker)
  }

  async #setHealth(
    tracker: Tracker,
    health: { status: 'enabled' } | { status: 'error'; detail: 'noBucket' | 'bucketPolicyError' },
  ): Promise<void> {
    const before = `${tracker.status}/${tracker.detail ?? ''}`
    const after = await this.#deps.config.setTrackerHealth(tracker.id, health)
    if (after !== undefined && `${after.status}/${after.detail ?? ''}` !== before)
      this.#deps.onHealth?.(after)
  }

  async #runTracker(tracker: Tracker, report: MutableReport): Promise<void> {
    const { transfer, traces, clock } = this.#deps
    const bucket = tracker.obs_info.bucket_name
    const delivers = trackerDelivers(tracker) && bucket !== ''
    let state = await transfer.getTransferState(tracker.id)
    if (state === undefined) {
      // A tracker that never had a bucket has not started: no state, so the first bucket delivers
      // every trace still in the store. One that has a bucket but is disabled starts at the head.
      if (bucket === '') return
      state = await transfer.initTransferState(tracker.id, delivers ? 0 : await traces.headSeq())
    }
    let chain = parseChainState(state.digest)
    const naming: FileNaming = {
      bucket,
      prefix: tracker.obs_info.file_prefix_name,
      regionSegment: regionSegment(
        this.#deps.region,
        tracker.project_id,
        await this.#deps.isDefaultProject(tracker.project_id),
      ),
    }
    const now = clock.now()
    let cursor = state.cursor
    let wrote = false
    if (state.pending !== null) {
      const pending = parsePending(state.pending)
      if (delivers) {
        tally(report, await this.#batches.deliver(tracker.id, pending, chain !== null))
        wrote = true
      } else {
        await transfer.commitBatch(tracker.id, pending.toSeq, [])
      }
      cursor = pending.toSeq
    }
    if (!delivers) {
      await this.#endChain(tracker, chain, naming, now)
      const head = await traces.headSeq()
      if (cursor < head) await transfer.commitBatch(tracker.id, head, [])
      return
    }
    if (tracker.is_support_validate) {
      chain ??= await this.#digests.begin(tracker, now)
      const due = await this.#digests.writeDue(tracker, chain, naming, now)
      chain = due.state
      report.digests += due.written
      if (due.written > 0) wrote = true
    } else if (chain !== null) {
      await this.#digests.finish(tracker, chain, naming, now)
      chain = null
    }
    for (let step = 0; step < MAX_STEPS; step++) {
      const batch = await this.#batches.plan(tracker, cursor, now, naming.regionSegment)
      if (batch === null) break
      if (batch.files.length > 0) {
        await transfer.savePending(tracker.id, JSON.stringify(batch))
        tally(report, await this.#batches.deliver(tracker.id, batch, chain !== null))
        wrote = true
      } else {
        await transfer.commitBatch(tracker.id, batch.toSeq, [])
      }
      cursor = batch.toSeq
    }
    // The bucket is usable when this cycle wrote to it or a missing bucket exists again; after a
    // refused write the checkpoint export is the next try (its success heals, as any write).
    const inError = tracker.status === 'error'
    const detail = tracker.detail
    const usable =
      !inError ||
      wrote ||
      detail === 'bucketPolicyError' ||
      (detail === 'noBucket' && (await this.#deps.sink.bucketExists(bucket)))
    if (!usable) return
    const exported = await this.#exportCheckpoint(tracker)
    if (typeof exported === 'object') {
      report.errors++
      await this.#onFailure(tracker, exported.error)
      if (exported.bucket) return // the bucket refused the checkpoint: not healed
    } else if (exported) wrote = true
    if (inError && (wrote || detail === 'noBucket'))
      await this.#setHealth(tracker, { status: 'enabled' })
  }

  /**
   * Exports the project's latest checkpoint to the tracker's bucket; never throws. Returns whether
   * it wrote, or the failure with whether it is a bucket error (noBucket, bucketPolicyError).
   */
  async #exportCheckpoint(
    tracker: Tracker,
  ): Promise<boolean | { error: unknown; bucket: boolean }> {
    if (this.#checkpoints === null) return false
    try {
      return await this.#checkpoints.export(tracker)
    } catch (error) {
      const code = isOpenCtsError(error) ? error.code : undefined
      return { error, bucket: code === 'OCTS_ERR_NO_BUCKET' || code === 'OCTS_ERR_BUCKET_DENIED' }
    }
  }

  /** Ends a digest chain with an ending digest, where a bucket can still take it. */
  async #endChain(
    tracker: Tracker,
    chain: ChainState | null,
    naming: FileNaming,
    now: number,
  ): Promise<void> {
    if (chain === null) return
    const bucket = naming.bucket !== '' ? naming.bucket : (chain.last?.bucket ?? '')
    if (bucket === '') {
      await this.#deps.transfer.saveDigestState(tracker.id, null)
      return
    }
    try {
      await this.#digests.finish(tracker, chain, { ...naming, bucket }, now)
    } catch (error) {
      // The chain ends either way; a verifier sees the missing ending digest as a gap.
      await this.#deps.transfer.saveDigestState(tracker.id, null)
      this.#deps.onError(error, tracker)
    }
  }
}
