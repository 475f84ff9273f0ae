/**
 * @module metrics/gauge
 * A value read at scrape time from an async callback (queue depth, lag): nothing is kept between
 * scrapes. The callback returns one sample per label set; at most `maxSeries` of them are exported
 * (the first in label order; the rest are dropped, as a gauge's values cannot be summed into an
 * overflow series). Pure apart from the callback.
 */
import { labelKey, toLabelPairs } from './label-sets.js'
import {
  DEFAULT_MAX_SERIES,
  checkMetricOptions,
  type LabelPairs,
  type LabelValues,
  type MetricOptions,
  type MetricSnapshot,
} from './metric-types.js'

export interface GaugeSample<L extends string> {
  readonly labels: LabelValues<L>
  readonly value: number
}

export type GaugeCallback<L extends string> = () => Promise<readonly GaugeSample<L>[]>

export interface GaugeOptions<L extends string> extends MetricOptions<L> {
  /** Default: no samples. */
  readonly collect?: GaugeCallback<L>
}

export class Gauge<L extends string = never> {
  readonly name: string
  readonly help: string
  readonly #names: readonly string[]
  readonly #maxSeries: number
  #collect: GaugeCallback<L>

  constructor(options: GaugeOptions<L>) {
    checkMetricOptions(options)
    this.name = options.name
    this.help = options.help
    this.#names = options.labelNames ?? []
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES
    this.#collect = options.collect ?? (async () => [])
  }

  /** Replaces the callback read at each scrape. */
  collectWith(collect: GaugeCallback<L>): void {
    this.#collect = collect
  }

  /**
   * Runs the callback. Rejects when it rejects, or returns a sample whose labels are not exactly the
   * gauge's label names, or the same label set twice.
   */
  async snapshot(): Promise<MetricSnapshot> {
    const samples = await this.#collect()
    const seen = new Map<string, { labels: LabelPairs; value: number }>()
    for (const sample of samples) {
      const labels = toLabelPairs(this.name, this.#names, sample.labels)
      const key = labelKey(labels)
      if (seen.has(key)) throw new TypeError(`${this.name}: label set ${key} returned twice`)
      seen.set(key, { labels, value: sample.value })
    }
    const series = [...seen.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, this.#maxSeries)
      .map(([, entry]) => entry)
    return { name: this.name, help: this.help, type: 'gauge', series }
  }
}
