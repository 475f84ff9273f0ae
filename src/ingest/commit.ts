/**
 * @module ingest/commit
 * The one commit-then-publish path. Every writer of traces goes through it: ingest batches, the
 * recorder, self-audit of configuration changes (success and failure), sign-in traces and project
 * registration. Subscribers hear of a trace only after the transaction that stored it committed,
 * and only of traces that transaction newly stored (a re-reported id is not published again).
 *
 * In the store, every trace append — a batch of its own, or the self-audit traces inside a
 * configuration change's transaction — goes through the engine's one append (same commit order,
 * same Merkle log); see src/store/README.md.
 */
import type { TraceRecord } from '../model/index.js'
import type { AppendResult, PreparedBatch, TraceStore } from '../store/index.js'
import type { PublishedTrace, Publisher } from './publisher.js'

export interface CommitDeps {
  readonly traces: TraceStore
  readonly publisher: Publisher
}

/**
 * Appends `traces` in one durable transaction, then publishes those it newly stored (as
 * `published`, what listeners get of each trace, batch order: by default the traces).
 */
export async function commitTraces(
  deps: CommitDeps,
  traces: readonly TraceRecord[],
  published: readonly PublishedTrace[] = traces,
): Promise<AppendResult> {
  const result = await deps.traces.append(traces)
  publishInserted(deps.publisher, result, published)
  return result
}

/** Publishes those of `traces` that `result` newly stored, each once. */
function publishInserted(
  publisher: Publisher,
  result: AppendResult,
  traces: readonly PublishedTrace[],
): void {
  if (result.inserted.length === 0) return
  // `delete` makes a repeat of an id within the batch publish once, like it is stored once.
  const fresh = new Set(result.inserted)
  publisher.publish(traces.filter((t) => fresh.delete(t.trace_id)))
}

/**
 * Stores a batch an engine's preparer encoded in an ingest worker (`appendPrepared`, the same
 * semantics as `append`), then publishes those it newly stored; `published` holds what listeners
 * get of each trace of the batch, batch order.
 */
export async function commitPrepared(
  deps: CommitDeps,
  batch: PreparedBatch,
  published: readonly PublishedTrace[],
): Promise<AppendResult> {
  if (deps.traces.appendPrepared === undefined)
    throw new Error('the store has a preparer but no appendPrepared')
  const result = await deps.traces.appendPrepared(batch)
  publishInserted(deps.publisher, result, published)
  return result
}

/**
 * Runs a store mutation that commits `traces()` (its self-audit) in its own transaction, then
 * publishes them; nothing is published when the mutation throws (it rolled back). `traces` is
 * read after the mutation, as the audit may be built while it runs.
 */
export async function commitChange<T>(
  publisher: Publisher,
  mutation: () => Promise<T>,
  traces: () => readonly TraceRecord[],
): Promise<T> {
  const result = await mutation()
  publisher.publish(traces())
  return result
}
