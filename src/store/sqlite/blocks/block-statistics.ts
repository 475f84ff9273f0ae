/**
 * @module store/sqlite/blocks/block-statistics
 * Statistics over a project's blocks (see TraceStore.statistics). Each block whose time range meets
 * the window and whose bloom and dictionaries admit the filter is counted trace by trace on
 * dictionary ids: a group is the pair of its fields' ids in the block, counted into a typed array
 * (a Map when the pairs are too many), with the distinct values and the intervals as numeric keys;
 * a block's counts are then resolved to strings once per group and added to the engine-neutral
 * tally. `source_ip` and `code` are the dims' extra columns, or, for a block written before they
 * were kept, read from its documents. A block wholly inside the window is counted from its rollup
 * (block-rollup, kept in memory) when the query allows: fields, filter and search (rollup-search)
 * on the rollup's columns and per-trace user and code, hourly intervals — the dashboard's day or
 * week without decoding dims; without intervals, into dense cells on the rollups' ids
 * (rollup-cells) when they fit. A rollup without a per-trace column the query reads (`code` of an
 * older block) leaves its block to the trace-by-trace count. Source IPs (not in rollups) under a
 * filter and search the rollups decide are counted on the rollup's matches and the block's extra
 * columns alone (`BlockReader.extras`: the dims inflated, their other columns not decoded).
 */
import type { StatisticsSpec, TraceFilter, TraceStatistics } from '../../ports/traces.js'
import { StatisticsTally } from '../../statistics-tally.js'
import { dictSize, dictValue, type BlockDims, type DictColumn } from './block-codec.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { bloomMayContain } from './bloom.js'
import { compile, matcher } from './block-query.js'
import {
  HOUR_MS,
  ROLLUP_COLUMNS,
  ROLLUP_FILTER_COLUMNS,
  rollupChecks,
  rollupHolds,
  rollupMatch,
  type BlockRollup,
} from './block-rollup.js'
import type { BlockReader } from './block-reader.js'
import { blockColumn } from './block-search.js'
import { IdTally } from './id-tally.js'
import { RollupCells, type QueryIds, type RollupFields } from './rollup-cells.js'
import { RollupSearch } from './rollup-search.js'

const NO_COLUMN: DictColumn = { dict: [null], ids: new Uint8Array(0) }

/** Counts one block's matching traces into the query's tally. */
function countBlock(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
  match: (p: number) => boolean,
  filter: TraceFilter,
  spec: StatisticsSpec,
  tally: IdTally,
): void {
  const [a, b] = spec.groupBy.map((f) => blockColumn(reader, meta, dims, f))
  const d = spec.distinct === null ? undefined : blockColumn(reader, meta, dims, spec.distinct)
  countColumns(meta, dims.times, match, [a, b, d], filter, spec, tally)
}

/**
 * Counts a block's matching traces on its columns of the fields (`columns`: the group's, then the
 * distinct one). `times` null: every trace is inside the window (then the spec has no intervals).
 */
function countColumns(
  meta: BlockMeta,
  times: Float64Array | null,
  match: (p: number) => boolean,
  [a, b, d]: readonly (DictColumn | undefined)[],
  filter: TraceFilter,
  spec: StatisticsSpec,
  tally: IdTally,
): void {
  const colA = a ?? NO_COLUMN
  const colB = b ?? NO_COLUMN
  const widthB = dictSize(colB)
  const groups = dictSize(colA) * widthB
  const dense = groups <= 1 << 16 ? new Float64Array(groups) : undefined
  const sparse = dense === undefined ? new Map<number, number>() : undefined
  const distinct = d === undefined ? undefined : new Set<number>()
  const widthD = d === undefined ? 1 : dictSize(d)
  const buckets = spec.buckets === null ? undefined : new Map<number, number>()
  const { start, step } = spec.buckets ?? { start: 0, step: 1 }
  const first = Math.trunc((Math.max(meta.minTime, filter.from) - start) / step)
  const last = Math.trunc((Math.min(meta.maxTime, filter.to) - start) / step)
  const span = last - first + 1
  for (let p = 0; p < meta.count; p++) {
    const time = times === null ? filter.from + 1 : (times[p] ?? 0)
    if (time <= filter.from || time >= filter.to || !match(p)) continue
    const g =
      (a === undefined ? 0 : (colA.ids[p] ?? 0)) * widthB +
      (b === undefined ? 0 : (colB.ids[p] ?? 0))
    if (dense !== undefined) dense[g] = (dense[g] ?? 0) + 1
    else sparse?.set(g, (sparse.get(g) ?? 0) + 1)
    if (distinct !== undefined && d !== undefined) distinct.add(g * widthD + (d.ids[p] ?? 0))
    if (buckets !== undefined) {
      const k = g * span + (Math.trunc((time - start) / step) - first)
      buckets.set(k, (buckets.get(k) ?? 0) + 1)
    }
  }
  // The block's dictionary ids to the query's (each id once), then its groups to the query's.
  const [fieldA, fieldB, fieldD] = tally.fields
  const toA = fieldA.through((id) => dictValue(colA, id))
  const toB = fieldB.through((id) => dictValue(colB, id))
  const toD = fieldD.through((id) => (d === undefined ? null : dictValue(d, id)))
  const groupOf = (g: number): number => IdTally.key(toA(Math.floor(g / widthB)), toB(g % widthB))
  if (dense !== undefined) {
    for (let g = 0; g < dense.length; g++)
      if ((dense[g] ?? 0) > 0) tally.count(groupOf(g), dense[g] ?? 0)
  } else for (const [g, n] of sparse ?? []) tally.count(groupOf(g), n)
  for (const k of distinct ?? []) tally.distinct(groupOf(Math.floor(k / widthD)), toD(k % widthD))
  for (const [k, n] of buckets ?? [])
    tally.bucket(groupOf(Math.floor(k / span)), first + (k % span), n)
}

/** Global ids of at most 2^21 values per column (RollupValues keeps fewer): two fit a number. */
const ID_SPAN = 2 ** 21

/**
 * Counts a whole block from its rollup: groups, distinct values and hourly intervals on global ids
 * (rows of grouped columns, or per trace when a field or a check is the per-trace user).
 */
function countRollup(
  rollup: BlockRollup,
  checks: readonly [number, number][],
  search: RollupSearch | undefined,
  spec: StatisticsSpec,
  at: RollupFields,
  tally: IdTally,
  mapped: QueryIds,
): void {
  const width = ROLLUP_COLUMNS.length
  const ids = rollup.ids
  const { rowOk, perTrace, traceTest } = rollupMatch(rollup, checks, search)
  const fields = [...at.group, ...(at.distinct === null ? [] : [at.distinct])]
  const traceWise = perTrace.length > 0 || traceTest !== null || fields.some((c) => c >= width)
  // A field is a row's column or a per-trace one (POSITION_COLUMNS) read at the trace's position.
  const idOf = (c: number, r: number, p: number): number =>
    c < width ? (ids[r * width + c] ?? 0) : (rollup.positional[c - width]?.[p] ?? 0)
  const [ga, gb] = at.group
  const groupOf = (r: number, p: number): number =>
    (ga === undefined ? 0 : idOf(ga, r, p)) * ID_SPAN + (gb === undefined ? 0 : idOf(gb, r, p))
  const counts = new Map<number, number>()
  const distinct = at.distinct === null ? undefined : new Map<number, Set<number>>()
  const buckets = spec.buckets === null ? undefined : new Map<number, Map<number, number>>()
  const bucketOf = (r: number): number =>
    spec.buckets === null
      ? 0
      : Math.trunc(
          (rollup.firstHour + (rollup.hour[r] ?? 0) * HOUR_MS - spec.buckets.start) /
            spec.buckets.step,
        )
  const add = (r: number, p: number, n: number): void => {
    const g = groupOf(r, p)
    counts.set(g, (counts.get(g) ?? 0) + n)
    if (distinct !== undefined && at.distinct !== null) {
      let set = distinct.get(g)
      if (set === undefined) distinct.set(g, (set = new Set<number>()))
      set.add(idOf(at.distinct, r, p))
    }
    if (buckets !== undefined) {
      let map = buckets.get(g)
      if (map === undefined) buckets.set(g, (map = new Map<number, number>()))
      const b = bucketOf(r)
      map.set(b, (map.get(b) ?? 0) + n)
    }
  }
  if (traceWise) {
    const rowOf = rollup.rowOf
    traces: for (let p = 0; p < rowOf.length; p++) {
      const r = rowOf[p] ?? 0
      if (rowOk[r] === 0) continue
      for (const [column, id] of perTrace) if (column?.[p] !== id) continue traces
      if (traceTest !== null && !traceTest(r, p)) continue
      add(r, p, 1)
    }
  } else for (let r = 0; r < rollup.rows; r++) if (rowOk[r] === 1) add(r, 0, rollup.count[r] ?? 0)
  for (const [g, n] of counts) {
    const group = IdTally.key(
      ga === undefined ? 0 : mapped.a(Math.floor(g / ID_SPAN)),
      gb === undefined ? 0 : mapped.b(g % ID_SPAN),
    )
    tally.count(group, n)
    for (const v of distinct?.get(g) ?? []) tally.distinct(group, mapped.d(v))
    for (const [b, k] of buckets?.get(g) ?? []) tally.bucket(group, b, k)
  }
}

/** The per-position test of a rollup's traces against `checks` and `search` (rollupMatch). */
function rollupMatcher(
  rollup: BlockRollup,
  checks: readonly [number, number][],
  search: RollupSearch | undefined,
): (p: number) => boolean {
  const { rowOk, perTrace, traceTest } = rollupMatch(rollup, checks, search)
  const rowOf = rollup.rowOf
  return (p) => {
    const r = rowOf[p] ?? 0
    if (rowOk[r] === 0) return false
    for (const [column, id] of perTrace) if (column?.[p] !== id) return false
    return traceTest === null || traceTest(r, p)
  }
}

/** See the module comment. */
export function statisticsBlocks(
  dir: BlockDirectory,
  reader: BlockReader,
  filter: TraceFilter,
  spec: StatisticsSpec,
): TraceStatistics {
  const compiled = compile(filter)
  const columnAt = (f: string): number => ROLLUP_FILTER_COLUMNS.indexOf(f)
  const hourly =
    spec.buckets === null ||
    (spec.buckets.step % HOUR_MS === 0 && spec.buckets.start % HOUR_MS === 0)
  const values = reader.rollupValues
  const search = compiled.search === null ? undefined : RollupSearch.of(compiled.search, values)
  const fields = [...spec.groupBy, ...(spec.distinct === null ? [] : [spec.distinct])]
  const rollupFit =
    hourly &&
    (compiled.search === null || search !== undefined) &&
    compiled.tests.every(([column]) => ROLLUP_FILTER_COLUMNS.includes(column)) &&
    fields.every((f) => columnAt(f) >= 0)
  const at: RollupFields = {
    group: spec.groupBy.map(columnAt),
    distinct: spec.distinct === null ? null : columnAt(spec.distinct),
  }
  // The columns a rollup must keep to count a block (a per-trace one may be missing: `code`).
  const reads = [...fields.map(columnAt), ...(search?.columns ?? [])]
  // Fields of the extra columns only (source IPs), under a filter and search the rollups decide,
  // without intervals: a block wholly inside the window is counted on its rollup's matches and
  // its extra columns alone (reader.extras), its other dims not decoded.
  const extrasFit =
    !rollupFit &&
    spec.buckets === null &&
    (compiled.search === null || search !== undefined) &&
    compiled.tests.every(([column]) => ROLLUP_FILTER_COLUMNS.includes(column)) &&
    fields.every((f) => f === 'source_ip' || f === 'code')
  const ids = new IdTally(spec)
  const [fieldA, fieldB, fieldD] = ids.fields
  const resolve = (column: number | null | undefined, id: number): string | null =>
    id === 0 || column === null || column === undefined ? null : values.value(column, id)
  const mapped: QueryIds = {
    a: fieldA.through((id) => resolve(at.group[0], id)),
    b: fieldB.through((id) => resolve(at.group[1], id)),
    d: fieldD.through((id) => resolve(at.distinct, id)),
  }
  // Without intervals, rollups are counted into dense cells (rollup-cells) when they fit.
  const cells = rollupFit && spec.buckets === null ? RollupCells.create(values, at) : undefined
  for (const meta of dir.project(filter.projectId)) {
    if (meta.maxTime <= filter.from || meta.minTime >= filter.to) continue
    if (extrasFit && meta.minTime > filter.from && meta.maxTime < filter.to) {
      if (!compiled.bloomKeys.every((key) => bloomMayContain(meta.bloom, key))) continue
      const rollup = reader.rollup(meta)
      if (rollup !== undefined && rollupHolds(rollup, search?.columns ?? [])) {
        const checks = rollupChecks(compiled, values)
        if (checks === null) continue
        const extras = reader.extras(meta)
        if (extras !== null) {
          const [fa, fb] = spec.groupBy
          const columns = [fa, fb, spec.distinct ?? undefined].map((f) =>
            f === undefined ? undefined : extras[f === 'code' ? 'code' : 'source_ip'],
          )
          const match = rollupMatcher(rollup, checks, search)
          countColumns(meta, null, match, columns, filter, spec, ids)
          continue
        }
      }
    }
    if (rollupFit && meta.minTime > filter.from && meta.maxTime < filter.to) {
      if (!compiled.bloomKeys.every((key) => bloomMayContain(meta.bloom, key))) continue
      const rollup = reader.rollup(meta)
      if (rollup !== undefined && rollupHolds(rollup, reads)) {
        // Checks after the rollup exists: its values are interned by then.
        const checks = rollupChecks(compiled, values)
        if (checks === null) continue
        if (cells?.ready(values, ids, mapped) === true) cells.add(rollup, checks, search)
        else countRollup(rollup, checks, search, spec, at, ids, mapped)
        continue
      }
    }
    const m = matcher(reader, meta, compiled)
    if (m !== null) countBlock(reader, meta, m.dims, m.match, filter, spec, ids)
  }
  cells?.flush(ids, mapped)
  const tally = new StatisticsTally(spec)
  ids.into(tally)
  return tally.result()
}
