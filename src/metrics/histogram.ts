/**
 * @module metrics/histogram
 * Observations counted into fixed buckets per label set (bounded by `maxSeries`, see label-sets),
 * exported the Prometheus way: cumulative `_bucket{le="..."}` series ending in `le="+Inf"`, plus
 * `_sum` and `_count`. Pure.
 */
import { LabelSets } from './label-sets.js'
import {
  DEFAULT_MAX_SERIES,
  checkMetricOptions,
  type LabelValues,
  type MetricOptions,
  type MetricSnapshot,
} from './metric-types.js'

/** Upper bounds in seconds suited to request durations (those of the Prometheus clients). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  /** Finite, strictly increasing upper bounds (`+Inf` is implicit); default DEFAULT_BUCKETS. */
  readonly buckets?: readonly number[]
}

interface HistogramState {
  /** Observations per bucket (not cumulative); the last slot is the `+Inf` bucket. */
  readonly counts: number[]
  sum: number
  count: number
}

export class Histogram<L extends string = never> {
  readonly name: string
  readonly help: string
  readonly #bounds: readonly number[]
  readonly #sets: LabelSets<HistogramState>

  /** Throws a TypeError on invalid names or buckets. */
  constructor(options: HistogramOptions<L>) {
    checkMetricOptions(options, ['le'])
    const bounds = [...(options.buckets ?? DEFAULT_BUCKETS)]
    if (bounds.length === 0) throw new TypeError(`${options.name}: no buckets`)
    bounds.forEach((bound, i) => {
      if (!Number.isFinite(bound) || (i > 0 && bound <= (bounds[i - 1] ?? -Infinity)))
        throw new TypeError(`${options.name}: buckets must be finite and strictly increasing`)
    })
    this.name = options.name
    this.help = options.help
    this.#bounds = bounds
    this.#sets = new LabelSets(
      options.name,
      options.labelNames ?? [],
      options.maxSeries ?? DEFAULT_MAX_SERIES,
      () => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 }),
    )
  }

  /** Counts `value` (e.g. seconds) into the first bucket whose bound is >= it. NaN is refused. */
  observe(labels: LabelValues<L>, value: number): void {
    if (Number.isNaN(value)) throw new RangeError(`${this.name}: observed NaN`)
    const state = this.#sets.get(labels)
    let slot = this.#bounds.findIndex((bound) => value <= bound)
    if (slot === -1) slot = this.#bounds.length
    state.counts[slot] = (state.counts[slot] ?? 0) + 1
    state.sum += value
    state.count += 1
  }

  /** Creates the series of `labels` with no observation, so it is exported at 0. */
  touch(labels: LabelValues<L>): void {
    this.#sets.get(labels)
  }

  snapshot(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      type: 'histogram',
      series: this.#sets.entries().map(({ labels, state }) => {
        let running = 0
        const buckets = this.#bounds.map((le, i) => {
          running += state.counts[i] ?? 0
          return { le, count: running }
        })
        return { labels, buckets, sum: state.sum, count: state.count }
      }),
    }
  }
}
