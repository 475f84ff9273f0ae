/**
 * @module metrics/label-sets
 * The series of one metric, by label set, with bounded cardinality: at most `maxSeries` distinct
 * label sets are kept; every further label set is folded into the single series
 * `{overflow="true"}` (OVERFLOW_LABELS), so memory and scrape size stay bounded whatever values
 * callers pass, and the overflow series' value shows how much was folded. Pure.
 */
import { OVERFLOW_LABELS, type LabelPairs } from './metric-types.js'

export interface LabelSet<T> {
  readonly labels: LabelPairs
  readonly state: T
}

/**
 * The label values in `names` order. Throws a TypeError when a label is missing, unknown or not a
 * string (a programming error of the caller).
 */
export function toLabelPairs(
  metric: string,
  names: readonly string[],
  values: Readonly<Record<string, unknown>>,
): LabelPairs {
  const pairs = names.map((name) => {
    const value = values[name]
    if (typeof value !== 'string')
      throw new TypeError(`${metric}: label ${name} is ${typeof value}, want a string`)
    return [name, value] as const
  })
  if (Object.keys(values).length !== pairs.length)
    throw new TypeError(
      `${metric}: labels ${Object.keys(values).join(',')}, want ${names.join(',')}`,
    )
  return pairs
}

/** A key equal for equal label values (of one metric), whatever characters they hold. */
export function labelKey(pairs: LabelPairs): string {
  return JSON.stringify(pairs.map(([, value]) => value))
}

export class LabelSets<T> {
  readonly #metric: string
  readonly #names: readonly string[]
  readonly #maxSeries: number
  readonly #create: () => T
  readonly #sets = new Map<string, LabelSet<T>>()
  #overflow: LabelSet<T> | undefined

  constructor(metric: string, names: readonly string[], maxSeries: number, create: () => T) {
    this.#metric = metric
    this.#names = names
    this.#maxSeries = maxSeries
    this.#create = create
  }

  /**
   * The state of the series with these label values (created on first use), or of the overflow
   * series once `maxSeries` label sets exist. Throws a TypeError when a label is missing, unknown or
   * not a string.
   */
  get(values: Readonly<Record<string, unknown>>): T {
    const pairs = toLabelPairs(this.#metric, this.#names, values)
    const key = labelKey(pairs)
    const found = this.#sets.get(key)
    if (found !== undefined) return found.state
    if (this.#sets.size >= this.#maxSeries) {
      this.#overflow ??= { labels: OVERFLOW_LABELS, state: this.#create() }
      return this.#overflow.state
    }
    const created = { labels: pairs, state: this.#create() }
    this.#sets.set(key, created)
    return created.state
  }

  /** Every series, the overflow one last when present (the renderer sorts). */
  entries(): LabelSet<T>[] {
    const all = [...this.#sets.values()]
    if (this.#overflow !== undefined) all.push(this.#overflow)
    return all
  }
}
