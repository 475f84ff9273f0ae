/**
 * @module metrics/metric-types
 * What a metric looks like at scrape time (its snapshot), the options every metric takes, and the
 * naming rules of the Prometheus data model. Pure.
 */

/** Label name → value of one series, in the metric's label order. */
export type LabelPairs = readonly (readonly [name: string, value: string])[]

/** The values of a metric's labels, one per label name. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>

/** One series of a counter or gauge. */
export interface ScalarSeries {
  readonly labels: LabelPairs
  readonly value: number
}

/** One series of a histogram; `buckets` are cumulative and ascending, `+Inf` excluded (= count). */
export interface HistogramSeries {
  readonly labels: LabelPairs
  readonly buckets: readonly { readonly le: number; readonly count: number }[]
  readonly sum: number
  readonly count: number
}

/** A metric as one scrape sees it. */
export type MetricSnapshot =
  | {
      readonly name: string
      readonly help: string
      readonly type: 'counter' | 'gauge'
      readonly series: readonly ScalarSeries[]
    }
  | {
      readonly name: string
      readonly help: string
      readonly type: 'histogram'
      readonly series: readonly HistogramSeries[]
    }

export interface MetricOptions<L extends string> {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`; counters by convention end in `_total`. */
  readonly name: string
  /** One line for `# HELP`. */
  readonly help: string
  /** `[a-zA-Z_][a-zA-Z0-9_]*`, not `__*`, not `overflow` (reserved), not `le` for histograms. */
  readonly labelNames?: readonly L[]
  /** Distinct label sets kept at most (default DEFAULT_MAX_SERIES); see LabelSets. */
  readonly maxSeries?: number
}

/** Distinct label sets per metric unless a metric says otherwise. */
export const DEFAULT_MAX_SERIES = 10_000

/** The label set that takes every label set beyond a metric's `maxSeries`. */
export const OVERFLOW_LABELS: LabelPairs = [['overflow', 'true']]

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * Throws a TypeError when the name, a label name or `maxSeries` breaks the rules above (a
 * programming error, caught when the metric is created, never at scrape time).
 */
export function checkMetricOptions(
  options: MetricOptions<string>,
  reserved: readonly string[] = [],
): void {
  const { name, labelNames = [], maxSeries = DEFAULT_MAX_SERIES } = options
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`)
  const seen = new Set<string>()
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__'))
      throw new TypeError(`${name}: invalid label name ${JSON.stringify(label)}`)
    if (label === 'overflow' || reserved.includes(label))
      throw new TypeError(`${name}: label name ${label} is reserved`)
    if (seen.has(label)) throw new TypeError(`${name}: label ${label} given twice`)
    seen.add(label)
  }
  if (!Number.isSafeInteger(maxSeries) || maxSeries < 1)
    throw new TypeError(`${name}: maxSeries is ${maxSeries}, want a positive integer`)
}
