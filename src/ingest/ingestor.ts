/**
 * @module ingest/ingestor
 * The batch ingest pipeline: validate the whole batch (each `time` within the retention and at most
 * a day ahead) → normalise (ids, record_time, rating) → one
 * durable commit → publish to subscribers. A batch is all or nothing: the first invalid trace rejects
 * it with OCTS_ERR_TRACE_INVALID naming its index and field. Re-reported trace ids are not stored
 * twice; their ids are still returned, so a producer may retry a batch safely.
 *
 * A raw batch (`ingestRaw`, the HTTP route) is parsed and prepared by the ingest worker threads
 * (prepare-pool); the event loop only commits it.
 */
import type { TraceRecord } from '../model/index.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { AppendResult, TraceStore } from '../store/index.js'
import { commitPrepared, commitTraces } from './commit.js'
import type { BatchFormat } from './prepare-batch.js'
import { PreparePool, type PreparePoolStats } from './prepare-pool.js'
import type { Publisher } from './publisher.js'
import { validateBatchBody } from './validate-batch.js'

export interface IngestResult {
  /** Ids of every trace of the batch, in batch order (new and re-reported). */
  readonly trace_ids: string[]
  /** How many were stored by this call. */
  readonly stored: number
  /** Leaf index of each trace in its project's Merkle log, in batch order; null with the log off. */
  readonly leaf_indexes: (number | null)[]
}

export interface IngestorDeps {
  readonly traces: TraceStore
  readonly clock: Clock
  readonly ids: IdSource
  readonly publisher: Publisher
  /**
   * The retention (ms): a trace older than it (by the clock) is refused, as it would be purged at
   * once, acknowledged but never queryable; so is one more than MAX_FUTURE_SKEW_MS ahead.
   */
  readonly retentionMs: number
  /** Whether the Merkle log is on (the threads then compute the leaf hashes). Default false. */
  readonly merkleLog?: boolean
  /** Where raw batches are prepared; default: a pool of no threads (on the event loop). */
  readonly pool?: PreparePool
}

export class Ingestor {
  readonly #deps: IngestorDeps
  readonly #pool: PreparePool

  constructor(deps: IngestorDeps) {
    this.#deps = deps
    this.#pool = deps.pool ?? new PreparePool({ workers: 0, newId: () => deps.ids.uuid() })
  }

  /** Validates a `{"traces":[...]}` body for a project into stored-form traces. Throws on the first problem. */
  validateBatch(projectId: string, body: unknown): TraceRecord[] {
    return validateBatchBody(body, {
      projectId,
      now: this.#deps.clock.now(),
      retentionMs: this.#deps.retentionMs,
      newId: () => this.#deps.ids.uuid(),
    })
  }

  /** Validates, commits and publishes a batch. Resolves only once the batch is durable. */
  async ingest(projectId: string, body: unknown): Promise<IngestResult> {
    const traces = this.validateBatch(projectId, body)
    return this.commit(traces)
  }

  /**
   * Ingests a raw body (`json`: `{"traces": [...]}`; `ndjson`: one trace per non-empty line): the
   * pool parses and prepares it off the event loop, then it is committed and published. The same
   * answers as `ingest` of the parsed body.
   */
  async ingestRaw(
    projectId: string,
    bytes: Uint8Array,
    format: BatchFormat,
  ): Promise<IngestResult> {
    const preparer = this.#deps.traces.preparer
    const prepared = await this.#pool.run({
      projectId,
      bytes,
      format,
      now: this.#deps.clock.now(),
      retentionMs: this.#deps.retentionMs,
      merkle: this.#deps.merkleLog ?? false,
      ...(preparer === undefined ? {} : { preparerModule: preparer.module }),
    })
    let result: AppendResult
    if (prepared.batch !== undefined)
      result = await commitPrepared(this.#deps, prepared.batch, prepared.published)
    // Listeners get the light records on both paths (they must not rely on whole traces).
    else result = await commitTraces(this.#deps, prepared.traces ?? [], prepared.published)
    return this.#answer(prepared.traceIds, result)
  }

  /** Commits already-normalised traces (self-audit, recorder) and publishes the new ones. */
  async commit(traces: readonly TraceRecord[]): Promise<IngestResult> {
    const result = await commitTraces(this.#deps, traces)
    return this.#answer(
      traces.map((t) => t.trace_id),
      result,
    )
  }

  /** CPU time per step of the batches prepared so far (see PreparePool.stats). */
  prepareStats(): PreparePoolStats {
    return this.#pool.stats()
  }

  /** Stops the ingest threads (a later batch starts them again). */
  close(): Promise<void> {
    return this.#pool.close()
  }

  #answer(traceIds: string[], result: AppendResult): IngestResult {
    return {
      trace_ids: traceIds,
      stored: result.inserted.length,
      leaf_indexes: traceIds.map((id) => result.leafIndexes.get(id) ?? null),
    }
  }
}
