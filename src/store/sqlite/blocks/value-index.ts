/**
 * @module store/sqlite/blocks/value-index
 * The exact index of the high-cardinality filter values (resource_id, resource_name):
 * `trace_values (bucket, h, block, positions)` (block-schema), one row per distinct value of a block, listing
 * the positions holding it. A resource filter then reads only the blocks and positions that hold
 * its value, instead of decoding the `strs` of every block whose bloom filter says "maybe" (a
 * resource appears in a fifth of a busy tenant's blocks, and rarely 200 times in a week).
 *
 * `bucket` is the hour of the block's min_time, so inserts stay in the newest part of the B-tree;
 * a block's traces lie in one UTC day, so a window's blocks are in the buckets from the start of
 * its first day to its end (one probe each). `h` is a 48-bit hash of (project, column, value):
 * two values may share it, so a page checks the documents it returns and falls back to the strs
 * when one does not hold the value. Derived from the blocks: written and deleted with them, and
 * rebuilt from them by `buildMissing` when a store lacks it.
 */
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import type { BlockStrings, DictColumn } from './block-codec.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { fnv1a, SEED_A, SEED_B } from './hashes.js'
import type { BlockReader } from './block-reader.js'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** The columns the index holds, with their tag in `h`. */
export const INDEXED_COLUMNS = { resource_id: 'i', resource_name: 'n' } as const
export type IndexedColumn = keyof typeof INDEXED_COLUMNS

/** `meta` key recording that trace_values holds every block. */
const BUILT_KEY = 'trace_values_built'

/** The 48-bit key of a value of an indexed column in a project. */
export function valueKey(projectId: string, column: IndexedColumn, value: string): number {
  const text = `${projectId}\u0000${INDEXED_COLUMNS[column]}\u0000${value}`
  return (fnv1a(text, SEED_A) & 0xffff) * 0x1_0000_0000 + fnv1a(text, SEED_B)
}

function bucketOf(minTime: number): number {
  return Math.floor(minTime / HOUR_MS)
}

/** A block's index rows, sorted by key: row r is `keys[r]` with positions[offsets[r]..offsets[r+1]). */
export interface ValueRows {
  readonly keys: Float64Array
  readonly offsets: Uint32Array
  readonly positions: Uint16Array
}

/**
 * The index rows of a block from each position's values of the indexed columns (null: none).
 * Runs where the block is encoded (an ingest worker thread, or the event loop for merges).
 */
export function valueRows(
  projectId: string,
  columns: Readonly<Record<IndexedColumn, ArrayLike<string | null>>>,
): ValueRows {
  const byKey = new Map<number, number[]>()
  for (const column of Object.keys(INDEXED_COLUMNS) as IndexedColumn[]) {
    const values = columns[column]
    const byValue = new Map<string, number[]>()
    for (let p = 0; p < values.length; p++) {
      const value = values[p]
      if (value === null || value === undefined) continue
      const list = byValue.get(value)
      if (list === undefined) byValue.set(value, [p])
      else list.push(p)
    }
    for (const [value, positions] of byValue) {
      const h = valueKey(projectId, column, value)
      // Two values sharing a key: one row with both values' positions.
      const list = byKey.get(h)
      if (list === undefined) byKey.set(h, positions)
      else list.push(...positions)
    }
  }
  const keys = Float64Array.from(byKey.keys()).sort()
  const offsets = new Uint32Array(keys.length + 1)
  let total = 0
  for (const list of byKey.values()) total += list.length
  const positions = new Uint16Array(total)
  let at = 0
  keys.forEach((h, r) => {
    offsets[r] = at
    for (const p of byKey.get(h) ?? []) positions[at++] = p
  })
  offsets[keys.length] = at
  return { keys, offsets, positions }
}

/** The index rows of a stored block, from its strs. */
export function valueRowsOf(projectId: string, strs: BlockStrings): ValueRows {
  const values = (column: DictColumn): (string | null)[] =>
    Array.from(column.ids, (id) => column.dict[id] ?? null)
  return valueRows(projectId, {
    resource_id: values(strs.columns.resource_id),
    resource_name: values(strs.columns.resource_name),
  })
}

/** Rows per insert statement (4 parameters each). */
const ROWS_PER_INSERT = 100

export class ValueIndex {
  readonly #db: SqliteDatabase
  readonly #probe: SqliteStatement
  readonly #delete: SqliteStatement
  readonly #point: SqliteStatement
  readonly #inserts = new Map<number, SqliteStatement>()

  constructor(db: SqliteDatabase) {
    this.#db = db
    this.#probe = db.prepare('SELECT block, positions FROM trace_values WHERE bucket = ? AND h = ?')
    this.#point = db.prepare(
      'SELECT positions FROM trace_values WHERE bucket = ? AND h = ? AND block = ?',
    )
    this.#delete = db.prepare('DELETE FROM trace_values WHERE bucket = ? AND h = ? AND block = ?')
  }

  /** Indexes a block's values (inside the caller's transaction). */
  insert(meta: Pick<BlockMeta, 'id' | 'minTime'>, rows: ValueRows): void {
    const bucket = bucketOf(meta.minTime)
    const count = rows.keys.length
    for (let at = 0; at < count; at += ROWS_PER_INSERT) {
      const n = Math.min(ROWS_PER_INSERT, count - at)
      let statement = this.#inserts.get(n)
      if (statement === undefined) {
        statement = this.#db.prepare(
          `INSERT OR REPLACE INTO trace_values (bucket, h, block, positions) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')}`,
        )
        this.#inserts.set(n, statement)
      }
      const params: (number | Buffer)[] = []
      for (let r = at; r < at + n; r++) {
        const from = rows.offsets[r] ?? 0
        const to = rows.offsets[r + 1] ?? from
        const list = rows.positions.subarray(from, to)
        params.push(
          bucket,
          rows.keys[r] ?? 0,
          meta.id,
          Buffer.from(list.buffer, list.byteOffset, list.byteLength),
        )
      }
      statement.run(...params)
    }
  }

  /** Removes a block's rows (inside the caller's transaction). */
  delete(meta: BlockMeta, strs: BlockStrings): void {
    const bucket = bucketOf(meta.minTime)
    for (const column of Object.keys(INDEXED_COLUMNS) as IndexedColumn[]) {
      const dict = strs.columns[column]
      for (let id = 1; id < dict.dict.length; id++)
        this.#delete.run(bucket, valueKey(meta.projectId, column, dict.dict[id] ?? ''), meta.id)
    }
  }

  /**
   * The blocks of the window (from, to) that may hold `value` in `column`, with the positions
   * (ascending) that may hold it.
   */
  positions(
    projectId: string,
    column: IndexedColumn,
    value: string,
    from: number,
    to: number,
  ): Map<number, Uint16Array> {
    const h = valueKey(projectId, column, value)
    const out = new Map<number, Uint16Array>()
    const first = bucketOf(Math.floor(Math.max(0, from) / DAY_MS) * DAY_MS)
    const last = bucketOf(to)
    for (let bucket = last; bucket >= first; bucket--)
      for (const row of this.#probe.all(bucket, h) as { block: number; positions: Buffer }[]) {
        const copy = new Uint8Array(row.positions)
        out.set(row.block, new Uint16Array(copy.buffer, 0, copy.byteLength >> 1).sort())
      }
    return out
  }

  /** Whether the table holds every block. */
  built(): boolean {
    return this.#db.prepare('SELECT 1 AS x FROM meta WHERE key = ?').get(BUILT_KEY) !== undefined
  }

  /** Whether the index lists `position` of a block under `value` of `column` (for the audit). */
  lists(meta: BlockMeta, column: IndexedColumn, value: string, position: number): boolean {
    const h = valueKey(meta.projectId, column, value)
    const row = this.#point.get(bucketOf(meta.minTime), h, meta.id) as
      { positions: Buffer } | undefined
    if (row === undefined) return false
    const copy = new Uint8Array(row.positions)
    return new Uint16Array(copy.buffer, 0, copy.byteLength >> 1).includes(position)
  }

  /**
   * Indexes every block when the table was never filled (a store written before it existed):
   * once, in one transaction, reading each block's strs.
   */
  buildMissing(dir: BlockDirectory, reader: BlockReader): void {
    if (this.built()) return
    this.#db.transaction(() => {
      this.#db.exec('DELETE FROM trace_values')
      for (const meta of dir.all())
        this.insert(meta, valueRowsOf(meta.projectId, reader.strs(meta)))
      this.#db
        .prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
        .run(BUILT_KEY, String(Date.now()))
    })()
  }
}
