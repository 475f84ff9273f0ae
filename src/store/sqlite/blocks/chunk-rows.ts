/**
 * @module store/sqlite/blocks/chunk-rows
 * The body chunks of second-form blocks as rows of `trace_chunks` (see block-schema): written with
 * the block row in the same transaction, deleted with it, read one chunk at a time.
 */
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import { CHUNK_ROW_SPAN } from './block-schema.js'

/** The row id of row `row` (counted from 0) of block `blockId`'s chunks. */
export function chunkRowId(blockId: number, row: number): number {
  return blockId * CHUNK_ROW_SPAN + row
}

export class ChunkRows {
  readonly #insert: SqliteStatement
  readonly #delete: SqliteStatement
  readonly #select: SqliteStatement

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare('INSERT INTO trace_chunks (id, data) VALUES (?, ?)')
    this.#delete = db.prepare('DELETE FROM trace_chunks WHERE id >= ? AND id < ?')
    this.#select = db.prepare('SELECT data FROM trace_chunks WHERE id = ?')
  }

  /** Writes a block's rows: `body` cut at `offsets` (each row's start, the body's end last). */
  write(blockId: number, body: Uint8Array, offsets: Uint32Array): void {
    const rows = offsets.length - 1
    if (rows > CHUNK_ROW_SPAN) throw new RangeError(`a block of ${rows} chunk rows`)
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    // No row may be left under a reused block id (a block's rows go with it, in its transaction).
    this.delete(blockId)
    for (let k = 0; k < rows; k++)
      this.#insert.run(chunkRowId(blockId, k), bytes.subarray(offsets[k], offsets[k + 1]))
  }

  /** Deletes a block's chunks (none for a first-form block). */
  delete(blockId: number): void {
    this.#delete.run(chunkRowId(blockId, 0), chunkRowId(blockId + 1, 0))
  }

  /** One row's bytes (its chunks, compressed), or undefined when it is missing. */
  read(blockId: number, row: number): Buffer | undefined {
    const found = this.#select.get(chunkRowId(blockId, row)) as { data: Buffer } | undefined
    return found?.data
  }
}
