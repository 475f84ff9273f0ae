/**
 * @module store/sqlite/blocks/block-query
 * Pages and activity counts over a project's blocks. A filter is checked per block first against
 * its bloom filter (in memory), then against its dictionaries (a value the block does not hold
 * skips it), then per trace on dictionary ids, never on strings. A page walks the blocks by
 * max_time descending and stops as soon as no further block can hold a trace newer than the
 * (limit+1)-th candidate, so its cost follows the blocks it has to look at, not the window.
 */
import type { TraceRecord } from '../../../model/index.js'
import type { SearchNode, TraceFilter } from '../../ports/traces.js'
import { FILTER_SQL } from '../../trace-columns.js'
import {
  BLOOM_FIELDS,
  bloomKey,
  idOf,
  operationRatingKey,
  userServiceKey,
  type BlockDims,
  type DictColumn,
  type DimColumn,
  type PageColumns,
  type StrColumn,
} from './block-codec.js'
import { bloomMayContain } from './bloom.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { seqAt, type BlockReader } from './block-reader.js'
import { ROLLUP_FILTER_COLUMNS, rollupChecks, rollupPositions } from './block-rollup.js'
import type { DocumentPlace, Postings } from './value-postings.js'
import { searchMatcher } from './block-search.js'

/** A filter compiled for blocks. */
export interface CompiledFilter {
  readonly bloomKeys: readonly string[]
  readonly tests: readonly (readonly [DimColumn | StrColumn, string])[]
  /** The filter's search, tested per trace after the exact tests (block-search). */
  readonly search: SearchNode | null
}

export function compile(filter: TraceFilter): CompiledFilter {
  const tests: [DimColumn | StrColumn, string][] = [['category', filter.category]]
  const bloomKeys: string[] = []
  for (const [key, column] of FILTER_SQL) {
    const value = filter[key]
    if (typeof value !== 'string') continue
    tests.push([column as DimColumn | StrColumn, value])
    const tag = BLOOM_FIELDS[column as DimColumn | StrColumn]
    if (tag !== undefined) bloomKeys.push(bloomKey(tag, value))
  }
  // The pair keys filterKeys adds, so that a rare combination of common values skips blocks too.
  if (filter.traceName !== undefined && filter.traceRating !== undefined)
    if (filter.traceRating !== 'normal')
      bloomKeys.push(operationRatingKey(filter.traceName, filter.traceRating))
  if (filter.userName !== undefined && filter.serviceType !== undefined)
    bloomKeys.push(userServiceKey(filter.userName, filter.serviceType))
  return { bloomKeys, tests, search: filter.search?.root ?? null }
}

/** Positions an exact index gave for one column's value in a block (the column is not tested). */
export interface KnownPositions {
  readonly column: DimColumn | StrColumn
  readonly positions: Uint16Array
}

/**
 * The per-position test of a block, or null when no trace of it can match (bloom or dictionary).
 */
export function matcher(
  reader: BlockReader,
  meta: BlockMeta,
  compiled: CompiledFilter,
  known?: KnownPositions,
): { dims: BlockDims; match: (p: number) => boolean } | null {
  for (const key of compiled.bloomKeys) if (!bloomMayContain(meta.bloom, key)) return null
  const dims = reader.dims(meta)
  const checks: [DictColumn['ids'], number][] = []
  for (const [column, value] of compiled.tests) {
    if (column === known?.column) continue
    const dict =
      column === 'resource_id' || column === 'resource_name'
        ? reader.strs(meta).columns[column]
        : column === 'trace_id'
          ? undefined
          : dims.columns[column]
    if (dict === undefined) continue
    const id = idOf(dict, value)
    if (id < 0) return null
    // A column whose every trace holds the value needs no per-trace check.
    if (dict.dict.length === 2 && dict.ids.every((v) => v === id)) continue
    checks.push([dict.ids, id])
  }
  let mask: Uint8Array | undefined
  if (known !== undefined) {
    mask = new Uint8Array(dims.count)
    for (const p of known.positions) if (p < dims.count) mask[p] = 1
  }
  const search =
    compiled.search === null ? null : searchMatcher(reader, meta, dims, compiled.search)
  const match = (p: number): boolean => {
    if (mask !== undefined && mask[p] !== 1) return false
    for (const [ids, id] of checks) if (ids[p] !== id) return false
    return search === null || search(p)
  }
  return { dims, match }
}

/** The first rank whose time is below `bound` (times fall along the ranks). */
function firstRankBelow(dims: BlockDims, bound: number): number {
  let lo = 0
  let hi = dims.count
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((dims.times[dims.order[mid] ?? 0] ?? 0) >= bound) lo = mid + 1
    else hi = mid
  }
  return lo
}

interface Candidate {
  readonly time: number
  readonly seq: number
  readonly meta: BlockMeta
  /** Where its document is found: the block's dims, or its page columns (value-index). */
  readonly layout: BlockDims | PageColumns | null
  readonly rank: number
  /** Where its document is, from the posting that listed it (value-postings; layout null). */
  readonly place?: DocumentPlace
}

const newerFirst = (a: Candidate, b: Candidate): number => b.time - a.time || b.seq - a.seq

/** A position in the page order: (time, seq). */
export interface PageAnchor {
  readonly time: number
  readonly seq: number
}

/** What the value index gives of a block: the positions that may hold a value, its page columns. */
export interface IndexedPositions {
  readonly positions: Uint16Array
  readonly page: PageColumns | null
  /** The block's posting rows list them (version 12): times and document places too. */
  readonly postings?: Postings
}

/**
 * The exact value index, as a page reads it (see value-index.ts): the positions of a block that
 * may hold `value` in `column` (null: none).
 */
export type ValueLookup = (
  column: 'resource_id' | 'resource_name',
  value: string,
) => (meta: BlockMeta) => IndexedPositions | null

/**
 * See the module comment; `anchor` is the position of the previous page's marker. With `values`,
 * a resource filter reads the positions of each block from its value index instead of its strs;
 * the traces found are checked against the value (two values may share an index key), and on a
 * mismatch the page is made again without the index.
 */
export function pageBlocks(
  dir: BlockDirectory,
  reader: BlockReader,
  filter: TraceFilter,
  anchor: PageAnchor | null,
  limit: number,
  values?: ValueLookup,
): { traces: TraceRecord[]; hasMore: boolean } {
  const column =
    filter.resourceId !== undefined
      ? 'resource_id'
      : filter.resourceName !== undefined
        ? 'resource_name'
        : undefined
  const value = filter.resourceId ?? filter.resourceName
  if (values !== undefined && column !== undefined && value !== undefined) {
    const lookup = values(column, value)
    const cands = candidates(dir, reader, filter, anchor, limit, { column, lookup })
    const traces = documentsOf(reader, cands)
    if (traces.every((t) => t[column] === value))
      return { traces: traces.slice(0, limit), hasMore: traces.length > limit }
  }
  const cands = candidates(dir, reader, filter, anchor, limit)
  const hasMore = cands.length > limit
  return { traces: documentsOf(reader, cands.slice(0, limit)), hasMore }
}

/** The page's first limit + 1 matches, newest first. */
function candidates(
  dir: BlockDirectory,
  reader: BlockReader,
  filter: TraceFilter,
  anchor: PageAnchor | null,
  limit: number,
  index?: {
    readonly column: 'resource_id' | 'resource_name'
    readonly lookup: (meta: BlockMeta) => IndexedPositions | null
  },
): Candidate[] {
  const need = limit + 1
  const compiled = compile(filter)
  // Only the indexed column (and the category) to test: blocks with page columns need no dims.
  const lean =
    index !== undefined &&
    compiled.search === null &&
    compiled.tests.every(([column]) => column === 'category' || column === index.column)
  // A filter on rollup columns only: a block whose rollup is in memory is skipped when it shows no
  // match, without decoding its dims (a rare combination walks a big tenant's whole week).
  const rollupFilter =
    compiled.search === null &&
    compiled.tests.every(([column]) => ROLLUP_FILTER_COLUMNS.includes(column))
  const checks = rollupFilter ? rollupChecks(compiled, reader.rollupValues) : undefined
  const upper = anchor === null ? filter.to : Math.min(filter.to, anchor.time + 1)
  const window = { from: filter.from, upper, anchor }
  let cands: Candidate[] = []
  for (const meta of dir.projectByTime(filter.projectId)) {
    if (meta.maxTime <= filter.from) break
    const worst = cands.length >= need ? cands[need - 1] : undefined
    if (worst !== undefined && meta.maxTime < worst.time) break
    if (meta.minTime >= upper) continue
    let known: KnownPositions | undefined
    if (index !== undefined) {
      if (!compiled.bloomKeys.every((key) => bloomMayContain(meta.bloom, key))) continue
      const found = index.lookup(meta)
      if (found === null) continue
      const { positions, page, postings } = found
      if (lean && postings !== undefined) {
        if (postings.category !== filter.category) continue
        if (addPostings(cands, meta, postings, window, worst))
          cands = cands.sort(newerFirst).slice(0, need)
        continue
      }
      if (lean && page !== null) {
        if (page.category !== filter.category) continue
        if (addPositions(cands, meta, page, positions, window, worst))
          cands = cands.sort(newerFirst).slice(0, need)
        continue
      }
      known = { column: index.column, positions }
    }
    if (checks !== undefined) {
      const rollup = reader.cachedRollup(meta)
      if (rollup !== undefined) {
        // The rollup gives the block's matches; with page columns, their times and documents
        // need no dims either (a rare combination has a match in many of a big tenant's blocks).
        const positions = rollupPositions(rollup, checks, ROLLUP_POSITIONS_MAX)
        if (positions?.length === 0) continue
        const page = positions === undefined ? null : reader.vals(meta).page
        if (positions !== undefined && page !== null && page.category === filter.category) {
          if (addPositions(cands, meta, page, positions, window, worst))
            cands = cands.sort(newerFirst).slice(0, need)
          continue
        }
      }
    }
    const m = matcher(reader, meta, compiled, known)
    if (m === null) continue
    const { dims, match } = m
    let found = 0
    for (let rank = firstRankBelow(dims, upper); rank < dims.count && found < need; rank++) {
      const p = dims.order[rank] ?? 0
      const time = dims.times[p] ?? 0
      if (time <= filter.from) break
      const seq = seqAt(meta, dims, p)
      if (anchor !== null && time === anchor.time && seq >= anchor.seq) continue
      if (worst !== undefined && (time < worst.time || (time === worst.time && seq < worst.seq)))
        break
      if (!match(p)) continue
      cands.push({ time, seq, meta, layout: dims, rank })
      found++
    }
    if (found > 0) cands = cands.sort(newerFirst).slice(0, need)
  }
  return cands
}

/**
 * Matches of a rollup-only filter taken from a block's rollup and page columns when it has at most
 * this many (more: its dims are walked, which stop at the page's need).
 */
const ROLLUP_POSITIONS_MAX = 512

/** The window a page's candidates fall in: after `from`, before `upper` and the anchor. */
interface PageWindow {
  readonly from: number
  readonly upper: number
  readonly anchor: PageAnchor | null
}

/** Whether a trace at (time, seq) is in the window and before the current worst candidate. */
function admits(time: number, seq: number, window: PageWindow, worst: Candidate | undefined) {
  const { from, upper, anchor } = window
  if (time <= from || time >= upper) return false
  if (anchor !== null && time === anchor.time && seq >= anchor.seq) return false
  return worst === undefined || time > worst.time || (time === worst.time && seq >= worst.seq)
}

/**
 * Adds the candidates among `positions` of a block with page columns that fall in the page's
 * window (after the anchor) and before the current worst; whether any was added.
 */
function addPositions(
  cands: Candidate[],
  meta: BlockMeta,
  page: PageColumns,
  positions: Uint16Array,
  window: PageWindow,
  worst: Candidate | undefined,
): boolean {
  const before = cands.length
  for (const p of positions) {
    const time = meta.minTime + (page.times[p] ?? 0)
    const seq = meta.minSeq + p
    if (admits(time, seq, window, worst))
      cands.push({ time, seq, meta, layout: page, rank: page.ranks[p] ?? 0 })
  }
  return cands.length > before
}

/** addPositions for postings: their times and document places are in the posting row. */
function addPostings(
  cands: Candidate[],
  meta: BlockMeta,
  postings: Postings,
  window: PageWindow,
  worst: Candidate | undefined,
): boolean {
  const before = cands.length
  postings.positions.forEach((p, k) => {
    const time = meta.minTime + (postings.times[k] ?? 0)
    const seq = meta.minSeq + p
    if (admits(time, seq, window, worst))
      cands.push({ time, seq, meta, layout: null, rank: 0, place: postings.place(k) })
  })
  return cands.length > before
}

/** The traces of candidates, in their order, reading each block's body once. */
function documentsOf(reader: BlockReader, cands: readonly Candidate[]): TraceRecord[] {
  const byBlock = new Map<number, number[]>()
  cands.forEach((c, i) => {
    const list = byBlock.get(c.meta.id)
    if (list === undefined) byBlock.set(c.meta.id, [i])
    else list.push(i)
  })
  const out = new Array<TraceRecord>(cands.length)
  for (const indexes of byBlock.values()) {
    const first = cands[indexes[0] ?? 0] as Candidate
    const ranks = indexes.map((i) => cands[i]?.rank ?? 0)
    const layout = first.layout
    const docs =
      layout === null
        ? reader.placedDocuments(
            first.meta,
            indexes.map((i) => cands[i]?.place as DocumentPlace),
          )
        : 'order' in layout
          ? reader.documents(first.meta, layout, ranks)
          : reader.pageDocuments(first.meta, layout, ranks)
    indexes.forEach((i, k) => (out[i] = JSON.parse(docs[k] ?? 'null') as TraceRecord))
  }
  return out
}
