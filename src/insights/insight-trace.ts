/**
 * @module insights/insight-trace
 * Each stored insight is also recorded as a self-audit trace of its project, so that key-event
 * notifications on its operation deliver it through the outbox like any trace: service_type
 * `CTS`, resource_type `insight`, trace_name the insight type (`ApiCallRateInsight` …),
 * resource_id the insight id (shared by start and end), resource_name the state, the insight as
 * the `response`, code 200, user `opencts-insights` (type `System`), rating `warning` for a start
 * and `normal` for an end. Its trace id is derived from the insight event's id, so recording it
 * again (after a restart) stores it once.
 */
import type { TraceRecord } from '../model/index.js'
import type { SelfAudit } from '../ingest/index.js'
import type { InsightRecord } from '../store/index.js'
import { digestUuid } from './detectors/ids.js'
import { INSIGHT_RESOURCE_TYPE } from './detectors/insight-detectors.js'

export const INSIGHTS_USER = 'opencts-insights'

export function insightTrace(audit: SelfAudit, insight: InsightRecord): TraceRecord {
  const trace = audit.trace({
    projectId: insight.project_id,
    traceName: insight.insight_type,
    resourceType: INSIGHT_RESOURCE_TYPE,
    resourceId: insight.insight_id,
    resourceName: insight.state,
    response: insight,
    code: 200,
    rating: insight.state === 'start' ? 'warning' : 'normal',
    caller: {
      sourceIp: null,
      user: { name: INSIGHTS_USER, type: 'System' },
      requestId: null,
      userAgent: null,
      traceType: 'SystemAction',
    },
  })
  return { ...trace, trace_id: digestUuid(`insight-trace\u0000${insight.id}`) }
}
