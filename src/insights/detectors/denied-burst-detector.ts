/**
 * @module insights/detectors/denied-burst-detector
 * DeniedBurstInsight: denied calls (code 401 or 403) counted per minute of event time for each
 * user and each source IP of a project. When one of them reaches `deniedThreshold` within a
 * minute, a `start` event is raised at once (at the time of the trace that reached it); the first
 * later minute below the threshold ends it (`end` at the start of that minute, with the average
 * and peak per minute). A late denied trace counts in the current minute. Attributions: codes,
 * operations (`SERVICE:trace_name`), and the source IPs of a user's burst or the users of an IP's.
 * Pure.
 */
import type { InsightAttribution } from '../../store/index.js'
import { eventId, insightId } from './ids.js'
import { isDenied, minuteOf, type InsightDraft, type ObservedTrace } from './observed-trace.js'
import { SeriesMap, type Touched } from './series-map.js'
import {
  ATTRIBUTION_CAP,
  ATTRIBUTION_TOP,
  MAX_INSIGHT_MINUTES,
  MINUTE_MS,
  type DetectorSettings,
} from './settings.js'
import { addCount, mergeCounts, round, topValues, type Counts } from './top-counts.js'

type Dimension = 'user' | 'source_ip'
type Attrs = { code: Counts; operation: Counts; other: Counts }

interface OpenBurst {
  id: string
  minutes: number
  total: number
  peak: number
  attrs: Attrs
  firstTrace: string
}

export interface BurstSeries extends Touched {
  project: string
  dimension: Dimension
  value: string
  minute: number
  count: number
  attrs: Attrs
  open: OpenBurst | null
}

const attrs = (): Attrs => ({ code: {}, operation: {}, other: {} })

function isSeries(value: unknown): boolean {
  const v = value as Partial<BurstSeries> | null
  return typeof v?.minute === 'number' && typeof v.count === 'number' && typeof v.attrs === 'object'
}

export class DeniedBurstDetector {
  readonly series: SeriesMap<BurstSeries>
  readonly #threshold: number

  constructor(settings: DetectorSettings) {
    this.#threshold = settings.deniedThreshold
    this.series = new SeriesMap('denied:', settings.maxSeries)
  }

  load(stored: readonly (readonly [string, string])[]): void {
    this.series.load(stored, isSeries)
  }

  observe(trace: ObservedTrace, out: InsightDraft[]): void {
    if (!isDenied(trace)) return
    if (trace.user !== null) this.#count(trace, 'user', trace.user, trace.sourceIp, out)
    if (trace.sourceIp !== null) this.#count(trace, 'source_ip', trace.sourceIp, trace.user, out)
  }

  /** Closes the minutes before `minute` of every open burst (ending quiet ones). */
  advance(minute: number, out: InsightDraft[]): void {
    for (const [key, series] of this.series.entries()) {
      if (series.open === null || series.minute >= minute) continue
      this.#closeThrough(series, minute, out)
      this.series.changed(key)
    }
  }

  #count(
    trace: ObservedTrace,
    dimension: Dimension,
    value: string,
    other: string | null,
    out: InsightDraft[],
  ): void {
    const key = JSON.stringify([trace.projectId, dimension, value])
    const minute = minuteOf(trace.time)
    let series = this.series.get(key)
    if (series === undefined) {
      series = {
        touched: trace.time,
        project: trace.projectId,
        dimension,
        value,
        minute,
        count: 0,
        attrs: attrs(),
        open: null,
      }
      this.series.set(key, series)
    }
    // Counted already: a replay after a checkpoint cut short (insight-job.ts).
    if (trace.seq <= (series.through ?? -1)) return
    if (minute > series.minute) this.#closeThrough(series, minute, out)
    series.touched = Math.max(series.touched, trace.time)
    series.count++
    addCount(series.attrs.code, trace.codeText, 1, ATTRIBUTION_CAP)
    addCount(series.attrs.operation, `${trace.serviceType}:${trace.traceName}`, 1, ATTRIBUTION_CAP)
    if (other !== null) addCount(series.attrs.other, other, 1, ATTRIBUTION_CAP)
    this.series.changed(key)
    if (series.open !== null || series.count < this.#threshold) return
    series.open = {
      id: insightId(['DeniedBurstInsight', series.project, dimension, value, series.minute]),
      minutes: 0,
      total: 0,
      peak: 0,
      attrs: attrs(),
      firstTrace: trace.traceId,
    }
    out.push(this.#draft(series, 'start', trace.time, series.count, series.count, 1))
  }

  /** Closes the current minute; `minute` (later) becomes the current one. */
  #closeThrough(series: BurstSeries, minute: number, out: InsightDraft[]): void {
    const open = series.open
    if (open !== null) {
      if (series.count >= this.#threshold) {
        open.minutes++
        open.total += series.count
        open.peak = Math.max(open.peak, series.count)
        for (const a of ['code', 'operation', 'other'] as const)
          mergeCounts(open.attrs[a], series.attrs[a], ATTRIBUTION_CAP)
        // An empty minute follows (a gap), or the burst reached its longest: it ends here.
        if (series.minute + 1 < minute || open.minutes >= MAX_INSIGHT_MINUTES)
          this.#end(series, (series.minute + 1) * MINUTE_MS, out)
      } else this.#end(series, series.minute * MINUTE_MS, out)
    }
    series.minute = minute
    series.count = 0
    series.attrs = attrs()
  }

  #end(series: BurstSeries, time: number, out: InsightDraft[]): void {
    const open = series.open
    if (open === null) return
    const minutes = Math.max(open.minutes, 1)
    out.push(this.#draft(series, 'end', time, open.total / minutes, open.peak, minutes))
    series.open = null
  }

  #draft(
    series: BurstSeries,
    state: 'start' | 'end',
    time: number,
    average: number,
    peak: number,
    minutes: number,
  ): InsightDraft {
    const open = series.open as OpenBurst
    const during = state === 'start' ? series.attrs : open.attrs
    const otherName = series.dimension === 'user' ? 'source_ip' : 'user'
    const attributions: InsightAttribution[] = (
      [
        ['code', during.code],
        ['operation', during.operation],
        [otherName, during.other],
      ] as const
    ).map(([attribute, table]) => ({
      attribute,
      insight: topValues(table, ATTRIBUTION_TOP, minutes),
      baseline: [],
    }))
    return {
      id: eventId(open.id, state),
      insight_id: open.id,
      project_id: series.project,
      insight_type: 'DeniedBurstInsight',
      state,
      time,
      service_type: null,
      trace_name: null,
      subject: { [series.dimension]: series.value },
      statistics: {
        baseline: { average: null },
        insight: { average: round(average), peak },
        threshold: this.#threshold,
        insight_duration: state === 'start' ? 0 : open.minutes,
        baseline_duration: 0,
      },
      attributions,
      reasons: [],
      trace_id: open.firstTrace,
    }
  }
}
