/**
 * @module insights/detector-settings
 * The detectors' settings from the server configuration (`OPENCTS_INSIGHTS_*`).
 */
import type { OpenCtsConfig } from '../config/config.js'
import type { DetectorSettings } from './detectors/settings.js'

export function detectorSettings(config: OpenCtsConfig): DetectorSettings {
  return Object.freeze({
    baselineMinutes: config.insightsBaselineMinutes,
    warmupMinutes: config.insightsWarmupMinutes,
    sigma: config.insightsSigma,
    minCalls: config.insightsMinCalls,
    minErrors: config.insightsMinErrors,
    deniedThreshold: config.insightsDeniedThreshold,
    maxSeries: config.insightsMaxSeries,
    highRiskOperations: config.insightsHighRisk,
    latenessMs: config.insightsLatenessMs,
  })
}
