/**
 * @module insights/detectors/observed-trace
 * What the detectors read of a trace, and what they produce (an insight without the time OpenCTS
 * found it, which the job stamps). Pure.
 */
import type { TraceRecord } from '../../model/index.js'
import type { InsightRecord } from '../../store/index.js'

export interface ObservedTrace {
  /** Commit order (`seq`): a counting detector skips a trace its entry already counted. */
  readonly seq: number
  readonly traceId: string
  readonly projectId: string
  readonly serviceType: string
  readonly traceName: string
  /** The status code as a number; NaN when the trace has none. */
  readonly code: number
  readonly codeText: string
  /** `user_name`, else the user object's name; null when the trace names no user. */
  readonly user: string | null
  readonly sourceIp: string | null
  /** Event time, ms. */
  readonly time: number
}

export type InsightDraft = Omit<InsightRecord, 'detected_at'>

export function observedTrace(trace: TraceRecord, seq: number): ObservedTrace {
  const userObject = trace.user
  const named =
    trace.user_name ??
    (typeof userObject?.name === 'string' ? userObject.name : null) ??
    (typeof userObject?.user_name === 'string' ? userObject.user_name : null)
  return {
    seq,
    traceId: trace.trace_id,
    projectId: trace.project_id,
    serviceType: trace.service_type,
    traceName: trace.trace_name,
    code: trace.code === null || trace.code === '' ? Number.NaN : Number(trace.code),
    codeText: trace.code ?? '',
    user: named === '' ? null : named,
    sourceIp: trace.source_ip === '' ? null : trace.source_ip,
    time: trace.time,
  }
}

/** Error for the error-rate insight: a status code of 400 or more. */
export function isError(trace: ObservedTrace): boolean {
  return trace.code >= 400
}

/** Denied for the burst detector: 401 or 403. */
export function isDenied(trace: ObservedTrace): boolean {
  return trace.code === 401 || trace.code === 403
}

export function minuteOf(time: number): number {
  return Math.floor(time / 60_000)
}
