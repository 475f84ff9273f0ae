/**
 * @module store/ports/insights
 * The insights port: the insights the detectors found (append idempotently, list a project's newest
 * first with filters and paging), and the detectors' durable state with their cursor in the commit
 * order of traces, all written together in one transaction.
 */

/** The kinds of insight (src/insights/insight.ts describes each). */
export type InsightType =
  'ApiCallRateInsight' | 'ApiErrorRateInsight' | 'DeniedBurstInsight' | 'HighRiskOperationInsight'

export type InsightState = 'start' | 'end'

/** One insight event, as stored and as the API answers it. */
export interface InsightRecord {
  /** This event's id (a UUID derived from what it is about: the same insight always has the same). */
  readonly id: string
  /** Shared by the start and end events of one insight (CloudTrail's `sharedEventID`). */
  readonly insight_id: string
  readonly project_id: string
  readonly insight_type: InsightType
  readonly state: InsightState
  /** Event time (ms) the insight started (`start`) or ended (`end`). */
  readonly time: number
  /** The service of the traces it is about; null when it spans services (denied bursts). */
  readonly service_type: string | null
  /** The operation it is about; null when it spans operations (denied bursts). */
  readonly trace_name: string | null
  /** What else identifies the subject: `{user}` or `{source_ip}` (bursts), `{user, source_ip}` (high-risk). */
  readonly subject: Readonly<Record<string, string | null>>
  /** Baseline and insight values (rate insights; the count for bursts; null for high-risk ones). */
  readonly statistics: InsightStatistics | null
  /** Top values of the traces during the insight (and in the baseline, for rate insights). */
  readonly attributions: readonly InsightAttribution[]
  /** Why a high-risk operation was flagged (`first_operation`, `new_source_ip`); else empty. */
  readonly reasons: readonly string[]
  /** The trace that raised it (high-risk operations, the first trace of a burst); else null. */
  readonly trace_id: string | null
  /** When OpenCTS found it (ms, its clock). */
  readonly detected_at: number
}

export interface InsightStatistics {
  /** Average per minute in the learned baseline (null where there is no baseline: bursts). */
  readonly baseline: { readonly average: number | null }
  /** Start: the first anomalous minute's count when it crossed the threshold; end: the average per minute. */
  readonly insight: { readonly average: number; readonly peak: number }
  /** The threshold the count had to exceed. */
  readonly threshold: number
  /** Minutes from start to end (0 at start). */
  readonly insight_duration: number
  /** Minutes the baseline was learned over (effective span of the weighted average). */
  readonly baseline_duration: number
}

export interface AttributionValue {
  readonly value: string
  /** Average per minute (rate insights) or count (bursts) of traces with this value. */
  readonly average: number
}

export interface InsightAttribution {
  /** `user`, `source_ip`, `code` or `operation`. */
  readonly attribute: string
  /** Top values during the insight, largest first (at most 5). */
  readonly insight: readonly AttributionValue[]
  /** Top values in the baseline, largest first (at most 5; empty without a baseline). */
  readonly baseline: readonly AttributionValue[]
}

/** Filter of a page of insights. */
export interface InsightFilter {
  readonly projectId: string
  /** Exclusive lower bound on `time` (ms). */
  readonly from: number
  /** Exclusive upper bound on `time` (ms). */
  readonly to: number
  readonly insightType?: InsightType
  readonly serviceType?: string
  readonly state?: InsightState
}

export interface InsightPage {
  readonly insights: InsightRecord[]
  /** True when at least one more insight matches after the last one returned. */
  readonly hasMore: boolean
}

/** The detectors' state as stored: the cursor and one text value per key. */
export interface DetectorState {
  /** Highest trace `seq` the detectors have consumed; undefined before their first commit. */
  readonly cursor: number | undefined
  readonly entries: ReadonlyMap<string, string>
}

/** What one detector run commits. */
export interface DetectorCommit {
  readonly cursor: number
  /** Keys set (replacing any value). */
  readonly upserts: readonly (readonly [string, string])[]
  /** Keys removed (absent keys are ignored). */
  readonly deletes: readonly string[]
  /** Insights found; an id already stored in its project is skipped. */
  readonly insights: readonly InsightRecord[]
}

export interface InsightStore {
  /**
   * In one transaction: stores the insights (an `id` already stored in the project is skipped,
   * whatever its content), applies the state changes and sets the cursor. Returns the ids newly
   * stored. Keys are at most 1024 characters.
   */
  commitDetectors(commit: DetectorCommit): Promise<string[]>
  /** The cursor and every state entry (the whole state: it is bounded by the detectors' caps). */
  loadDetectors(): Promise<DetectorState>
  /**
   * Up to `limit` insights matching `filter`, newest first (`time`, then `id`, descending),
   * strictly after the insight `after` when given. Throws OCTS_ERR_QUERY when `after` is not an
   * insight of the project.
   */
  listInsights(filter: InsightFilter, after: string | null, limit: number): Promise<InsightPage>
  /** Deletes insights whose `time` is before `time`; returns the count. */
  purgeInsights(time: number): Promise<number>
}
