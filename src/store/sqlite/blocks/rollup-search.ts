/**
 * @module store/sqlite/blocks/rollup-search
 * A search (TraceFilter.search) decided on block rollups instead of dims, when each of its leaves
 * reads a rollup column (`trace_name:delete*`, `code:>=400`, `user_name:(a OR b)`; not free
 * text, resource ids or names, source IPs). A leaf is decided once per global value id of its
 * column (RollupValues), in a table extended as rollups intern new values; the tree is then
 * evaluated per rollup row when it reads grouped columns only, else per trace on the row's ids
 * and the per-trace columns. A rollup lacking a per-trace column the search reads (`code` of an
 * older block, rollupHolds) is not for it: the caller counts that block from its dims. Pure.
 */
import type { SearchNode } from '../../ports/traces.js'
import {
  ROLLUP_COLUMNS,
  ROLLUP_FILTER_COLUMNS,
  type BlockRollup,
  type RollupValues,
} from './block-rollup.js'
import { leafTest } from './block-search.js'

type Leaf = SearchNode & { kind: 'match' | 'compare' }

export class RollupSearch {
  readonly #root: SearchNode
  readonly #values: RollupValues
  /** Per leaf, its column (ROLLUP_FILTER_COLUMNS index), test and truth per global id. */
  readonly #leaves = new Map<
    Leaf,
    { column: number; test: (value: string) => boolean; table: Uint8Array }
  >()
  /** The ROLLUP_FILTER_COLUMNS indexes the leaves read. */
  readonly columns: readonly number[]
  /** Whether a leaf reads a per-trace column (the tree is then evaluated per trace). */
  readonly perTrace: boolean

  private constructor(root: SearchNode, values: RollupValues, leaves: readonly Leaf[]) {
    this.#root = root
    this.#values = values
    for (const leaf of leaves)
      this.#leaves.set(leaf, {
        column: ROLLUP_FILTER_COLUMNS.indexOf(leaf.field),
        test: leafTest(leaf),
        table: new Uint8Array(1),
      })
    this.columns = [...new Set([...this.#leaves.values()].map((l) => l.column))]
    this.perTrace = this.columns.some((c) => c >= ROLLUP_COLUMNS.length)
  }

  /** The search over rollups, or undefined when a leaf reads what rollups do not hold. */
  static of(root: SearchNode, values: RollupValues): RollupSearch | undefined {
    const leaves: Leaf[] = []
    const walk = (node: SearchNode): boolean => {
      switch (node.kind) {
        case 'and':
        case 'or':
          return node.nodes.every(walk)
        case 'not':
          return walk(node.node)
        case 'text':
          return false
        default:
          leaves.push(node)
          return ROLLUP_FILTER_COLUMNS.includes(node.field)
      }
    }
    return walk(root) ? new RollupSearch(root, values, leaves) : undefined
  }

  /**
   * Applies the search to a rollup that holds its columns: rows that fail are cleared in `rowOk`
   * (grouped columns only, returns null), or the per-trace test of row r's trace at position p.
   */
  apply(rollup: BlockRollup, rowOk: Uint8Array): ((r: number, p: number) => boolean) | null {
    for (const leaf of this.#leaves.values()) this.#extend(leaf)
    const width = ROLLUP_COLUMNS.length
    const ids = rollup.ids
    const build = (node: SearchNode): ((r: number, p: number) => boolean) => {
      switch (node.kind) {
        case 'and': {
          const parts = node.nodes.map(build)
          return (r, p) => parts.every((f) => f(r, p))
        }
        case 'or': {
          const parts = node.nodes.map(build)
          return (r, p) => parts.some((f) => f(r, p))
        }
        case 'not': {
          const inner = build(node.node)
          return (r, p) => !inner(r, p)
        }
        case 'text':
          return () => false // never: `of` refuses free text
        default: {
          const { column, table } = this.#leaves.get(node) as { column: number; table: Uint8Array }
          if (column < width) return (r) => table[ids[r * width + column] ?? 0] === 1
          const own = rollup.positional[column - width]
          return (_, p) => table[own?.[p] ?? 0] === 1
        }
      }
    }
    const test = build(this.#root)
    if (this.perTrace) return test
    for (let r = 0; r < rollup.rows; r++) if (rowOk[r] === 1 && !test(r, 0)) rowOk[r] = 0
    return null
  }

  /** Decides the leaf for the global ids interned since (id 0, no value, is false). */
  #extend(leaf: { column: number; test: (value: string) => boolean; table: Uint8Array }): void {
    const size = this.#values.size(leaf.column) + 1
    if (leaf.table.length >= size) return
    const table = new Uint8Array(size)
    table.set(leaf.table)
    for (let id = leaf.table.length; id < size; id++)
      if (leaf.test(this.#values.value(leaf.column, id))) table[id] = 1
    leaf.table = table
  }
}
