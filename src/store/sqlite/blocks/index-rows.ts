/**
 * @module store/sqlite/blocks/index-rows
 * Value indexes (value-index) as rows of `trace_vals` (schema version 11; see block-schema): one
 * per block, `id` = the block's id, written with the block row in the same transaction and deleted
 * with it. A block written before version 11 keeps its index in its `trace_blocks.vals` column,
 * which the reader (block-reader) takes when the block has no row here.
 */
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'

export class IndexRows {
  readonly #write: SqliteStatement
  readonly #delete: SqliteStatement

  constructor(db: SqliteDatabase) {
    // A block id may be reused once its block is gone: a row left under it is replaced.
    this.#write = db.prepare('INSERT OR REPLACE INTO trace_vals (id, data) VALUES (?, ?)')
    this.#delete = db.prepare('DELETE FROM trace_vals WHERE id = ?')
  }

  write(blockId: number, data: Buffer): void {
    this.#write.run(blockId, data)
  }

  delete(blockId: number): void {
    this.#delete.run(blockId)
  }
}
