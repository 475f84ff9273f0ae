/**
 * @module metrics/registry
 * Creates metrics under unique names and collects them for a scrape. Collection first awaits every
 * gauge callback (concurrently), then snapshots counters and histograms, so what a callback failure
 * counts is in the same scrape. A callback that fails is reported to `onCollectError` and its gauge
 * exported without samples (`# HELP`/`# TYPE` only): one broken source never fails the whole scrape.
 */
import { Counter } from './counter.js'
import { Gauge, type GaugeOptions } from './gauge.js'
import { Histogram, type HistogramOptions } from './histogram.js'
import { DEFAULT_MAX_SERIES, type MetricOptions, type MetricSnapshot } from './metric-types.js'

export interface RegistryOptions {
  /** Default `maxSeries` of the registry's metrics (DEFAULT_MAX_SERIES). */
  readonly maxSeries?: number
  /** Called with the gauge name when its callback fails during `collect`. */
  readonly onCollectError?: (metric: string, error: unknown) => void
}

type Metric = Counter<string> | Histogram<string> | Gauge<string>

function empty(gauge: Gauge<string>): MetricSnapshot {
  return { name: gauge.name, help: gauge.help, type: 'gauge', series: [] }
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>()
  readonly #maxSeries: number
  readonly #onCollectError: (metric: string, error: unknown) => void

  constructor(options: RegistryOptions = {}) {
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES
    this.#onCollectError = options.onCollectError ?? (() => undefined)
  }

  /** Throws a TypeError on an invalid or already registered name. */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.#add(new Counter<L>({ maxSeries: this.#maxSeries, ...options }))
  }

  /** Throws a TypeError on an invalid or already registered name, or invalid buckets. */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.#add(new Histogram<L>({ maxSeries: this.#maxSeries, ...options }))
  }

  /** Throws a TypeError on an invalid or already registered name. */
  gauge<L extends string = never>(options: GaugeOptions<L>): Gauge<L> {
    return this.#add(new Gauge<L>({ maxSeries: this.#maxSeries, ...options }))
  }

  /** Every metric as of now, in registration order (the renderer sorts). */
  async collect(): Promise<MetricSnapshot[]> {
    const metrics = [...this.#metrics.values()]
    const gauges = new Map(
      await Promise.all(
        metrics
          .filter((metric) => metric instanceof Gauge)
          .map(async (gauge) => [gauge, await this.#read(gauge)] as const),
      ),
    )
    return metrics.map((metric) =>
      metric instanceof Gauge ? (gauges.get(metric) ?? empty(metric)) : metric.snapshot(),
    )
  }

  async #read(gauge: Gauge<string>): Promise<MetricSnapshot> {
    try {
      return await gauge.snapshot()
    } catch (error) {
      this.#onCollectError(gauge.name, error)
      return empty(gauge)
    }
  }

  #add<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name))
      throw new TypeError(`metric ${metric.name} is registered twice`)
    this.#metrics.set(metric.name, metric)
    return metric
  }
}
