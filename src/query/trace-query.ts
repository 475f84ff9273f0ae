/**
 * @module query/trace-query
 * ListTraces for v3 and legacy v1.0/v2.0: parse the query, read one page from the store, and shape
 * the CTS response `{traces, meta_data: {count, marker}}`. `marker` is the last trace's id when more
 * traces match, else null; passing it as `next` continues with strictly older traces.
 */
import { toApiTrace, type ApiTrace } from '../model/index.js'
import type { Clock } from '../platform/clock.js'
import type { TraceStore } from '../store/index.js'
import { parseTraceQuery, type RawQuery } from './parse-trace-query.js'

export interface ListTracesResponse {
  traces: ApiTrace[]
  meta_data: { count: number; marker: string | null }
}

export type ApiVersion = 'v1.0' | 'v2.0' | 'v3'

export class TraceQuery {
  readonly #traces: TraceStore
  readonly #clock: Clock
  readonly #retentionMs: number
  readonly #searchMaxScan: number | undefined

  constructor(deps: {
    traces: TraceStore
    clock: Clock
    retentionMs: number
    /** The bound of a search (`q`); default DEFAULT_SEARCH_MAX_SCAN. */
    searchMaxScan?: number
  }) {
    this.#traces = deps.traces
    this.#clock = deps.clock
    this.#retentionMs = deps.retentionMs
    this.#searchMaxScan = deps.searchMaxScan
  }

  /** Throws OCTS_ERR_QUERY (400) on invalid parameters or an unknown `next` marker. */
  async list(projectId: string, raw: RawQuery, version: ApiVersion): Promise<ListTracesResponse> {
    const now = this.#clock.now()
    const plan = parseTraceQuery(raw, {
      projectId,
      now,
      retentionMs: this.#retentionMs,
      legacy: version !== 'v3',
      ...(this.#searchMaxScan === undefined ? {} : { searchMaxScan: this.#searchMaxScan }),
    })
    const shape = (t: ReturnType<typeof toApiTrace>): ApiTrace =>
      version === 'v2.0' ? { ...t, trace_status: t.trace_rating } : t
    if (plan.kind === 'byId') {
      const trace = await this.#traces.get(plan.projectId, plan.traceId)
      const visible = trace !== undefined && trace.time >= now - this.#retentionMs
      return {
        traces: visible ? [shape(toApiTrace(trace))] : [],
        meta_data: { count: visible ? 1 : 0, marker: null },
      }
    }
    const after = plan.next === null ? null : { traceId: plan.next }
    const page = await this.#traces.page(plan.filter, after, plan.limit)
    const traces = page.traces.map((t) => shape(toApiTrace(t)))
    const last = page.traces.at(-1)
    return {
      traces,
      meta_data: {
        count: traces.length,
        marker: page.hasMore && last !== undefined ? last.trace_id : null,
      },
    }
  }
}
