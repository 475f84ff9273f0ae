/**
 * @module store/sqlite/blocks/index-rows
 * Value indexes (value-index) as rows of their own, written with the block row in the same
 * transaction and deleted with it:
 * - since version 12, a block with page columns has posting rows (`trace_postings`, see
 *   value-postings) for its keys, and its `trace_vals` row keeps only the page columns (the pages
 *   of rollup filters read them);
 * - a block without page columns (a merged one), and every block of version 11, has its whole
 *   index in its `trace_vals` row (`id` = the block's id);
 * - a block written before version 11 keeps its index in its `trace_blocks.vals` column, which the
 *   reader (block-reader) takes when the block has no `trace_vals` row.
 */
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import { encodeValueRows, type ValueRows } from './value-index.js'
import { encodePostings, POSTING_SPAN, postingRowId, withoutKeys } from './value-postings.js'

export class IndexRows {
  readonly #write: SqliteStatement
  readonly #delete: SqliteStatement
  readonly #writePosting: SqliteStatement
  readonly #deletePostings: SqliteStatement

  constructor(db: SqliteDatabase) {
    // A block id may be reused once its block is gone: rows left under it are replaced.
    this.#write = db.prepare('INSERT OR REPLACE INTO trace_vals (id, data) VALUES (?, ?)')
    this.#delete = db.prepare('DELETE FROM trace_vals WHERE id = ?')
    this.#writePosting = db.prepare('INSERT INTO trace_postings (id, data) VALUES (?, ?)')
    this.#deletePostings = db.prepare('DELETE FROM trace_postings WHERE id >= ? AND id < ?')
  }

  /** Writes a block's index: posting rows and page columns when it has them, else one row. */
  write(blockId: number, rows: ValueRows): void {
    this.#deletePostings.run(postingRowId(blockId, 0), postingRowId(blockId + 1, 0))
    const page = rows.page
    if (page === null) {
      this.#write.run(blockId, encodeValueRows(rows))
      return
    }
    this.#write.run(blockId, encodeValueRows(withoutKeys(rows)))
    const buckets = encodePostings({ ...rows, page })
    if (buckets.length > POSTING_SPAN) throw new RangeError('a block of too many posting rows')
    buckets.forEach((data, b) => this.#writePosting.run(postingRowId(blockId, b), data))
  }

  /** Writes a `trace_vals` row as it is (tests turning a store into an older form). */
  writeRow(blockId: number, data: Buffer): void {
    this.#write.run(blockId, data)
  }

  delete(blockId: number): void {
    this.#delete.run(blockId)
    this.#deletePostings.run(postingRowId(blockId, 0), postingRowId(blockId + 1, 0))
  }
}
