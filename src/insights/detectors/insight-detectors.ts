/**
 * @module insights/detectors/insight-detectors
 * Every detector over one stream of committed traces, with their state as store entries. The
 * insights' own traces (service_type `CTS`, resource_type `insight`, see insight-trace.ts) are
 * ignored, so that an insight never feeds the detectors. Pure: time comes in as arguments.
 */
import type { TraceRecord } from '../../model/index.js'
import { DeniedBurstDetector } from './denied-burst-detector.js'
import { HighRiskDetector } from './high-risk-detector.js'
import { minuteOf, observedTrace, type InsightDraft } from './observed-trace.js'
import { RateDetector } from './rate-detector.js'
import type { SeriesMap, Touched } from './series-map.js'
import type { DetectorSettings } from './settings.js'

/** The service and resource type of the traces recording insights. */
export const INSIGHT_SERVICE_TYPE = 'CTS'
export const INSIGHT_RESOURCE_TYPE = 'insight'

export class InsightDetectors {
  readonly rate: RateDetector
  readonly denied: DeniedBurstDetector
  readonly highRisk: HighRiskDetector
  readonly #latenessMs: number

  /** `stored`: the state entries of a previous `drain` (unknown keys are ignored). */
  constructor(settings: DetectorSettings, stored: ReadonlyMap<string, string> = new Map()) {
    this.#latenessMs = settings.latenessMs
    this.rate = new RateDetector(settings)
    this.denied = new DeniedBurstDetector(settings)
    this.highRisk = new HighRiskDetector(settings)
    const entries = [...stored]
    this.rate.load(entries.filter(([key]) => this.rate.series.owns(key)))
    this.denied.load(entries.filter(([key]) => this.denied.series.owns(key)))
    this.highRisk.load(entries)
  }

  /**
   * Feeds one committed trace (commit order, `seq` its place in it); returns the insights it raised
   * or ended.
   */
  observe(record: TraceRecord, seq: number): InsightDraft[] {
    if (
      record.service_type === INSIGHT_SERVICE_TYPE &&
      record.resource_type === INSIGHT_RESOURCE_TYPE
    )
      return []
    const trace = observedTrace(record, seq)
    const out: InsightDraft[] = []
    this.rate.observe(trace, out)
    this.denied.observe(trace, out)
    this.highRisk.observe(trace, out)
    return out
  }

  /**
   * The clock reached `now` and every trace committed so far was observed: minutes that ended
   * more than `latenessMs` ago are closed, which ends the insights that went quiet.
   */
  advance(now: number): InsightDraft[] {
    const minute = minuteOf(now - this.#latenessMs)
    const out: InsightDraft[] = []
    this.rate.advance(minute, out)
    this.denied.advance(minute, out)
    return out
  }

  /** Entries changed or evicted since the last drain. */
  get pending(): number {
    let n = 0
    for (const map of this.#maps()) n += map.pending
    return n
  }

  /**
   * Up to `limit` of the entries changed and evicted since the last drain, to commit (with the
   * cursor `through` once `done`): each written entry is stamped `through`, the `seq` of the last
   * trace observed. Nothing may be observed between the parts of one checkpoint.
   */
  drain(
    through: number,
    limit = Infinity,
  ): { upserts: [string, string][]; deletes: string[]; done: boolean } {
    const upserts: [string, string][] = []
    const deletes: string[] = []
    for (const map of this.#maps()) {
      const room = limit - upserts.length - deletes.length
      if (room <= 0) break
      const changes = map.drain(through, room)
      upserts.push(...changes.upserts)
      deletes.push(...changes.deletes)
    }
    return { upserts, deletes, done: this.pending === 0 }
  }

  #maps(): readonly SeriesMap<Touched>[] {
    return [
      this.rate.series,
      this.denied.series,
      this.highRisk.operations,
      this.highRisk.addresses,
      this.highRisk.users,
    ]
  }
}
