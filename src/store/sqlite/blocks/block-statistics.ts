/**
 * @module store/sqlite/blocks/block-statistics
 * Statistics over a project's blocks (see TraceStore.statistics). Each block whose time range meets
 * the window and whose bloom and dictionaries admit the filter is counted trace by trace on
 * dictionary ids: a group is the pair of its fields' ids in the block, counted into a typed array
 * (a Map when the pairs are too many), with the distinct values and the intervals as numeric keys;
 * a block's counts are then resolved to strings once per group and added to the engine-neutral
 * tally. `source_ip` and `code` are the dims' extra columns, or, for a block written before they
 * were kept, read from its documents.
 */
import type { StatField, StatisticsSpec, TraceFilter, TraceStatistics } from '../../ports/traces.js'
import { StatisticsTally } from '../../statistics-tally.js'
import {
  documentExtras,
  extraColumns,
  type BlockDims,
  type DictColumn,
  type ExtraColumn,
} from './block-codec.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { compile, matcher } from './block-query.js'
import type { BlockReader } from './block-reader.js'

const NO_COLUMN: DictColumn = { dict: [null], ids: new Uint8Array(0) }

/** The extra columns of a block, from its dims or (an older block) its documents. */
function extrasOf(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
): Readonly<Record<ExtraColumn, DictColumn>> {
  const kept = extraColumns(dims)
  if (kept !== null) return kept
  const docs = reader.documents(meta, dims, Array.from(reader.ranks(dims)))
  const columns = {
    source_ip: { dict: [null] as (string | null)[], ids: new Uint32Array(dims.count) },
    code: { dict: [null] as (string | null)[], ids: new Uint32Array(dims.count) },
  }
  const ids = { source_ip: new Map<string, number>(), code: new Map<string, number>() }
  // `documents` gives them in rank order: position order[rank].
  docs.forEach((doc, rank) => {
    const p = dims.order[rank] ?? 0
    const extras = documentExtras(doc)
    for (const column of ['source_ip', 'code'] as const) {
      const value = extras[column]
      if (value === null) continue
      let id = ids[column].get(value)
      if (id === undefined) {
        id = columns[column].dict.push(value) - 1
        ids[column].set(value, id)
      }
      columns[column].ids[p] = id
    }
  })
  return columns
}

function columnOf(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
  field: StatField,
): DictColumn {
  return field === 'source_ip' || field === 'code'
    ? extrasOf(reader, meta, dims)[field]
    : dims.columns[field]
}

/** Counts one block's matching traces into the tally. */
function countBlock(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
  match: (p: number) => boolean,
  filter: TraceFilter,
  spec: StatisticsSpec,
  tally: StatisticsTally,
): void {
  const [a, b] = spec.groupBy.map((f) => columnOf(reader, meta, dims, f))
  const d = spec.distinct === null ? undefined : columnOf(reader, meta, dims, spec.distinct)
  const colA = a ?? NO_COLUMN
  const colB = b ?? NO_COLUMN
  const widthB = colB.dict.length
  const groups = colA.dict.length * widthB
  const dense = groups <= 1 << 16 ? new Float64Array(groups) : undefined
  const sparse = dense === undefined ? new Map<number, number>() : undefined
  const distinct = d === undefined ? undefined : new Set<number>()
  const widthD = d?.dict.length ?? 1
  const buckets = spec.buckets === null ? undefined : new Map<number, number>()
  const { start, step } = spec.buckets ?? { start: 0, step: 1 }
  const first = Math.trunc((Math.max(meta.minTime, filter.from) - start) / step)
  const last = Math.trunc((Math.min(meta.maxTime, filter.to) - start) / step)
  const span = last - first + 1
  for (let p = 0; p < dims.count; p++) {
    const time = dims.times[p] ?? 0
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
  const valuesOf = (g: number): (string | null)[] => {
    const values: (string | null)[] = []
    if (a !== undefined) values.push(colA.dict[Math.floor(g / widthB)] ?? null)
    if (b !== undefined) values.push(colB.dict[g % widthB] ?? null)
    return values
  }
  const resolved = new Map<number, (string | null)[]>()
  const values = (g: number): (string | null)[] => {
    let v = resolved.get(g)
    if (v === undefined) resolved.set(g, (v = valuesOf(g)))
    return v
  }
  if (dense !== undefined) {
    for (let g = 0; g < dense.length; g++)
      if ((dense[g] ?? 0) > 0) tally.count(values(g), dense[g] ?? 0)
  } else for (const [g, n] of sparse ?? []) tally.count(values(g), n)
  for (const k of distinct ?? [])
    tally.distinct(values(Math.floor(k / widthD)), d?.dict[k % widthD] ?? null)
  for (const [k, n] of buckets ?? [])
    tally.bucket(values(Math.floor(k / span)), first + (k % span), n)
}

/** See the module comment. */
export function statisticsBlocks(
  dir: BlockDirectory,
  reader: BlockReader,
  filter: TraceFilter,
  spec: StatisticsSpec,
): TraceStatistics {
  const compiled = compile(filter)
  const tally = new StatisticsTally(spec)
  for (const meta of dir.project(filter.projectId)) {
    if (meta.maxTime <= filter.from || meta.minTime >= filter.to) continue
    const m = matcher(reader, meta, compiled)
    if (m !== null) countBlock(reader, meta, m.dims, m.match, filter, spec, tally)
  }
  return tally.result()
}
