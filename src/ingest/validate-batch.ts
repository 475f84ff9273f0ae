/**
 * @module ingest/validate-batch
 * The validation of a batch, pure so that the event loop (`Ingestor.validateBatch`) and the ingest
 * worker threads give the very same answers: the body must be `{"traces": [...]}` with 1 to
 * MAX_BATCH_TRACES traces, and the first invalid trace rejects the batch with
 * OCTS_ERR_TRACE_INVALID naming `traces[i].field`.
 */
import { ctsError } from '../errors/index.js'
import {
  MAX_BATCH_TRACES,
  acceptedTimeWindow,
  normalizeTrace,
  type TraceRecord,
} from '../model/index.js'

/** What normalising a batch depends on besides the traces. */
export interface BatchContext {
  readonly projectId: string
  /** Epoch ms: every trace's record_time, and the reference of the accepted time window. */
  readonly now: number
  readonly retentionMs: number
  /** A new trace id (UUID) for a trace reported without one. */
  readonly newId: () => string
}

/** Refuses a batch of `count` traces outside 1..MAX_BATCH_TRACES. */
export function checkBatchSize(count: number): void {
  if (count === 0)
    throw ctsError('OCTS_ERR_INVALID_BODY', 'The "traces" array is empty; send 1 to 1000 traces.')
  if (count > MAX_BATCH_TRACES) {
    throw ctsError(
      'OCTS_ERR_BATCH_TOO_LARGE',
      `The batch has ${count} traces, max ${MAX_BATCH_TRACES}.`,
    )
  }
}

/** Normalises a list of reported traces; throws on the first invalid one. */
export function validateTraceList(list: readonly unknown[], ctx: BatchContext): TraceRecord[] {
  checkBatchSize(list.length)
  const { projectId, now, newId } = ctx
  const timeWindow = acceptedTimeWindow(now, ctx.retentionMs)
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

/** Validates a parsed `{"traces":[...]}` body into stored-form traces. */
export function validateBatchBody(body: unknown, ctx: BatchContext): TraceRecord[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ctsError(
      'OCTS_ERR_INVALID_BODY',
      'The message body must be a JSON object {"traces": [...]}.',
    )
  }
  const list = (body as { traces?: unknown }).traces
  if (!Array.isArray(list))
    throw ctsError('OCTS_ERR_INVALID_BODY', 'The message body must have a "traces" array.')
  return validateTraceList(list, ctx)
}
