/**
 * @module store/sqlite/blocks/id-tally
 * A statistics query's counts across blocks on numbers: each field's values are interned once per
 * query (id 0 is null), a group is the pair of its fields' ids, and the distinct values and
 * intervals hang off it. Blocks (their dictionary ids or the rollups' global ids) add to it by
 * number; `into` resolves each group to strings once, at the end, for the engine-neutral tally.
 * Before, every block handed each of its groups to the tally as strings, which cost more than the
 * counting (a day of a large project: hundreds of blocks × their groups). It keeps the tally's
 * bound: the same cells, counted as they appear. Pure.
 */
import type { StatisticsSpec } from '../../ports/traces.js'
import {
  STATISTICS_MAX_CELLS,
  statisticsBoundError,
  type StatisticsTally,
} from '../../statistics-tally.js'

/** Ids per field stay below this (the cells are fewer): two fit a number. */
const ID_SPAN = 2 ** 21

/** One field's values of one query, by id; 0 is null. */
export class Interner {
  readonly values: (string | null)[] = [null]
  readonly #ids = new Map<string, number>()

  id(value: string | null): number {
    if (value === null) return 0
    let id = this.#ids.get(value)
    if (id === undefined) {
      id = this.values.length
      this.values.push(value)
      this.#ids.set(value, id)
    }
    return id
  }

  /** Maps another id space (a block's dictionary, the rollups' ids) to this one, each id once. */
  through(valueOf: (id: number) => string | null): (id: number) => number {
    const seen = new Map<number, number>()
    return (id) => {
      let own = seen.get(id)
      if (own === undefined) seen.set(id, (own = this.id(valueOf(id))))
      return own
    }
  }
}

export class IdTally {
  /** The group's first and second field, and the distinct field. */
  readonly fields = [new Interner(), new Interner(), new Interner()] as const
  readonly #spec: StatisticsSpec
  readonly #maxCells: number
  readonly #counts = new Map<number, number>()
  readonly #distinct = new Map<number, Set<number>>()
  readonly #buckets = new Map<number, Map<number, number>>()
  #cells = 0

  constructor(spec: StatisticsSpec, maxCells = STATISTICS_MAX_CELLS) {
    if (maxCells >= ID_SPAN - 2) throw new RangeError(`maxCells must be below ${ID_SPAN - 2}`)
    this.#spec = spec
    this.#maxCells = maxCells
  }

  /** The group of the fields' ids (0 for a field not grouped by). */
  static key(a: number, b: number): number {
    return a * ID_SPAN + b
  }

  count(group: number, n: number): void {
    if (n <= 0) return
    const before = this.#counts.get(group)
    if (before === undefined) this.#cell()
    this.#counts.set(group, (before ?? 0) + n)
  }

  /** The group holds a trace whose distinct field has value id `value` (0, null, is not counted). */
  distinct(group: number, value: number): void {
    if (value === 0) return
    let set = this.#distinct.get(group)
    if (set === undefined) this.#distinct.set(group, (set = new Set<number>()))
    if (set.has(value)) return
    set.add(value)
    this.#cell()
  }

  bucket(group: number, index: number, n: number): void {
    if (n <= 0) return
    let map = this.#buckets.get(group)
    if (map === undefined) this.#buckets.set(group, (map = new Map<number, number>()))
    const before = map.get(index)
    if (before === undefined) this.#cell()
    map.set(index, (before ?? 0) + n)
  }

  #cell(): void {
    if (++this.#cells > this.#maxCells) throw statisticsBoundError(this.#maxCells)
  }

  /** Adds every group, resolved to its values, to `tally`. */
  into(tally: StatisticsTally): void {
    const [a, b, d] = this.fields
    const width = this.#spec.groupBy.length
    for (const [group, n] of this.#counts) {
      const values: (string | null)[] = []
      if (width > 0) values.push(a.values[Math.floor(group / ID_SPAN)] ?? null)
      if (width > 1) values.push(b.values[group % ID_SPAN] ?? null)
      tally.count(values, n)
      for (const value of this.#distinct.get(group) ?? [])
        tally.distinct(values, d.values[value] ?? null)
      for (const [index, k] of this.#buckets.get(group) ?? []) tally.bucket(values, index, k)
    }
  }
}
