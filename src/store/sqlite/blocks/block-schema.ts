/**
 * @module store/sqlite/blocks/block-schema
 * The tables of the block layout (schema versions 8 to 11 of the SQLite store), which replace the
 * row-per-trace `traces` table of versions 1–7:
 *
 * - `trace_blocks`: one row per block (store/sqlite/blocks/block-codec). A block holds traces of one
 *   project; `min_seq`/`max_seq` bound their commit positions (a fresh block's seqs are
 *   `min_seq + position`, a merged block lists its offsets in `dims`); `min_leaf` is the leaf index
 *   of its first trace in the project's Merkle log, the others following one by one (NULL: stored
 *   while the log was off). A project's blocks never overlap in seq, and in leaf order they are in
 *   seq order. `vals` is the block's exact index of resource ids and names (value-index). The blobs are in the order they are
 *   read most, smallest first: SQLite reaches a column past the row's first page by walking the
 *   overflow pages of every column before it (a `vals` after the ~200 KB body cost a resource query
 *   most of its time), so `bloom` (read at open), `dims` (every page), `vals`, `strs`, `body`.
 *   `body` holds the documents of a block of the codec's first form only (version 8); since version
 *   9 it is empty and the block's compressed chunks are rows of `trace_chunks`.
 * - `trace_chunks` (version 9): a block's body chunks, `id` = block id × CHUNK_ROW_SPAN + row
 *   number, so that a page returning a few traces of a block reads a few KB instead of walking the
 *   whole body (SQLite reads a blob, even for `substr`, by walking all of its overflow pages).
 *   Version 9 wrote one 64-document chunk a row; since version 10 a row holds four 16-document
 *   chunks (~12 KB, as before: a row's first part fills a leaf page and the rest whole overflow
 *   pages, while a 3 KB row would leave a fifth of its page empty), so a page returning one
 *   document decompresses 16 (dims and page columns say how a block's rows are cut).
 * - `trace_vals` (version 11): each block's value index (`id` = the block's id), in a table of
 *   its own so that a resource page reads it without walking the overflow pages of the block's
 *   `dims` (SQLite reaches a column by walking those of every column before it): a cold read was
 *   ~16 pages, now ~8. Blocks written before keep theirs in `trace_blocks.vals`, read as they are;
 *   since version 11 that column is empty.
 * - `trace_postings` (version 12): the value index of a block with page columns cut by key into
 *   small rows (`id` = block id × POSTING_SPAN + bucket, value-postings) that also say where each
 *   listed trace's document is, so that a resource page reads a fraction of a page and one chunk
 *   row per block; that block's `trace_vals` row then keeps only its page columns.
 * - `trace_keys`: the exact trace-id index, one row per stored trace: `bucket` = floor(seq /
 *   KEY_BUCKET_SEQS) keeps every insert inside the newest part of the B-tree (a random key over the
 *   whole table is what capped the row store), `h` = traceKey(project_id, trace_id). A lookup probes
 *   each bucket and checks the stored id.
 * - `trace_head`: the highest seq ever committed (never goes back, even when retention drops the
 *   newest blocks' neighbours): downstream cursors rely on it.
 */

/** Seqs per `trace_keys.bucket`. */
export const KEY_BUCKET_SEQS = 65_536

/** Traces a block holds at most (merging stops there). */
export const MAX_BLOCK_TRACES = 2_048

/**
 * `merkle_nodes` keeps the subtrees of this level and above; the lower ones (the leaves and the
 * subtrees of up to 8 leaves) are recomputed from the documents in the blocks when read.
 */
export const MERKLE_MIN_STORED_LEVEL = 4

/** Chunk row ids a block owns: [id × CHUNK_ROW_SPAN, (id + 1) × CHUNK_ROW_SPAN). */
export const CHUNK_ROW_SPAN = 4_096

export const BLOCK_TABLES_SQL = `
CREATE TABLE IF NOT EXISTS trace_blocks (
  id INTEGER PRIMARY KEY,
  project_id TEXT NOT NULL,
  count INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL,
  min_seq INTEGER NOT NULL,
  max_seq INTEGER NOT NULL,
  min_leaf INTEGER,
  bloom BLOB NOT NULL,
  dims BLOB NOT NULL,
  vals BLOB NOT NULL,
  strs BLOB NOT NULL,
  body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_blocks_by_seq ON trace_blocks (max_seq);
CREATE INDEX IF NOT EXISTS trace_blocks_by_project ON trace_blocks (project_id, min_seq);
CREATE TABLE IF NOT EXISTS trace_chunks (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS trace_vals (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS trace_postings (
  id INTEGER PRIMARY KEY,
  data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS trace_keys (
  bucket INTEGER NOT NULL,
  h INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (bucket, h, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trace_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
`
