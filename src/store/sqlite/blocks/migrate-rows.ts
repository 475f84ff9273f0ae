/**
 * @module store/sqlite/blocks/migrate-rows
 * The in-place upgrade of a row store (SQLite schema versions 1–7: one `traces` row per trace, 11
 * indexes) to the block layout of schema version 9 (block-schema): every row becomes an entry of a
 * `trace_blocks` row (its chunks rows of `trace_chunks`) and a `trace_keys` row, its document kept byte for byte, its `seq` and leaf
 * index unchanged, so that every Merkle proof and every downstream cursor still holds.
 *
 * Blocks: the rows are read in seq order; a project's consecutive rows (in its own seq order) fill
 * one block of up to MAX_BLOCK_TRACES, `seqOffset` = seq - the block's `min_seq` (the seqs of a
 * project are not contiguous: other projects' rows sit between them). A new block starts where the
 * leaf indexes stop following one by one (a gap while the log was off: NULL leaves, which share
 * blocks of their own), so that in every block leaf = `min_leaf` + position, or all are NULL.
 *
 * Resumable and bounded: the rows are converted in chunks of `chunkRows` (default 100 000), each
 * chunk in its own transaction together with the last seq it converted (`meta`
 * 'migration_8_seq'); a crash loses at most the chunk in progress and the next run resumes after
 * the recorded seq. A chunk ends every project's open block (a few small blocks, merged later like
 * any small block). `traces` is only read until the last chunk is done, so the file stays a valid
 * version-7 store until then; the final transaction sets `trace_head` (the AUTOINCREMENT
 * high-water mark of `traces`, never lower: downstream cursors), drops `traces` with its indexes
 * and records schema version 9; `merkle_nodes` loses its rows below MERKLE_MIN_STORED_LEVEL (recomputed
 * from the blocks' documents from then on). No other table is touched.
 */
import type { SqliteDatabase } from '../sqlite-database.js'
import {
  DIM_COLUMNS,
  documentExtras,
  STR_COLUMNS,
  type BlockEntry,
  type DimColumn,
  type StrColumn,
} from './block-codec.js'
import { BLOCK_TABLES_SQL, KEY_BUCKET_SEQS, MAX_BLOCK_TRACES } from './block-schema.js'
import { ChunkRows } from './chunk-rows.js'
import { IndexRows } from './index-rows.js'
import { traceKey } from './hashes.js'
import { encodeIndexedBlock } from './value-index.js'
import { dropLowMerkleLevels } from '../merkle-low-levels.js'

/** The schema version of the block layout, which this migration records when done. */
export const BLOCK_SCHEMA_VERSION = 13

/** The `meta` key holding the last seq converted by an unfinished migration. */
export const MIGRATION_PROGRESS_KEY = 'migration_8_seq'

/** Rows converted per transaction by default. */
export const DEFAULT_CHUNK_ROWS = 100_000

/** Rows read per statement inside a chunk (better-sqlite3 cannot write while it iterates). */
const PAGE_ROWS = 4_096

/** Called after each chunk is committed: rows converted so far (this run and before), all rows. */
export type MigrationProgress = (done: number, total: number) => void

export interface MigrateRowStoreOptions {
  /** Rows per transaction (default DEFAULT_CHUNK_ROWS). */
  readonly chunkRows?: number
  /**
   * Test and drill hook: stops (returning 'interrupted') after this many chunks are committed, as a
   * crash between two chunks would; the next run resumes.
   */
  readonly stopAfterChunks?: number
}

export interface MigrationResult {
  /** 'done' (or 'nothing' when the file has no `traces` table), 'interrupted' by stopAfterChunks. */
  readonly outcome: 'done' | 'nothing' | 'interrupted'
  /** Rows converted by this run. */
  readonly rows: number
  /** Blocks written by this run. */
  readonly blocks: number
}

/** One `traces` row as the migration reads it (leaf_index NULL in files older than version 5). */
interface Row extends Record<DimColumn | StrColumn, string | null> {
  readonly seq: number
  readonly project_id: string
  readonly time: number
  readonly doc: string
  readonly leaf_index: number | null
}

/** Whether the file still has the row table. */
export function hasRowStore(db: SqliteDatabase): boolean {
  const row = db
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'traces'")
    .get() as { n: number }
  return row.n > 0
}

/** Writes one project's consecutive rows as one block, and their trace-id keys. */
class BlockWriter {
  readonly #insertBlock
  readonly #insertKey
  readonly #chunks: ChunkRows
  readonly #indexes: IndexRows
  blocks = 0

  constructor(db: SqliteDatabase) {
    this.#insertBlock = db.prepare(
      `INSERT INTO trace_blocks
         (project_id, count, min_time, max_time, min_seq, max_seq, min_leaf, dims, strs, body, bloom,
          vals)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#insertKey = db.prepare('INSERT INTO trace_keys (bucket, h, seq) VALUES (?, ?, ?)')
    this.#chunks = new ChunkRows(db)
    this.#indexes = new IndexRows(db)
  }

  write(rows: readonly Row[]): void {
    const first = rows[0]
    const last = rows.at(-1)
    if (first === undefined || last === undefined) return
    const entries: BlockEntry[] = rows.map((row) => ({
      time: row.time,
      values: valuesOf(row),
      document: row.doc,
      seqOffset: row.seq - first.seq,
    }))
    const block = encodeIndexedBlock(first.project_id, entries)
    const id = this.#insertBlock.run(
      first.project_id,
      block.count,
      block.minTime,
      block.maxTime,
      first.seq,
      last.seq,
      first.leaf_index,
      block.dims,
      block.strs,
      Buffer.alloc(0),
      Buffer.from(block.bloom.buffer, block.bloom.byteOffset, block.bloom.byteLength),
      Buffer.alloc(0),
    ).lastInsertRowid
    this.#chunks.write(Number(id), block.body, block.rowOffsets)
    this.#indexes.write(Number(id), block.values)
    for (const row of rows)
      this.#insertKey.run(
        Math.floor(row.seq / KEY_BUCKET_SEQS),
        traceKey(row.project_id, row.trace_id ?? ''),
        row.seq,
      )
    this.blocks++
  }
}

function valuesOf(row: Row): BlockEntry['values'] {
  const values = {} as Record<DimColumn | StrColumn, string | null>
  for (const column of DIM_COLUMNS) values[column] = row[column]
  for (const column of STR_COLUMNS) values[column] = row[column]
  return { ...values, ...documentExtras(row.doc) }
}

/** Whether `row` may follow `previous` in its block (leaf indexes one by one, or both NULL). */
function continues(previous: Row, row: Row, blockFirst: Row, size: number): boolean {
  if (size >= MAX_BLOCK_TRACES) return false
  // Seq offsets are 32-bit in the codec.
  if (row.seq - blockFirst.seq > 0xffff_ffff) return false
  if (previous.leaf_index === null || row.leaf_index === null)
    return previous.leaf_index === null && row.leaf_index === null
  return row.leaf_index === previous.leaf_index + 1
}

function progressSeq(db: SqliteDatabase): number {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(MIGRATION_PROGRESS_KEY) as
    { value: string } | undefined
  return row === undefined ? 0 : Number(row.value)
}

function setMeta(db: SqliteDatabase, key: string, value: string): void {
  db.prepare(
    `INSERT INTO meta (key, value) VALUES (?, ?)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  ).run(key, value)
}

/** The SELECT of the rows after a seq (the column list of whichever version the file is). */
function rowQuery(db: SqliteDatabase): string {
  const present = new Set(
    (db.prepare('PRAGMA table_info(traces)').all() as { name: string }[]).map((c) => c.name),
  )
  const leaf = present.has('leaf_index') ? 'leaf_index' : 'NULL AS leaf_index'
  const columns = [...DIM_COLUMNS, ...STR_COLUMNS].filter((c) => c !== 'trace_id')
  return `SELECT seq, project_id, trace_id, time, doc, ${leaf}, ${columns.join(', ')}
          FROM traces WHERE seq > ? ORDER BY seq LIMIT ?`
}

/**
 * Converts up to `limit` rows after `afterSeq` in one transaction, records the last seq converted,
 * and returns it with the rows converted (0: nothing left).
 */
function convertChunk(
  db: SqliteDatabase,
  afterSeq: number,
  limit: number,
  writer: BlockWriter,
): { lastSeq: number; rows: number } {
  const select = db.prepare(rowQuery(db))
  return db.transaction(() => {
    const open = new Map<string, Row[]>()
    let lastSeq = afterSeq
    let rows = 0
    while (rows < limit) {
      const page = select.all(lastSeq, Math.min(PAGE_ROWS, limit - rows)) as Row[]
      for (const row of page) {
        const block = open.get(row.project_id)
        const previous = block?.at(-1)
        if (block === undefined || previous === undefined) open.set(row.project_id, [row])
        else if (continues(previous, row, block[0] ?? row, block.length)) block.push(row)
        else {
          writer.write(block)
          open.set(row.project_id, [row])
        }
        lastSeq = row.seq
      }
      rows += page.length
      if (page.length === 0) break
    }
    for (const block of open.values()) writer.write(block)
    if (rows > 0) setMeta(db, MIGRATION_PROGRESS_KEY, String(lastSeq))
    return { lastSeq, rows }
  })()
}

/**
 * The last step, in one transaction: `trace_head` = the highest seq `traces` ever handed out
 * (never lower than a head already there), `traces` and its indexes dropped, version 9 recorded.
 */
function finish(db: SqliteDatabase): void {
  db.transaction(() => {
    const sequence = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'traces'").get() as
      { seq: number } | undefined
    const max = db.prepare('SELECT max(seq) AS m FROM traces').get() as { m: number | null }
    const head = db.prepare('SELECT seq FROM trace_head WHERE id = 1').get() as
      { seq: number } | undefined
    const seq = Math.max(sequence?.seq ?? 0, max.m ?? 0, head?.seq ?? 0)
    db.prepare(
      `INSERT INTO trace_head (id, seq) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET seq = excluded.seq`,
    ).run(seq)
    db.exec('DROP TABLE traces')
    // The leaves and small subtrees are recomputed from the blocks from now on.
    dropLowMerkleLevels(db)
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'traces'").run()
    db.prepare('DELETE FROM meta WHERE key = ?').run(MIGRATION_PROGRESS_KEY)
    setMeta(db, 'schema_version', String(BLOCK_SCHEMA_VERSION))
  })()
}

/**
 * Upgrades a row store in place to the block layout (see the module comment); resumes an
 * interrupted upgrade; does nothing when the file has no `traces` table. `onProgress` is called
 * after every committed chunk. Must not run inside a transaction (each chunk commits its own).
 * Driver errors (a full disk, a damaged file) are thrown as they are, for the opener to convert;
 * whatever was committed stays, and the next run resumes from it.
 */
export function migrateRowStore(
  db: SqliteDatabase,
  onProgress?: MigrationProgress,
  options: MigrateRowStoreOptions = {},
): MigrationResult {
  if (!hasRowStore(db)) return { outcome: 'nothing', rows: 0, blocks: 0 }
  const chunkRows = Math.max(1, Math.trunc(options.chunkRows ?? DEFAULT_CHUNK_ROWS))
  db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);')
  db.exec(BLOCK_TABLES_SQL)
  const writer = new BlockWriter(db)
  let lastSeq = progressSeq(db)
  const total = (db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n
  let done = (
    db.prepare('SELECT count(*) AS n FROM traces WHERE seq <= ?').get(lastSeq) as { n: number }
  ).n
  let rows = 0
  let chunks = 0
  onProgress?.(done, total)
  for (;;) {
    if (options.stopAfterChunks !== undefined && chunks >= options.stopAfterChunks)
      return { outcome: 'interrupted', rows, blocks: writer.blocks }
    const chunk = convertChunk(db, lastSeq, chunkRows, writer)
    if (chunk.rows === 0) break
    lastSeq = chunk.lastSeq
    rows += chunk.rows
    done += chunk.rows
    chunks++
    onProgress?.(done, total)
  }
  finish(db)
  return { outcome: 'done', rows, blocks: writer.blocks }
}
