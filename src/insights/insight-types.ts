/**
 * @module insights/insight-types
 * The kinds and states of insight, as values (the store port has their types).
 */
import type { InsightState, InsightType } from '../store/index.js'

export const INSIGHT_TYPES: readonly InsightType[] = [
  'ApiCallRateInsight',
  'ApiErrorRateInsight',
  'DeniedBurstInsight',
  'HighRiskOperationInsight',
]

export const INSIGHT_STATES: readonly InsightState[] = ['start', 'end']
