/**
 * @module insights/detectors/rate-detector
 * ApiCallRateInsight and ApiErrorRateInsight (CloudTrail Insights' semantics) per (project,
 * service_type, trace_name): traces are counted per minute of their event `time`; each series
 * learns a baseline of its per-minute count (all calls; errors, i.e. code >= 400) as an
 * exponentially weighted average and variance of span `baselineMinutes`, minutes without traces
 * counting as 0. Once the baseline has seen `warmupMinutes` minutes, a minute whose count reaches
 *
 *     threshold = max(minimum, average + sigma × max(deviation, √average, 1))
 *
 * opens an insight at once (a `start` event at the time of the trace that reached it). The
 * baseline is frozen while the insight is open; the first later minute below the threshold ends
 * it (an `end` event at the start of that minute, with the average and peak per minute during the
 * insight), as does reaching MAX_INSIGHT_MINUTES. Attributions: the top users, source IPs and
 * codes during the insight, and in the baseline (weighted averages per minute).
 *
 * Traces older than their series' current minute (late beyond it) are not counted, nor traces the
 * series' stored entry had counted (`through`). Pure.
 */
import type { InsightAttribution, InsightType } from '../../store/index.js'
import { eventId, insightId } from './ids.js'
import { isError, minuteOf, type InsightDraft, type ObservedTrace } from './observed-trace.js'
import { SeriesMap, type Touched } from './series-map.js'
import {
  ATTRIBUTION_CAP,
  ATTRIBUTION_TOP,
  MAX_INSIGHT_MINUTES,
  MINUTE_MS,
  type DetectorSettings,
} from './settings.js'
import {
  addCount,
  decayInto,
  decayTimes,
  mergeCounts,
  round,
  topValues,
  type Counts,
} from './top-counts.js'

const ATTRIBUTES = ['user', 'source_ip', 'code'] as const
/** Empty minutes a series replays at most when it next sees a trace (three days). */
const MAX_EMPTY_MINUTES = 3 * 1440
type Attrs = Record<(typeof ATTRIBUTES)[number], Counts>

interface Baseline {
  n: number
  mean: number
  variance: number
}

interface OpenRate {
  id: string
  threshold: number
  baseline: number
  minutes: number
  total: number
  peak: number
  attrs: Attrs
  firstTrace: string
}

interface KindState {
  base: Baseline
  baseAttrs: Attrs
  open: OpenRate | null
  /** Count and attributions of the series' current minute. */
  count: number
  attrs: Attrs
}

export interface RateSeries extends Touched {
  project: string
  service: string
  name: string
  /** The current (open) minute, minutes since the epoch. */
  minute: number
  call: KindState
  error: KindState
}

type Kind = 'call' | 'error'
const KINDS: readonly Kind[] = ['call', 'error']
const TYPE: Record<Kind, InsightType> = { call: 'ApiCallRateInsight', error: 'ApiErrorRateInsight' }

const attrs = (): Attrs => ({ user: {}, source_ip: {}, code: {} })
const kindState = (): KindState => ({
  base: { n: 0, mean: 0, variance: 0 },
  baseAttrs: attrs(),
  open: null,
  count: 0,
  attrs: attrs(),
})

function isSeries(value: unknown): boolean {
  const v = value as Partial<RateSeries> | null
  return typeof v?.minute === 'number' && typeof v.call === 'object' && typeof v.error === 'object'
}

export class RateDetector {
  readonly series: SeriesMap<RateSeries>
  readonly #settings: DetectorSettings
  readonly #alpha: number

  constructor(settings: DetectorSettings) {
    this.#settings = settings
    this.#alpha = 2 / (settings.baselineMinutes + 1)
    this.series = new SeriesMap('rate:', settings.maxSeries)
  }

  load(stored: readonly (readonly [string, string])[]): void {
    this.series.load(stored, isSeries)
  }

  observe(trace: ObservedTrace, out: InsightDraft[]): void {
    const key = JSON.stringify([trace.projectId, trace.serviceType, trace.traceName])
    const minute = minuteOf(trace.time)
    let series = this.series.get(key)
    if (series === undefined) {
      series = {
        touched: trace.time,
        project: trace.projectId,
        service: trace.serviceType,
        name: trace.traceName,
        minute,
        call: kindState(),
        error: kindState(),
      }
      this.series.set(key, series)
    }
    // Late beyond the current minute, or counted already (a replay after a cut-short checkpoint).
    if (minute < series.minute || trace.seq <= (series.through ?? -1)) return
    if (minute > series.minute) this.#closeThrough(series, minute, out)
    series.touched = Math.max(series.touched, trace.time)
    this.#count(series, 'call', trace, out)
    if (isError(trace)) this.#count(series, 'error', trace, out)
    this.series.changed(key)
  }

  /** Closes the minutes before `minute` of every series with an open insight (ending quiet ones). */
  advance(minute: number, out: InsightDraft[]): void {
    for (const [key, series] of this.series.entries()) {
      if (series.minute >= minute || (series.call.open === null && series.error.open === null))
        continue
      this.#closeThrough(series, minute, out)
      this.series.changed(key)
    }
  }

  #threshold(kind: Kind, base: Baseline): number {
    const { sigma, minCalls, minErrors } = this.#settings
    const spread = Math.max(Math.sqrt(base.variance), Math.sqrt(base.mean), 1)
    return Math.max(kind === 'call' ? minCalls : minErrors, base.mean + sigma * spread)
  }

  #count(series: RateSeries, kind: Kind, trace: ObservedTrace, out: InsightDraft[]): void {
    const state = series[kind]
    state.count++
    if (trace.user !== null) addCount(state.attrs.user, trace.user, 1, ATTRIBUTION_CAP)
    if (trace.sourceIp !== null) addCount(state.attrs.source_ip, trace.sourceIp, 1, ATTRIBUTION_CAP)
    addCount(state.attrs.code, trace.codeText, 1, ATTRIBUTION_CAP)
    if (state.open !== null || state.base.n < this.#settings.warmupMinutes) return
    const threshold = this.#threshold(kind, state.base)
    if (state.count < threshold) return
    const id = insightId([TYPE[kind], series.project, series.service, series.name, series.minute])
    state.open = {
      id,
      threshold,
      baseline: state.base.mean,
      minutes: 0,
      total: 0,
      peak: 0,
      attrs: attrs(),
      firstTrace: trace.traceId,
    }
    out.push(this.#draft(series, kind, 'start', trace.time, state.count, state.count, 1))
  }

  /** Closes the current minute, then the empty minutes up to `minute` (now the current one). */
  #closeThrough(series: RateSeries, minute: number, out: InsightDraft[]): void {
    // Empty minutes replayed at most: past three spans the weighted baseline has forgotten the
    // rest; past three days (long spans) the baseline stays higher than it would be, which only
    // raises the threshold (fewer insights, never more).
    const replay = Math.min(3 * this.#settings.baselineMinutes, MAX_EMPTY_MINUTES)
    const last = Math.min(minute, series.minute + 1 + replay)
    let m = series.minute
    // The current minute, then empty ones while an insight is open (the first of them ends it).
    do {
      for (const kind of KINDS) this.#closeKind(series, kind, m, out)
      m++
    } while (m < last && (series.call.open !== null || series.error.open !== null))
    // The rest are empty minutes without an insight: learned at once.
    if (m < last) for (const kind of KINDS) this.#learnEmpty(series[kind], last - m)
    series.minute = minute
  }

  #closeKind(series: RateSeries, kind: Kind, minute: number, out: InsightDraft[]): void {
    const state = series[kind]
    const open = state.open
    let anomalous = false
    if (open !== null) {
      if (state.count >= open.threshold) {
        anomalous = true
        open.minutes++
        open.total += state.count
        open.peak = Math.max(open.peak, state.count)
        for (const a of ATTRIBUTES) mergeCounts(open.attrs[a], state.attrs[a], ATTRIBUTION_CAP)
        if (open.minutes >= MAX_INSIGHT_MINUTES)
          this.#end(series, kind, (minute + 1) * MINUTE_MS, out)
      } else this.#end(series, kind, minute * MINUTE_MS, out)
    }
    if (!anomalous) this.#learn(state)
    state.count = 0
    state.attrs = attrs()
  }

  #learn(state: KindState): void {
    const base = state.base
    const alpha = base.n === 0 ? 1 : this.#alpha
    const delta = state.count - base.mean
    base.mean += alpha * delta
    base.variance = base.n === 0 ? 0 : (1 - alpha) * (base.variance + alpha * delta * delta)
    base.n++
    for (const a of ATTRIBUTES)
      decayInto(state.baseAttrs[a], state.attrs[a], alpha, ATTRIBUTION_CAP)
  }

  /**
   * What `minutes` calls of #learn on empty minutes do (the same arithmetic, in the same order),
   * without a minute's state each time: a sparse series replays up to three spans of them.
   */
  #learnEmpty(state: KindState, minutes: number): void {
    const base = state.base
    if (base.n === 0) {
      for (let i = 0; i < minutes; i++) this.#learn(state)
      return
    }
    const alpha = this.#alpha
    for (let i = 0; i < minutes; i++) {
      const delta = -base.mean
      base.mean += alpha * delta
      base.variance = (1 - alpha) * (base.variance + alpha * delta * delta)
    }
    base.n += minutes
    for (const a of ATTRIBUTES) decayTimes(state.baseAttrs[a], alpha, minutes)
  }

  #end(series: RateSeries, kind: Kind, time: number, out: InsightDraft[]): void {
    const open = series[kind].open
    if (open === null) return
    const minutes = Math.max(open.minutes, 1)
    out.push(this.#draft(series, kind, 'end', time, open.total / minutes, open.peak, minutes))
    series[kind].open = null
  }

  #draft(
    series: RateSeries,
    kind: Kind,
    state: 'start' | 'end',
    time: number,
    average: number,
    peak: number,
    minutes: number,
  ): InsightDraft {
    const k = series[kind]
    const open = k.open as OpenRate
    const during = state === 'start' ? k.attrs : open.attrs
    const attributions: InsightAttribution[] = ATTRIBUTES.map((attribute) => ({
      attribute,
      insight: topValues(during[attribute], ATTRIBUTION_TOP, minutes),
      baseline: topValues(k.baseAttrs[attribute], ATTRIBUTION_TOP),
    }))
    return {
      id: eventId(open.id, state),
      insight_id: open.id,
      project_id: series.project,
      insight_type: TYPE[kind],
      state,
      time,
      service_type: series.service,
      trace_name: series.name,
      subject: {},
      statistics: {
        baseline: { average: round(open.baseline) },
        insight: { average: round(average), peak },
        threshold: round(open.threshold),
        insight_duration: state === 'start' ? 0 : open.minutes,
        baseline_duration: Math.min(k.base.n, this.#settings.baselineMinutes),
      },
      attributions,
      reasons: [],
      trace_id: open.firstTrace,
    }
  }
}
