/**
 * @module ingest/ingestor
 * The batch ingest pipeline: validate the whole batch (each `time` within the retention and at most
 * a day ahead) → normalise (ids, record_time, rating) → one
 * durable commit → publish to subscribers. A batch is all or nothing: the first invalid trace rejects
 * it with OCTS_ERR_TRACE_INVALID naming its index and field. Re-reported trace ids are not stored
 * twice; their ids are still returned, so a producer may retry a batch safely.
 */
import { ctsError } from '../errors/index.js'
import {
  MAX_BATCH_TRACES,
  acceptedTimeWindow,
  normalizeTrace,
  type TraceRecord,
} from '../model/index.js'
import type { Clock, IdSource } from '../platform/clock.js'
import type { TraceStore } from '../store/index.js'
import { commitTraces } from './commit.js'
import type { Publisher } from './publisher.js'

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
}

export class Ingestor {
  readonly #deps: IngestorDeps

  constructor(deps: IngestorDeps) {
    this.#deps = deps
  }

  /** Validates a `{"traces":[...]}` body for a project into stored-form traces. Throws on the first problem. */
  validateBatch(projectId: string, body: unknown): TraceRecord[] {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw ctsError(
        'OCTS_ERR_INVALID_BODY',
        'The message body must be a JSON object {"traces": [...]}.',
      )
    }
    const list = (body as { traces?: unknown }).traces
    if (!Array.isArray(list))
      throw ctsError('OCTS_ERR_INVALID_BODY', 'The message body must have a "traces" array.')
    if (list.length === 0)
      throw ctsError('OCTS_ERR_INVALID_BODY', 'The "traces" array is empty; send 1 to 1000 traces.')
    if (list.length > MAX_BATCH_TRACES) {
      throw ctsError(
        'OCTS_ERR_BATCH_TOO_LARGE',
        `The batch has ${list.length} traces, max ${MAX_BATCH_TRACES}.`,
      )
    }
    const now = this.#deps.clock.now()
    const newId = (): string => this.#deps.ids.uuid()
    const timeWindow = acceptedTimeWindow(now, this.#deps.retentionMs)
    const out: TraceRecord[] = []
    for (let index = 0; index < list.length; index++) {
      const result = normalizeTrace(list[index], { projectId, now, newId, timeWindow })
      if (!result.ok) {
        const field = result.problem.field === 'trace' ? '' : `.${result.problem.field}`
        throw ctsError(
          'OCTS_ERR_TRACE_INVALID',
          `traces[${index}]${field}: ${result.problem.message}`,
        )
      }
      out.push(result.trace)
    }
    return out
  }

  /** Validates, commits and publishes a batch. Resolves only once the batch is durable. */
  async ingest(projectId: string, body: unknown): Promise<IngestResult> {
    const traces = this.validateBatch(projectId, body)
    return this.commit(traces)
  }

  /** Commits already-normalised traces (self-audit, recorder) and publishes the new ones. */
  async commit(traces: readonly TraceRecord[]): Promise<IngestResult> {
    const result = await commitTraces(this.#deps, traces)
    return {
      trace_ids: traces.map((t) => t.trace_id),
      stored: result.inserted.length,
      leaf_indexes: traces.map((t) => result.leafIndexes.get(t.trace_id) ?? null),
    }
  }
}
