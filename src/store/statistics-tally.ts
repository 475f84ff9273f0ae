/**
 * @module store/statistics-tally
 * Engine-neutral: the groups of a statistics query (TraceStore.statistics) as an engine finds them —
 * counts by group, distinct value and interval — folded into the `top` groups and the rest. The
 * cells it keeps are bounded (STATISTICS_MAX_CELLS): past that the query is refused with a 400 that
 * says how to narrow it, so that no grouping can take the process's memory.
 */
import { ctsError } from '../errors/index.js'
import type { StatisticsCounts, StatisticsSpec, TraceStatistics } from './store.js'

/** Combinations of group, distinct value and interval one statistics query may count. */
export const STATISTICS_MAX_CELLS = 200_000

/** The 400 of a statistics query past `maxCells` cells. */
export function statisticsBoundError(maxCells: number): Error {
  return ctsError(
    'OCTS_ERR_QUERY',
    `Query failed: the statistics would count more than ${maxCells} combinations of group, distinct value and interval; narrow from/to, add a filter, group by fewer or coarser fields or use a longer interval`,
  )
}

interface Group {
  readonly values: readonly (string | null)[]
  count: number
  readonly distinct: Set<string> | null
  readonly buckets: Map<number, number> | null
}

/** A group's key: its values, null told apart from every string. */
function keyOf(values: readonly (string | null)[]): string {
  let key = ''
  for (const v of values) key += v === null ? '\u0001' : `\u0002${v}`
  return key
}

const cmpValue = (x: string | null, y: string | null): number =>
  x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1

/** Larger counts first, then by values (null last): the order groups are shown in. */
function compareGroups(x: Group, y: Group): number {
  if (y.count !== x.count) return y.count - x.count
  for (let i = 0; i < x.values.length; i++) {
    const c = cmpValue(x.values[i] ?? null, y.values[i] ?? null)
    if (c !== 0) return c
  }
  return 0
}

/**
 * The first `n` of `items` in `compare`'s order, sorted: a heap of the `n` best so far (its root
 * the worst of them), so that thousands of groups (source IPs) are not all sorted for a top 10.
 */
export function top<T>(items: readonly T[], n: number, compare: (a: T, b: T) => number): T[] {
  if (items.length <= n) return [...items].sort(compare)
  const heap: T[] = []
  const worse = (i: number, j: number): boolean => compare(heap[i] as T, heap[j] as T) > 0
  const swap = (i: number, j: number): void => {
    const t = heap[i] as T
    heap[i] = heap[j] as T
    heap[j] = t
  }
  const down = (from: number): void => {
    for (let i = from; ;) {
      const l = 2 * i + 1
      const r = l + 1
      let w = i
      if (l < heap.length && worse(l, w)) w = l
      if (r < heap.length && worse(r, w)) w = r
      if (w === i) return
      swap(i, w)
      i = w
    }
  }
  for (const item of items) {
    if (heap.length < n) {
      heap.push(item)
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1
        if (!worse(i, parent)) break
        swap(i, parent)
        i = parent
      }
    } else if (n > 0 && compare(item, heap[0] as T) < 0) {
      heap[0] = item
      down(0)
    }
  }
  return heap.sort(compare)
}

export class StatisticsTally {
  readonly #spec: StatisticsSpec
  readonly #maxCells: number
  readonly #groups = new Map<string, Group>()
  #cells = 0
  #total = 0

  constructor(spec: StatisticsSpec, maxCells = STATISTICS_MAX_CELLS) {
    this.#spec = spec
    this.#maxCells = maxCells
  }

  #group(values: readonly (string | null)[]): Group {
    const key = keyOf(values)
    let group = this.#groups.get(key)
    if (group === undefined) {
      group = {
        values: [...values],
        count: 0,
        distinct: this.#spec.distinct === null ? null : new Set(),
        buckets: this.#spec.buckets === null ? null : new Map(),
      }
      this.#groups.set(key, group)
      this.#cell()
    }
    return group
  }

  /** Counts `n` traces of a group (`values` in groupBy order). */
  count(values: readonly (string | null)[], n: number): void {
    if (n <= 0) return
    this.#group(values).count += n
    this.#total += n
  }

  /** A group holds a trace with this value of the distinct field (a null value is not counted). */
  distinct(values: readonly (string | null)[], value: string | null): void {
    const set = this.#group(values).distinct
    if (set === null || value === null || set.has(value)) return
    set.add(value)
    this.#cell()
  }

  /** A group has `n` traces in interval `index`. */
  bucket(values: readonly (string | null)[], index: number, n: number): void {
    const buckets = this.#group(values).buckets
    if (buckets === null || n <= 0) return
    const before = buckets.get(index)
    if (before === undefined) this.#cell()
    buckets.set(index, (before ?? 0) + n)
  }

  /** `count`, `distinct` and `bucket` at once. */
  add(values: readonly (string | null)[], distinct: string | null, index: number, n: number): void {
    this.count(values, n)
    this.distinct(values, distinct)
    this.bucket(values, index, n)
  }

  #cell(): void {
    if (++this.#cells > this.#maxCells) throw statisticsBoundError(this.#maxCells)
  }

  result(): TraceStatistics {
    const all = [...this.#groups.values()]
    const shown = top(all, this.#spec.top, compareGroups)
    const kept = new Set(shown)
    const rest = all.filter((g) => !kept.has(g))
    if (shown.length === 0 && this.#spec.groupBy.length === 0)
      shown.push({
        values: [],
        count: 0,
        distinct: this.#spec.distinct === null ? null : new Set(),
        buckets: this.#spec.buckets === null ? null : new Map(),
      })
    let other: TraceStatistics['other'] = null
    if (rest.length > 0) {
      const distinct = this.#spec.distinct === null ? null : new Set<string>()
      const buckets = this.#spec.buckets === null ? null : new Map<number, number>()
      let count = 0
      for (const g of rest) {
        count += g.count
        for (const v of g.distinct ?? []) distinct?.add(v)
        for (const [b, n] of g.buckets ?? []) buckets?.set(b, (buckets.get(b) ?? 0) + n)
      }
      other = { ...counts({ count, distinct, buckets }), groups: rest.length }
    }
    return {
      total: this.#total,
      groups: shown.map((g) => ({ values: g.values, ...counts(g) })),
      other,
    }
  }
}

function counts(g: {
  count: number
  distinct: Set<string> | null
  buckets: Map<number, number> | null
}): StatisticsCounts {
  return {
    count: g.count,
    distinct: g.distinct === null ? null : g.distinct.size,
    buckets:
      g.buckets === null
        ? null
        : [...g.buckets].sort((x, y) => x[0] - y[0]).map(([index, count]) => ({ index, count })),
  }
}
