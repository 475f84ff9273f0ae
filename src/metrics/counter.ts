/**
 * @module metrics/counter
 * A monotonically increasing count per label set (bounded by `maxSeries`, see label-sets). Pure.
 */
import { LabelSets } from './label-sets.js'
import {
  DEFAULT_MAX_SERIES,
  checkMetricOptions,
  type LabelValues,
  type MetricOptions,
  type MetricSnapshot,
} from './metric-types.js'

export class Counter<L extends string = never> {
  readonly name: string
  readonly help: string
  readonly #sets: LabelSets<{ value: number }>

  constructor(options: MetricOptions<L>) {
    checkMetricOptions(options)
    this.name = options.name
    this.help = options.help
    this.#sets = new LabelSets(
      options.name,
      options.labelNames ?? [],
      options.maxSeries ?? DEFAULT_MAX_SERIES,
      () => ({ value: 0 }),
    )
  }

  /**
   * Adds `by` (default 1) to the series of `labels`; `inc(labels, 0)` creates the series at 0 so it
   * is exported before its first event. Throws a RangeError when `by` is negative or not finite.
   */
  inc(labels: LabelValues<L>, by = 1): void {
    if (!(by >= 0 && Number.isFinite(by)))
      throw new RangeError(`${this.name}: increment ${by}, want a finite number >= 0`)
    this.#sets.get(labels).value += by
  }

  snapshot(): MetricSnapshot {
    return {
      name: this.name,
      help: this.help,
      type: 'counter',
      series: this.#sets.entries().map(({ labels, state }) => ({ labels, value: state.value })),
    }
  }
}
