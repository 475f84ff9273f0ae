/**
 * @module store/sqlite/blocks/block-directory
 * The in-memory directory of the trace blocks: every `trace_blocks` row without its dims, strs and
 * body (a few dozen bytes plus the bloom bits per block), per project in seq order. Loaded once at
 * open; the store changes it only after the transaction that changed the rows committed.
 */
import type { SqliteDatabase } from '../sqlite-database.js'

export interface BlockMeta {
  readonly id: number
  readonly projectId: string
  readonly count: number
  readonly minTime: number
  readonly maxTime: number
  readonly minSeq: number
  readonly maxSeq: number
  /** Leaf index of position 0 (the others follow one by one); null: stored with the log off. */
  readonly minLeaf: number | null
  readonly bloom: Uint8Array
}

interface BlockRow {
  id: number
  project_id: string
  count: number
  min_time: number
  max_time: number
  min_seq: number
  max_seq: number
  min_leaf: number | null
  bloom: Buffer
}

export function metaOf(row: BlockRow): BlockMeta {
  return {
    id: row.id,
    projectId: row.project_id,
    count: row.count,
    minTime: row.min_time,
    maxTime: row.max_time,
    minSeq: row.min_seq,
    maxSeq: row.max_seq,
    minLeaf: row.min_leaf,
    bloom: new Uint8Array(row.bloom),
  }
}

/** The last index of `list` (sorted by `key`) whose key is <= `value`, or -1. */
function lastAtOrBelow<T>(list: readonly T[], key: (t: T) => number, value: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (key(list[mid] as T) <= value) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}

export class BlockDirectory {
  readonly #byId = new Map<number, BlockMeta>()
  /** Per project, by min_seq ascending (a project's blocks never overlap in seq). */
  readonly #byProject = new Map<string, BlockMeta[]>()
  /** Per project, by max_time descending; rebuilt lazily after a change. */
  readonly #byTime = new Map<string, BlockMeta[]>()
  /** Every block by min_seq ascending; rebuilt lazily after a change. */
  #bySeq: BlockMeta[] | undefined

  static load(db: SqliteDatabase): BlockDirectory {
    const dir = new BlockDirectory()
    const rows = db
      .prepare(
        `SELECT id, project_id, count, min_time, max_time, min_seq, max_seq, min_leaf, bloom
         FROM trace_blocks ORDER BY min_seq`,
      )
      .all() as BlockRow[]
    for (const row of rows) dir.add(metaOf(row))
    return dir
  }

  get size(): number {
    return this.#byId.size
  }

  get(id: number): BlockMeta | undefined {
    return this.#byId.get(id)
  }

  /** Adds a block (kept in min_seq order within its project). */
  add(meta: BlockMeta): void {
    this.#byId.set(meta.id, meta)
    let list = this.#byProject.get(meta.projectId)
    if (list === undefined) this.#byProject.set(meta.projectId, (list = []))
    const at = lastAtOrBelow(list, (b) => b.minSeq, meta.minSeq) + 1
    list.splice(at, 0, meta)
    this.#byTime.delete(meta.projectId)
    this.#bySeq = undefined
  }

  remove(id: number): void {
    const meta = this.#byId.get(id)
    if (meta === undefined) return
    this.#byId.delete(id)
    const list = this.#byProject.get(meta.projectId) ?? []
    const at = list.indexOf(meta)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) this.#byProject.delete(meta.projectId)
    this.#byTime.delete(meta.projectId)
    this.#bySeq = undefined
  }

  /** The project's blocks by min_seq ascending. */
  project(projectId: string): readonly BlockMeta[] {
    return this.#byProject.get(projectId) ?? []
  }

  /** The project's blocks by max_time descending (then max_seq descending). */
  projectByTime(projectId: string): readonly BlockMeta[] {
    let list = this.#byTime.get(projectId)
    if (list === undefined) {
      list = [...this.project(projectId)].sort(
        (a, b) => b.maxTime - a.maxTime || b.maxSeq - a.maxSeq,
      )
      this.#byTime.set(projectId, list)
    }
    return list
  }

  /** Every block by min_seq ascending. */
  all(): readonly BlockMeta[] {
    this.#bySeq ??= [...this.#byId.values()].sort((a, b) => a.minSeq - b.minSeq)
    return this.#bySeq
  }

  /** The project's block whose seq range holds `seq`, or undefined. */
  blockOfSeq(projectId: string, seq: number): BlockMeta | undefined {
    const list = this.project(projectId)
    const block = list[lastAtOrBelow(list, (b) => b.minSeq, seq)]
    return block !== undefined && seq <= block.maxSeq ? block : undefined
  }

  /** The project's block holding leaf `leafIndex`, or undefined. */
  blockOfLeaf(projectId: string, leafIndex: number): BlockMeta | undefined {
    // Leaf order is seq order within a project, so the leafed blocks are sorted by min_leaf too.
    const list = this.project(projectId).filter((b) => b.minLeaf !== null)
    const block = list[lastAtOrBelow(list, (b) => b.minLeaf ?? 0, leafIndex)]
    if (block === undefined || block.minLeaf === null) return undefined
    return leafIndex < block.minLeaf + block.count ? block : undefined
  }

  /** The lowest min_seq of any block (the oldest trace_keys bucket in use), or undefined. */
  lowestSeq(): number | undefined {
    // Per project rather than all(): that list is re-sorted after every commit.
    let low: number | undefined
    for (const list of this.#byProject.values()) {
      const seq = list[0]?.minSeq
      if (seq !== undefined && (low === undefined || seq < low)) low = seq
    }
    return low
  }
}
