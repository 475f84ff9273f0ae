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

/** Per distinct value of a column: its dictionary id and positions. */
function positionsByValue(column: DictColumn): Map<number, number[]> {
  const byId = new Map<number, number[]>()
  column.ids.forEach((id, p) => {
    if (id === 0) return
    const list = byId.get(id)
    if (list === undefined) byId.set(id, [p])
    else list.push(p)
  })
  return byId
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
  insert(meta: Pick<BlockMeta, 'id' | 'projectId' | 'minTime'>, strs: BlockStrings): void {
    const bucket = bucketOf(meta.minTime)
    const rows: [number, Buffer][] = []
    for (const column of Object.keys(INDEXED_COLUMNS) as IndexedColumn[]) {
      const dict = strs.columns[column]
      for (const [id, positions] of positionsByValue(dict)) {
        const h = valueKey(meta.projectId, column, dict.dict[id] ?? '')
        const packed = Uint16Array.from(positions)
        rows.push([h, Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)])
      }
    }
    // In key order: neighbouring B-tree pages of the newest bucket.
    rows.sort((a, b) => a[0] - b[0])
    // Two values sharing a key: one row with both values' positions.
    const merged: [number, Buffer][] = []
    for (const row of rows) {
      const last = merged.at(-1)
      if (last !== undefined && last[0] === row[0]) last[1] = Buffer.concat([last[1], row[1]])
      else merged.push(row)
    }
    for (let at = 0; at < merged.length; at += ROWS_PER_INSERT) {
      const part = merged.slice(at, at + ROWS_PER_INSERT)
      let statement = this.#inserts.get(part.length)
      if (statement === undefined) {
        statement = this.#db.prepare(
          `INSERT OR REPLACE INTO trace_values (bucket, h, block, positions) VALUES ${part.map(() => '(?, ?, ?, ?)').join(', ')}`,
        )
        this.#inserts.set(part.length, statement)
      }
      statement.run(...part.flatMap(([h, positions]) => [bucket, h, meta.id, positions]))
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
      for (const meta of dir.all()) this.insert(meta, reader.strs(meta))
      this.#db
        .prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
        .run(BUILT_KEY, String(Date.now()))
    })()
  }
}
