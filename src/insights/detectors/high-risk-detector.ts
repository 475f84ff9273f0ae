/**
 * @module insights/detectors/high-risk-detector
 * HighRiskOperationInsight: a successful call (code < 400, or none) of a configured high-risk
 * operation (`SERVICE:trace_name`) by a user who never performed it before (`first_operation`),
 * or from a source IP never seen in any trace of that user (`new_source_ip`; only for a user
 * already seen). One event (state `start`) per such trace, at its time. Traces without a user are
 * not judged. What was seen is bounded (`maxSeries` entries each for operations, IPs and users,
 * least recently used evicted), so a pair evicted long ago counts as new again. Pure.
 */
import { eventId, insightId } from './ids.js'
import type { InsightDraft, ObservedTrace } from './observed-trace.js'
import { SeriesMap, type Touched } from './series-map.js'
import type { DetectorSettings } from './settings.js'

type Seen = Touched

const isSeen = (value: unknown): boolean =>
  typeof (value as Partial<Seen> | null)?.touched === 'number'

export class HighRiskDetector {
  readonly operations: SeriesMap<Seen>
  readonly addresses: SeriesMap<Seen>
  readonly users: SeriesMap<Seen>
  readonly #watched: ReadonlySet<string>

  constructor(settings: DetectorSettings) {
    this.#watched = new Set(settings.highRiskOperations)
    this.operations = new SeriesMap('risk-op:', settings.maxSeries)
    this.addresses = new SeriesMap('risk-ip:', settings.maxSeries)
    this.users = new SeriesMap('risk-user:', settings.maxSeries)
  }

  load(stored: readonly (readonly [string, string])[]): void {
    for (const map of [this.operations, this.addresses, this.users])
      map.load(
        stored.filter(([key]) => map.owns(key)),
        isSeen,
      )
  }

  observe(trace: ObservedTrace, out: InsightDraft[]): void {
    const user = trace.user
    if (user === null) return
    const userKey = JSON.stringify([trace.projectId, user])
    const knownUser = this.users.get(userKey) !== undefined
    const ipKey =
      trace.sourceIp === null ? null : JSON.stringify([trace.projectId, user, trace.sourceIp])
    const knownIp = ipKey !== null && this.addresses.get(ipKey) !== undefined
    const operation = `${trace.serviceType}:${trace.traceName}`
    if (this.#watched.has(operation) && !(trace.code >= 400)) {
      const opKey = JSON.stringify([trace.projectId, user, operation])
      const reasons: string[] = []
      if (this.operations.get(opKey) === undefined) {
        reasons.push('first_operation')
        this.operations.set(opKey, { touched: trace.time })
      }
      if (ipKey !== null && knownUser && !knownIp) reasons.push('new_source_ip')
      if (reasons.length > 0) out.push(this.#draft(trace, user, reasons))
    }
    if (!knownUser) this.users.set(userKey, { touched: trace.time })
    if (ipKey !== null && !knownIp) this.addresses.set(ipKey, { touched: trace.time })
  }

  #draft(trace: ObservedTrace, user: string, reasons: string[]): InsightDraft {
    const id = insightId(['HighRiskOperationInsight', trace.projectId, trace.traceId])
    return {
      id: eventId(id, 'start'),
      insight_id: id,
      project_id: trace.projectId,
      insight_type: 'HighRiskOperationInsight',
      state: 'start',
      time: trace.time,
      service_type: trace.serviceType,
      trace_name: trace.traceName,
      subject: { user, source_ip: trace.sourceIp },
      statistics: null,
      attributions: [],
      reasons,
      trace_id: trace.traceId,
    }
  }
}
