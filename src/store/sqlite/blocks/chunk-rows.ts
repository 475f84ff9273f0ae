/**
 * @module store/sqlite/blocks/chunk-rows
 * The body chunks of second-form blocks as rows of `trace_chunks` (see block-schema): written with
 * the block row in the same transaction, deleted with it, read one chunk at a time.
 */
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import { CHUNK_ROW_SPAN } from './block-schema.js'

/** The row id of chunk `chunk` of block `blockId`. */
export function chunkRowId(blockId: number, chunk: number): number {
  return blockId * CHUNK_ROW_SPAN + chunk
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

  /** Writes a block's chunks: `body` cut at `offsets` (each chunk's start, the body's end last). */
  write(blockId: number, body: Uint8Array, offsets: Uint32Array): void {
    const chunks = offsets.length - 1
    if (chunks > CHUNK_ROW_SPAN) throw new RangeError(`a block of ${chunks} chunks`)
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    // No row may be left under a reused block id (a block's rows go with it, in its transaction).
    this.delete(blockId)
    for (let k = 0; k < chunks; k++)
      this.#insert.run(chunkRowId(blockId, k), bytes.subarray(offsets[k], offsets[k + 1]))
  }

  /** Deletes a block's chunks (none for a first-form block). */
  delete(blockId: number): void {
    this.#delete.run(chunkRowId(blockId, 0), chunkRowId(blockId + 1, 0))
  }

  /** One chunk's compressed bytes, or undefined when the row is missing. */
  read(blockId: number, chunk: number): Buffer | undefined {
    const row = this.#select.get(chunkRowId(blockId, chunk)) as { data: Buffer } | undefined
    return row?.data
  }
}
