/**
 * @module store/sqlite/blocks/rollup-cells
 * A statistics query's counts over block rollups, without intervals, on the rollups' global ids
 * (RollupValues) in dense typed arrays: a count per cell (the group's first and second field) and
 * a mark per (cell, distinct value). A block's traces then cost a few array reads and writes each
 * instead of map and set operations per trace (users with distinct operations over a large
 * project's day: ~250 k traces). The cells are handed to the query's IdTally (`flush`) at the end,
 * or before the arrays grow when a rollup brought a value beyond them. Too many cells or marks for
 * the arrays (fields with many values): `create` or `ready` say no, and the caller counts those
 * rollups the general way (block-statistics' countRollup). Pure.
 */
import { ROLLUP_COLUMNS, rollupMatch, type BlockRollup, type RollupValues } from './block-rollup.js'
import { IdTally } from './id-tally.js'
import type { RollupSearch } from './rollup-search.js'

/** Cells (count array entries) and marks (bytes) the arrays may hold. */
const MAX_CELLS = 1 << 20
const MAX_MARKS = 1 << 22

/** The rollups' global ids of the group's fields and the distinct field to the query's ids. */
export interface QueryIds {
  readonly a: (id: number) => number
  readonly b: (id: number) => number
  readonly d: (id: number) => number
}

/** The fields as rollup filter columns (ROLLUP_FILTER_COLUMNS indexes; past the grouped ones: per trace). */
export interface RollupFields {
  readonly group: readonly number[]
  readonly distinct: number | null
}

export class RollupCells {
  readonly #fields: RollupFields
  #na = 1
  #nb = 1
  #nd = 1
  #counts = new Float64Array(1)
  #marks: Uint8Array | undefined
  #touched = new Int32Array(16)
  #touchedCount = 0

  private constructor(fields: RollupFields) {
    this.#fields = fields
  }

  /** Arrays sized for `values` now; undefined when they would be too large. */
  static create(values: RollupValues, fields: RollupFields): RollupCells | undefined {
    const cells = new RollupCells(fields)
    return cells.#resize(values) ? cells : undefined
  }

  /**
   * Whether the arrays hold every id `values` has now (a rollup is built before it is counted,
   * and may have added values): if not, the cells so far go to `tally` and the arrays grow; false
   * when they would be too large.
   */
  ready(values: RollupValues, tally: IdTally, ids: QueryIds): boolean {
    const { group, distinct } = this.#fields
    const [a, b] = group
    if (
      size(values, a) <= this.#na &&
      size(values, b) <= this.#nb &&
      size(values, distinct ?? undefined) <= this.#nd
    )
      return true
    this.flush(tally, ids)
    return this.#resize(values)
  }

  /**
   * Counts a rollup's traces that pass `checks` (rollupChecks) and `search`; the rollup holds
   * every column they and the fields read (rollupHolds).
   */
  add(rollup: BlockRollup, checks: readonly [number, number][], search?: RollupSearch): void {
    const width = ROLLUP_COLUMNS.length
    const ids = rollup.ids
    const { rowOk, perTrace, traceTest } = rollupMatch(rollup, checks, search)
    const { group, distinct } = this.#fields
    const fa = group[0] ?? -1
    const fb = group[1] ?? -1
    const fd = distinct ?? -1
    // A field is a row's column (0 … width-1), a per-trace one (width …: its ids by position),
    // or absent (-1).
    const none = new Uint8Array(0)
    const ownA = fa >= width ? (rollup.positional[fa - width] ?? none) : none
    const ownB = fb >= width ? (rollup.positional[fb - width] ?? none) : none
    const ownD = fd >= width ? (rollup.positional[fd - width] ?? none) : none
    const traceWise =
      perTrace.length > 0 || traceTest !== null || fa >= width || fb >= width || fd >= width
    const nb = this.#nb
    const nd = this.#nd
    const counts = this.#counts
    const marks = this.#marks
    if (!traceWise) {
      for (let r = 0; r < rollup.rows; r++) {
        if (rowOk[r] === 0) continue
        const a = fa < 0 ? 0 : (ids[r * width + fa] ?? 0)
        const b = fb < 0 ? 0 : (ids[r * width + fb] ?? 0)
        const cell = a * nb + b
        this.#count(cell, rollup.count[r] ?? 0)
        if (marks !== undefined) marks[cell * nd + (ids[r * width + fd] ?? 0)] = 1
      }
      return
    }
    const rowOf = rollup.rowOf
    traces: for (let p = 0; p < rowOf.length; p++) {
      const r = rowOf[p] ?? 0
      if (rowOk[r] === 0) continue
      for (const [column, id] of perTrace) if (column?.[p] !== id) continue traces
      if (traceTest !== null && !traceTest(r, p)) continue
      const a = fa < 0 ? 0 : fa < width ? (ids[r * width + fa] ?? 0) : (ownA[p] ?? 0)
      const b = fb < 0 ? 0 : fb < width ? (ids[r * width + fb] ?? 0) : (ownB[p] ?? 0)
      const cell = a * nb + b
      if (counts[cell] === 0) this.#touch(cell)
      counts[cell] = (counts[cell] ?? 0) + 1
      if (marks !== undefined)
        marks[cell * nd + (fd < width ? (ids[r * width + fd] ?? 0) : (ownD[p] ?? 0))] = 1
    }
  }

  /** Adds the cells counted so far to `tally` (query ids) and clears them. */
  flush(tally: IdTally, ids: QueryIds): void {
    const nb = this.#nb
    const nd = this.#nd
    const counts = this.#counts
    const marks = this.#marks
    for (let k = 0; k < this.#touchedCount; k++) {
      const cell = this.#touched[k] ?? 0
      const group = IdTally.key(ids.a(Math.floor(cell / nb)), ids.b(cell % nb))
      tally.count(group, counts[cell] ?? 0)
      counts[cell] = 0
      if (marks === undefined) continue
      for (let d = 1; d < nd; d++) {
        if (marks[cell * nd + d] === 0) continue
        marks[cell * nd + d] = 0
        tally.distinct(group, ids.d(d))
      }
      marks[cell * nd] = 0
    }
    this.#touchedCount = 0
  }

  #count(cell: number, n: number): void {
    if (n <= 0) return
    if (this.#counts[cell] === 0) this.#touch(cell)
    this.#counts[cell] = (this.#counts[cell] ?? 0) + n
  }

  #touch(cell: number): void {
    if (this.#touchedCount === this.#touched.length) {
      const grown = new Int32Array(this.#touched.length * 2)
      grown.set(this.#touched)
      this.#touched = grown
    }
    this.#touched[this.#touchedCount++] = cell
  }

  /** Arrays for the ids `values` has now, with room to grow; false when too large. */
  #resize(values: RollupValues): boolean {
    const { group, distinct } = this.#fields
    const room = (n: number): number => (n <= 1 ? 1 : n * 2 + 16)
    const na = room(size(values, group[0]))
    const nb = room(size(values, group[1]))
    const nd = distinct === null ? 1 : room(size(values, distinct))
    if (na * nb > MAX_CELLS || (distinct !== null && na * nb * nd > MAX_MARKS)) return false
    this.#na = na
    this.#nb = nb
    this.#nd = nd
    this.#counts = new Float64Array(na * nb)
    this.#marks = distinct === null ? undefined : new Uint8Array(na * nb * nd)
    return true
  }
}

/** Ids of a field's column are below this (1 for an absent field: id 0 only). */
function size(values: RollupValues, column: number | undefined): number {
  return column === undefined ? 1 : values.size(column) + 1
}
