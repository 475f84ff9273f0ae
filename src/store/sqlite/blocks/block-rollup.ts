/**
 * @module store/sqlite/blocks/block-rollup
 * A block's activity rollup: its traces grouped by hour and the low-cardinality columns activity
 * charts filter on, with each trace's row, user and code kept by position (see block-activity). Made
 * from a block's dims, kept in memory by the reader. Activity counts whole blocks from it; pages
 * of a filter on its columns take a block's matches from a cached one (a block without any is
 * skipped) without decoding the block's dims.
 */
import { extraColumn, type BlockDims, type DictColumn } from './block-codec.js'
import type { CompiledFilter } from './block-query.js'
import type { RollupSearch } from './rollup-search.js'

export const HOUR_MS = 3_600_000

/** The columns a rollup groups by (a filter on a column not here nor in POSITION_COLUMNS counts trace by trace). */
export const ROLLUP_COLUMNS = [
  'category',
  'tracker_name',
  'service_type',
  'resource_type',
  'trace_name',
  'trace_rating',
] as const
/**
 * The columns a rollup keeps per trace (a filter on them counts the rows of matching traces):
 * users have too many values to group by, codes would multiply the rows (a byte a trace instead).
 */
export const POSITION_COLUMNS = ['user_name', 'code'] as const
/** The columns a rollup query may filter on: grouped ones first, then per-trace ones. */
export const ROLLUP_FILTER_COLUMNS: readonly string[] = [...ROLLUP_COLUMNS, ...POSITION_COLUMNS]

/**
 * Process-wide ids of the rollup columns' values, so that rollups share one copy of each string
 * and a filter value is looked up once per query, not once per block. Bounded: past
 * MAX_GLOBAL_VALUES values in a column, new blocks get no rollup (they are counted trace by trace).
 */
export class RollupValues {
  readonly #ids = ROLLUP_FILTER_COLUMNS.map(() => new Map<string, number>())
  readonly #values = ROLLUP_FILTER_COLUMNS.map((): string[] => [])

  /** The id of a value (null is 0), or -1 when no rollup holds it. */
  idOf(column: number, value: string): number {
    return this.#ids[column]?.get(value) ?? -1
  }

  value(column: number, id: number): string {
    return this.#values[column]?.[id - 1] ?? ''
  }

  /** How many values the column has ids for (ids 1 … size). */
  size(column: number): number {
    return this.#values[column]?.length ?? 0
  }

  /** Global ids of a block dictionary (index 0, null, stays 0); undefined when full. */
  intern(column: number, dict: readonly (string | null)[]): Uint32Array | undefined {
    const ids = this.#ids[column] as Map<string, number>
    const values = this.#values[column] as string[]
    const out = new Uint32Array(dict.length)
    for (let i = 1; i < dict.length; i++) {
      const value = dict[i] ?? ''
      let id = ids.get(value)
      if (id === undefined) {
        if (values.length >= MAX_GLOBAL_VALUES) return undefined
        values.push(value)
        ids.set(value, (id = values.length))
      }
      out[i] = id
    }
    return out
  }
}

/** The rating index of counts arrays: normal 0, warning 1, incident 2. */
export function ratingIndex(rating: string | null | undefined): number {
  return rating === 'warning' ? 1 : rating === 'incident' ? 2 : 0
}

/** Distinct values per rollup column the process keeps ids for. */
const MAX_GLOBAL_VALUES = 1_000_000

/**
 * A block's traces grouped by (hour, the rollup columns): row r counts `count[r]` traces of hour
 * `firstHour + hour[r]` whose values have the global ids `ids[r * width ..]`.
 */
export interface BlockRollup {
  readonly rows: number
  /** Start of the block's first hour (ms since the epoch). */
  readonly firstHour: number
  readonly hour: Uint16Array
  /** Global ids (RollupValues) of the row's values, ROLLUP_COLUMNS.length per row. */
  readonly ids: Uint16Array | Uint32Array
  readonly count: Uint16Array | Uint32Array
  /** The row of each trace (by position). */
  readonly rowOf: Uint16Array | Uint32Array
  /**
   * Per POSITION_COLUMNS column, the global id of each trace's value (by position); undefined when
   * the block does not keep the column (`code` of a block written before its dims kept codes).
   */
  readonly positional: readonly (PositionIds | undefined)[]
  /** Memory held, bytes. */
  readonly bytes: number
}

/** Global ids of a per-trace column, by position. */
export type PositionIds = Uint8Array | Uint16Array | Uint32Array

/** The dims' column of a POSITION_COLUMNS entry, or null when the block does not keep it. */
function positionColumn(
  dims: BlockDims,
  name: (typeof POSITION_COLUMNS)[number],
): DictColumn | null {
  return name === 'code' ? extraColumn(dims, 'code') : dims.columns[name]
}

/** Whether a rollup keeps every per-trace column of `columns` (ROLLUP_FILTER_COLUMNS indexes). */
export function rollupHolds(rollup: BlockRollup, columns: readonly number[]): boolean {
  const width = ROLLUP_COLUMNS.length
  return columns.every((c) => c < width || rollup.positional[c - width] !== undefined)
}

/** Groups a block's traces by hour and the rollup columns; undefined when `values` is full. */
export function buildRollup(dims: BlockDims, values: RollupValues): BlockRollup | undefined {
  const columns = ROLLUP_COLUMNS.map((c) => dims.columns[c])
  const globals: Uint32Array[] = []
  for (const [k, column] of columns.entries()) {
    const ids = values.intern(k, column.dict)
    if (ids === undefined) return undefined
    globals.push(ids)
  }
  const positional: (PositionIds | undefined)[] = []
  for (const [k, name] of POSITION_COLUMNS.entries()) {
    const column = positionColumn(dims, name)
    if (column === null) {
      positional.push(undefined)
      continue
    }
    const ids = values.intern(ROLLUP_COLUMNS.length + k, column.dict)
    if (ids === undefined) return undefined
    const max = ids.reduce((a, b) => Math.max(a, b), 0)
    const out =
      max < 0x100
        ? new Uint8Array(dims.count)
        : max < 0x10000
          ? new Uint16Array(dims.count)
          : new Uint32Array(dims.count)
    for (let p = 0; p < dims.count; p++) out[p] = ids[column.ids[p] ?? 0] ?? 0
    positional.push(out)
  }
  let firstHour = Infinity
  let lastHour = -Infinity
  for (let p = 0; p < dims.count; p++) {
    const h = Math.floor((dims.times[p] ?? 0) / HOUR_MS)
    if (h < firstHour) firstHour = h
    if (h > lastHour) lastHour = h
  }
  if (lastHour - firstHour >= 1 << 16) return undefined
  // A numeric key per position (mixed radix over the block's dictionary sizes) when it fits.
  let radix = lastHour - firstHour + 1
  for (const column of columns) radix *= column.dict.length
  const numeric = radix < 2 ** 52
  const index = new Map<number | string, number>()
  const rowOf = new Uint32Array(dims.count)
  const hour: number[] = []
  const ids: number[] = []
  const count: number[] = []
  for (let p = 0; p < dims.count; p++) {
    const h = Math.floor((dims.times[p] ?? 0) / HOUR_MS) - firstHour
    let key: number | string
    if (numeric) {
      let n = h
      for (const column of columns) n = n * column.dict.length + (column.ids[p] ?? 0)
      key = n
    } else {
      let text = String(h)
      for (const column of columns) text += `,${column.ids[p] ?? 0}`
      key = text
    }
    const row = index.get(key)
    if (row !== undefined) {
      count[row] = (count[row] ?? 0) + 1
      rowOf[p] = row
      continue
    }
    rowOf[p] = hour.length
    index.set(key, hour.length)
    hour.push(h)
    for (const [k, column] of columns.entries()) ids.push(globals[k]?.[column.ids[p] ?? 0] ?? 0)
    count.push(1)
  }
  const rows = hour.length
  const narrow = (list: number[]): Uint16Array | Uint32Array =>
    list.every((v) => v < 0x10000) ? Uint16Array.from(list) : Uint32Array.from(list)
  const rollupIds = narrow(ids)
  const counts = narrow(count)
  const rowsOf = rows <= 0x10000 ? Uint16Array.from(rowOf) : rowOf
  let bytes = 200 + 2 * rows + rollupIds.byteLength + counts.byteLength + rowsOf.byteLength
  for (const column of positional) bytes += column?.byteLength ?? 0
  return {
    rows,
    firstHour: firstHour * HOUR_MS,
    hour: Uint16Array.from(hour),
    ids: rollupIds,
    count: counts,
    rowOf: rowsOf,
    positional,
    bytes,
  }
}

/** A filter's tests as (rollup column, global id); null when no rollup holds one of its values. */
export function rollupChecks(
  compiled: CompiledFilter,
  values: RollupValues,
): [number, number][] | null {
  const checks: [number, number][] = []
  for (const [column, value] of compiled.tests) {
    const at = ROLLUP_FILTER_COLUMNS.indexOf(column)
    const id = values.idOf(at, value)
    if (id < 0) return null
    checks.push([at, id])
  }
  return checks
}

/**
 * What `checks` (rollupChecks) and a search over rollups ask of a rollup (which holds the
 * search's columns): the rows whose grouped values pass (1 each), the per-trace checks
 * (POSITION_COLUMNS) as the rollup's column of each and the id it must hold, and the search's
 * test of row r's trace at position p when it reads per-trace columns.
 */
export function rollupMatch(
  rollup: BlockRollup,
  checks: readonly [number, number][],
  search?: RollupSearch,
): {
  readonly rowOk: Uint8Array
  readonly perTrace: readonly (readonly [PositionIds | undefined, number])[]
  readonly traceTest: ((r: number, p: number) => boolean) | null
} {
  const width = ROLLUP_COLUMNS.length
  const ids = rollup.ids
  const rowOk = new Uint8Array(rollup.rows)
  rows: for (let r = 0; r < rollup.rows; r++) {
    for (const [c, id] of checks) if (c < width && ids[r * width + c] !== id) continue rows
    rowOk[r] = 1
  }
  const traceTest = search?.apply(rollup, rowOk) ?? null
  return { rowOk, perTrace: perTraceChecks(rollup, checks), traceTest }
}

/** The rows of a rollup whose grouped values pass `checks` (1), or null when none does. */
function matchingRows(rollup: BlockRollup, checks: readonly [number, number][]): Uint8Array | null {
  const width = ROLLUP_COLUMNS.length
  const ids = rollup.ids
  const rows = new Uint8Array(rollup.rows)
  let any = false
  rows: for (let r = 0; r < rollup.rows; r++) {
    const base = r * width
    for (const [at, id] of checks) if (at < width && ids[base + at] !== id) continue rows
    rows[r] = 1
    any = true
  }
  return any ? rows : null
}

/** The per-trace checks (POSITION_COLUMNS) of `checks`, with the rollup's column of each. */
function perTraceChecks(
  rollup: BlockRollup,
  checks: readonly [number, number][],
): (readonly [PositionIds | undefined, number])[] {
  const width = ROLLUP_COLUMNS.length
  return checks
    .filter(([at]) => at >= width)
    .map(([at, id]) => [rollup.positional[at - width], id] as const)
}

/**
 * The positions of a block's traces that pass `checks` (rollupChecks of a filter on rollup columns;
 * null: a value no rollup holds, so none of this block's traces has it), ascending; undefined when
 * more than `max` do (a page then walks the block's dims, which stops at its need).
 */
export function rollupPositions(
  rollup: BlockRollup,
  checks: readonly [number, number][] | null,
  max: number,
): Uint16Array | undefined {
  if (checks === null) return new Uint16Array(0)
  const rows = matchingRows(rollup, checks)
  if (rows === null) return new Uint16Array(0)
  const perTrace = perTraceChecks(rollup, checks)
  const rowOf = rollup.rowOf
  const out: number[] = []
  const [first, ...rest] = perTrace
  if (first === undefined) {
    for (let p = 0; p < rowOf.length; p++) {
      if (rows[rowOf[p] ?? 0] === 0) continue
      if (out.length === max) return undefined
      out.push(p)
    }
    return Uint16Array.from(out)
  }
  // Pages walk every block of a rare combination's tenant: the traces of the per-trace value are
  // found with the typed array's own indexOf (native), then checked against the rest.
  const [column, id] = first
  if (column === undefined) return new Uint16Array(0)
  traces: for (let p = column.indexOf(id); p >= 0; p = column.indexOf(id, p + 1)) {
    if (rows[rowOf[p] ?? 0] === 0) continue
    for (const [other, value] of rest) if (other?.[p] !== value) continue traces
    if (out.length === max) return undefined
    out.push(p)
  }
  return Uint16Array.from(out)
}
