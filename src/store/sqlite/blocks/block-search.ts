/**
 * @module store/sqlite/blocks/block-search
 * A search (TraceFilter.search) over a block: each leaf is decided once per dictionary entry of the
 * column it reads (a block holds a few hundred distinct values where it holds 2,048 traces), and
 * per trace the tree is evaluated on dictionary ids. Resource ids and names are read from the
 * block's strs, `source_ip` and `code` from its extra columns (or, for a block written before
 * them, its documents). `searchScope` enforces the search's bound before any scan.
 */
import { searchTooWide } from '../../search-bound.js'
import type { SearchField, SearchNode, TraceFilter } from '../../ports/traces.js'
import {
  documentExtras,
  extraColumns,
  type BlockDims,
  type DictColumn,
  type ExtraColumn,
} from './block-codec.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { bloomMayContain } from './bloom.js'
import { compile, matcher } from './block-query.js'
import {
  ROLLUP_FILTER_COLUMNS,
  rollupChecks,
  rollupMatch,
  type BlockRollup,
} from './block-rollup.js'
import type { BlockReader } from './block-reader.js'

/** The extra columns of a block, from its dims or (an older block) its documents. */
export function extrasOf(
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
  // Asked by the rank of each position: the documents come in position order.
  docs.forEach((doc, p) => {
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

/** A block's column of a searchable field. */
export function blockColumn(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
  field: SearchField,
): DictColumn {
  if (field === 'source_ip' || field === 'code') return extrasOf(reader, meta, dims)[field]
  if (field === 'resource_id' || field === 'resource_name') return reader.strs(meta).columns[field]
  return dims.columns[field]
}

/** ASCII letters to lower case (as query/search-query lowers the text searched for). */
function asciiLower(value: string): string {
  return value.replace(/[A-Z]/g, (c) => c.toLowerCase())
}

/** A code as a decimal integer, or undefined. */
function codeNumber(value: string): number | undefined {
  return /^\d{1,9}$/.test(value) ? Number(value) : undefined
}

/** Whether a leaf holds for a (non-null) value. */
export function leafTest(
  node: SearchNode & { kind: 'match' | 'compare' },
): (value: string) => boolean {
  if (node.kind === 'match') {
    const want = node.value
    return node.prefix ? (v) => v.startsWith(want) : (v) => v === want
  }
  const bound = node.value
  const compare = {
    '<': (n: number) => n < bound,
    '<=': (n: number) => n <= bound,
    '>': (n: number) => n > bound,
    '>=': (n: number) => n >= bound,
  }[node.op]
  return (v) => {
    const n = codeNumber(v)
    return n !== undefined && compare(n)
  }
}

/** The truth of `test` for each dictionary entry (entry 0, null, is false). */
function truthTable(column: DictColumn, test: (value: string) => boolean): Uint8Array {
  const table = new Uint8Array(column.dict.length)
  for (let id = 1; id < column.dict.length; id++) {
    const value = column.dict[id]
    if (value !== null && value !== undefined && test(value)) table[id] = 1
  }
  return table
}

/** The per-position test of a search over one block. */
export function searchMatcher(
  reader: BlockReader,
  meta: BlockMeta,
  dims: BlockDims,
  root: SearchNode,
): (p: number) => boolean {
  const build = (node: SearchNode): ((p: number) => boolean) => {
    switch (node.kind) {
      case 'and': {
        const parts = node.nodes.map(build)
        return (p) => parts.every((f) => f(p))
      }
      case 'or': {
        const parts = node.nodes.map(build)
        return (p) => parts.some((f) => f(p))
      }
      case 'not': {
        const inner = build(node.node)
        return (p) => !inner(p)
      }
      case 'text': {
        const needle = node.value
        const columns = (['resource_name', 'resource_id', 'trace_name'] as const).map((f) => {
          const column = blockColumn(reader, meta, dims, f)
          return [column.ids, truthTable(column, (v) => asciiLower(v).includes(needle))] as const
        })
        return (p) => columns.some(([ids, table]) => table[ids[p] ?? 0] === 1)
      }
      default: {
        const column = blockColumn(reader, meta, dims, node.field)
        const table = truthTable(column, leafTest(node))
        const ids = column.ids
        return (p) => table[ids[p] ?? 0] === 1
      }
    }
  }
  return build(root)
}

/**
 * Refuses a search whose window and exact filters select more than its bound (counted without
 * the search, stopping past the bound).
 */
export function searchScope(dir: BlockDirectory, reader: BlockReader, filter: TraceFilter): void {
  const search = filter.search
  if (search === undefined) return
  const exact = { ...compile(filter), search: null }
  // A block wholly inside the window counts from its rollup when the exact filters are on its
  // columns (no dims decoded).
  const rollupFilter = exact.tests.every(([column]) => ROLLUP_FILTER_COLUMNS.includes(column))
  let selected = 0
  for (const meta of dir.project(filter.projectId)) {
    if (meta.maxTime <= filter.from || meta.minTime >= filter.to) continue
    if (rollupFilter && meta.minTime > filter.from && meta.maxTime < filter.to) {
      if (!exact.bloomKeys.every((key) => bloomMayContain(meta.bloom, key))) continue
      const rollup = reader.rollup(meta)
      if (rollup !== undefined) {
        const checks = rollupChecks(exact, reader.rollupValues)
        if (checks !== null) selected += rollupCount(rollup, checks)
        if (selected > search.maxScan) throw searchTooWide(search.maxScan)
        continue
      }
    }
    const m = matcher(reader, meta, exact)
    if (m === null) continue
    const { dims, match } = m
    for (let p = 0; p < dims.count; p++) {
      const time = dims.times[p] ?? 0
      if (time > filter.from && time < filter.to && match(p)) selected++
    }
    if (selected > search.maxScan) throw searchTooWide(search.maxScan)
  }
}

/** How many of a rollup's traces pass `checks` (rollupChecks). */
function rollupCount(rollup: BlockRollup, checks: readonly [number, number][]): number {
  const { rowOk, perTrace } = rollupMatch(rollup, checks)
  let n = 0
  if (perTrace.length === 0) {
    for (let r = 0; r < rollup.rows; r++) if (rowOk[r] === 1) n += rollup.count[r] ?? 0
    return n
  }
  const rowOf = rollup.rowOf
  traces: for (let p = 0; p < rowOf.length; p++) {
    if (rowOk[rowOf[p] ?? 0] === 0) continue
    for (const [column, id] of perTrace) if (column?.[p] !== id) continue traces
    n++
  }
  return n
}
