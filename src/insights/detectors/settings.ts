/**
 * @module insights/detectors/settings
 * What the detectors are tuned by (config `OPENCTS_INSIGHTS_*`, docs/insights.md), and the
 * defaults. Pure.
 */

export interface DetectorSettings {
  /** Span of the weighted per-minute baseline of rate insights, minutes. Default 60. */
  readonly baselineMinutes: number
  /** Minutes a series' baseline must have seen before it can raise a rate insight. Default 30. */
  readonly warmupMinutes: number
  /** How many deviations above the baseline average a minute must reach. Default 4. */
  readonly sigma: number
  /** A call-rate insight needs at least this many calls in the minute. Default 10. */
  readonly minCalls: number
  /** An error-rate insight needs at least this many errors in the minute. Default 5. */
  readonly minErrors: number
  /** Denied calls (401/403) of one user or source IP within one minute that make a burst. Default 20. */
  readonly deniedThreshold: number
  /** Series (and seen pairs) each detector tracks at most; the least recently used go first. Default 10 000. */
  readonly maxSeries: number
  /** High-risk operations, `SERVICE:trace_name` each. */
  readonly highRiskOperations: readonly string[]
  /** How long a minute stays open for late traces after the clock passed it, ms. Default 30 000. */
  readonly latenessMs: number
}

/** Deletes of images (IMS/Glance recorder maps), of trackers (CTS self-audit), of keys (KMS, IAM). */
export const DEFAULT_HIGH_RISK_OPERATIONS: readonly string[] = [
  'IMS:deleteImage',
  'CTS:deleteTracker',
  'KMS:scheduleKeyDeletion',
  'KMS:deleteKey',
  'IAM:deleteAccessKey',
]

export const DEFAULT_DETECTOR_SETTINGS: DetectorSettings = Object.freeze({
  baselineMinutes: 60,
  warmupMinutes: 30,
  sigma: 4,
  minCalls: 10,
  minErrors: 5,
  deniedThreshold: 20,
  maxSeries: 10_000,
  highRiskOperations: DEFAULT_HIGH_RISK_OPERATIONS,
  latenessMs: 30_000,
})

/** An insight left open this many minutes ends, and its series learns the new level. */
export const MAX_INSIGHT_MINUTES = 120

/** Top values kept per attribute while counting (the 5 largest are reported). */
export const ATTRIBUTION_CAP = 20

/** Values reported per attribute. */
export const ATTRIBUTION_TOP = 5

export const MINUTE_MS = 60_000
