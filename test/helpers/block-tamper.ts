/**
 * @module test/helpers/block-tamper
 * Test helper: edits an SQLite file of the block layout (schema version 8) behind OpenCTS's back,
 * as someone with the file and the source would: a block is decoded with the block codec, changed
 * and re-encoded with `encodeBlock` (seq offsets kept), and its `trace_blocks` row rewritten with
 * consistent bounds (count, min/max time, min/max seq, min_leaf) so that the store reads it as it
 * would read a block it wrote, its value index (a row of `trace_vals`) included. `trace_keys` is kept in step for
 * deleted and inserted traces.
 *
 * A trace is found by project and leaf index (leaf = min_leaf + position) or by project and trace
 * id; its seq is min_seq + position, or min_seq + seqOffsets[position] in a merged block.
 */
import assert from 'node:assert/strict'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import Database from 'better-sqlite3'
import { MemoryTree } from '../../src/integrity/merkle.js'
import { documentLeafHash } from '../../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../../src/model/index.js'
import {
  decodeDims,
  decodeStrings,
  DIM_COLUMNS,
  encodeBlock,
  ranksOf,
  readDocuments,
  valueAt,
  type BlockEntry,
  type EncodedBlock,
  type PageColumns,
  type DimColumn,
  type StrColumn,
} from '../../src/store/sqlite/blocks/block-codec.js'
import {
  KEY_BUCKET_SEQS,
  MERKLE_MIN_STORED_LEVEL,
} from '../../src/store/sqlite/blocks/block-schema.js'
import { traceKey } from '../../src/store/sqlite/blocks/hashes.js'
import { ChunkRows } from '../../src/store/sqlite/blocks/chunk-rows.js'
import { IndexRows } from '../../src/store/sqlite/blocks/index-rows.js'
import { encodePostings, postingRowId } from '../../src/store/sqlite/blocks/value-postings.js'
import { blockBody, blockVals } from './block-rows.js'
import { entryValues } from '../../src/store/sqlite/blocks/prepare-batch.js'
import {
  decodeValueRows,
  encodeValueRows,
  entryValueRows,
  type ValueRows,
} from '../../src/store/sqlite/blocks/value-index.js'
import { traceDocument } from '../../src/model/trace-leaf.js'

/** One trace of a decoded block: its seq, time, indexed values and stored document. */
export interface TamperTrace {
  seq: number
  time: number
  values: Record<DimColumn | StrColumn, string | null>
  document: string
}

/** A decoded `trace_blocks` row: its traces in position order. */
export interface TamperBlock {
  readonly id: number
  readonly projectId: string
  minLeaf: number | null
  traces: TamperTrace[]
}

interface BlockRow {
  id: number
  project_id: string
  min_leaf: number | null
  min_seq: number
  dims: Buffer
  strs: Buffer
  body: Buffer
  vals: Buffer
}

/** Runs `edit` on the file with the SQLite driver, in one transaction. */
export function tamper<T>(path: string, edit: (db: Database.Database) => T): T {
  const db = new Database(path)
  try {
    return db.transaction(() => edit(db))()
  } finally {
    db.close()
  }
}

function decode(db: Database.Database, row: BlockRow): TamperBlock {
  const dims = decodeDims(row.dims)
  const strs = decodeStrings(row.strs)
  const docs = readDocuments(blockBody(db, row, dims), dims, Array.from(ranksOf(dims)))
  const traces: TamperTrace[] = []
  for (let p = 0; p < dims.count; p++) {
    const values = {
      trace_id: strs.traceIds[p] ?? '',
      resource_id: valueAt(strs.columns.resource_id, p),
      resource_name: valueAt(strs.columns.resource_name, p),
    } as Record<DimColumn | StrColumn, string | null>
    for (const column of DIM_COLUMNS) values[column] = valueAt(dims.columns[column], p)
    traces.push({
      seq: row.min_seq + (dims.seqOffsets?.[p] ?? p),
      time: dims.times[p] ?? 0,
      values,
      document: docs[p] ?? '',
    })
  }
  return { id: row.id, projectId: row.project_id, minLeaf: row.min_leaf, traces }
}

/** Every block of a project, decoded, by min_seq. */
export function projectBlocks(db: Database.Database, projectId: string): TamperBlock[] {
  const rows = db
    .prepare('SELECT * FROM trace_blocks WHERE project_id = ? ORDER BY min_seq')
    .all(projectId) as BlockRow[]
  return rows.map((row) => decode(db, row))
}

/** A trace's block and position. */
export interface TraceAt {
  readonly block: TamperBlock
  readonly position: number
  readonly trace: TamperTrace
}

/** The block and position of a project's leaf (leaf = min_leaf + position). */
export function atLeaf(db: Database.Database, projectId: string, leaf: number): TraceAt {
  for (const block of projectBlocks(db, projectId)) {
    if (block.minLeaf === null) continue
    const position = leaf - block.minLeaf
    const trace = block.traces[position]
    if (position >= 0 && trace !== undefined) return { block, position, trace }
  }
  assert.fail(`leaf ${leaf} of ${projectId} is in no block`)
}

/** The block and position of a project's trace by its id. */
export function atTrace(db: Database.Database, projectId: string, traceId: string): TraceAt {
  for (const block of projectBlocks(db, projectId)) {
    const position = block.traces.findIndex((t) => t.values.trace_id === traceId)
    const trace = block.traces[position]
    if (trace !== undefined) return { block, position, trace }
  }
  assert.fail(`trace ${traceId} of ${projectId} is in no block`)
}

/**
 * Re-encodes a block and rewrites its row (every bound from its traces; min_leaf as the block
 * says). Traces must stay in position order; their seqs need not be ascending (a reorder).
 */
export function writeBlock(db: Database.Database, block: TamperBlock): void {
  const chunks = new ChunkRows(db)
  chunks.delete(block.id)
  if (block.traces.length === 0) {
    db.prepare('DELETE FROM trace_blocks WHERE id = ?').run(block.id)
    new IndexRows(db).delete(block.id)
    return
  }
  const { row, values, enc, vals } = encodeRow(block)
  const changed = db
    .prepare(
      `UPDATE trace_blocks SET project_id = ?, count = ?, min_time = ?, max_time = ?, min_seq = ?,
         max_seq = ?, min_leaf = ?, dims = ?, strs = ?, body = ?, bloom = ?, vals = ? WHERE id = ?`,
    )
    .run(...values, row.id).changes
  assert.equal(changed, 1, `block ${block.id} rewritten`)
  chunks.write(block.id, enc.body, enc.rowOffsets)
  new IndexRows(db).write(block.id, vals)
}

/**
 * Rewrites a block's posting rows (value-postings) from its index as `edit` changes it (the
 * block's `trace_vals` row, its page columns, stays as it is).
 */
export function rewritePostings(
  db: Database.Database,
  block: TamperBlock,
  edit: (rows: ValueRows & { readonly page: PageColumns }) => ValueRows & {
    readonly page: PageColumns
  },
): void {
  const page = decodeValueRows(blockVals(db, { id: block.id, vals: Buffer.alloc(0) })).page
  assert.ok(page !== null, 'a block with page columns')
  const rows = entryValueRows(
    block.projectId,
    block.traces.map((t) => ({ values: t.values })),
    page,
  )
  const buckets = encodePostings(edit({ ...rows, page }))
  const update = db.prepare('UPDATE trace_postings SET data = ? WHERE id = ?')
  buckets.forEach((data, b) =>
    assert.equal(update.run(data, postingRowId(block.id, b)).changes, 1, 'posting row rewritten'),
  )
}

/** Adds a block row (for traces inserted behind the log's back); returns its id. */
export function insertBlock(
  db: Database.Database,
  projectId: string,
  minLeaf: number | null,
  traces: TamperTrace[],
): number {
  const id = insertRow(db, { id: 0, projectId, minLeaf, traces })
  for (const t of traces) addKey(db, projectId, t)
  return id
}

/** Writes a new block row of `block`'s traces; returns its id. */
function insertRow(db: Database.Database, block: TamperBlock): number {
  const { values, enc, vals } = encodeRow(block)
  const id = Number(
    db
      .prepare(
        `INSERT INTO trace_blocks (project_id, count, min_time, max_time, min_seq, max_seq,
           min_leaf, dims, strs, body, bloom, vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(...values).lastInsertRowid,
  )
  new ChunkRows(db).write(id, enc.body, enc.rowOffsets)
  new IndexRows(db).write(id, vals)
  return id
}

function encodeRow(block: TamperBlock): {
  row: TamperBlock
  values: (string | number | null | Buffer)[]
  enc: EncodedBlock
  /** The block's value index (rows of its own; the row's own column stays empty). */
  vals: ValueRows
} {
  const seqs = block.traces.map((t) => t.seq)
  const minSeq = Math.min(...seqs)
  const entries: BlockEntry[] = block.traces.map((t) => ({
    time: t.time,
    values: t.values,
    document: t.document,
    seqOffset: t.seq - minSeq,
  }))
  const enc = encodeBlock(entries)
  return {
    row: block,
    enc,
    values: [
      block.projectId,
      enc.count,
      enc.minTime,
      enc.maxTime,
      minSeq,
      Math.max(...seqs),
      block.minLeaf,
      enc.dims,
      enc.strs,
      Buffer.alloc(0),
      Buffer.from(enc.bloom),
      Buffer.alloc(0),
    ],
    vals: entryValueRows(block.projectId, entries, enc.page),
  }
}

function addKey(db: Database.Database, projectId: string, t: TamperTrace): void {
  db.prepare('INSERT OR IGNORE INTO trace_keys (bucket, h, seq) VALUES (?, ?, ?)').run(
    Math.floor(t.seq / KEY_BUCKET_SEQS),
    traceKey(projectId, t.values.trace_id ?? ''),
    t.seq,
  )
}

function dropKey(db: Database.Database, projectId: string, t: TamperTrace): void {
  const changes = db
    .prepare('DELETE FROM trace_keys WHERE bucket = ? AND h = ? AND seq = ?')
    .run(
      Math.floor(t.seq / KEY_BUCKET_SEQS),
      traceKey(projectId, t.values.trace_id ?? ''),
      t.seq,
    ).changes
  assert.equal(changes, 1, `trace_keys row of seq ${t.seq}`)
}

/** The trace a stored one holds, and its stored document and values from a record. */
export function traceOf(record: TraceRecord, seq: number): TamperTrace {
  return {
    seq,
    time: record.time,
    values: { ...entryValues(record) },
    document: traceDocument(record),
  }
}

/** The record a stored trace holds. */
export function recordOf(trace: TamperTrace): TraceRecord {
  return JSON.parse(trace.document) as TraceRecord
}

/**
 * Edits a leaf's document with `edit`; with `columns`, its indexed values follow the new
 * document (nothing but the log can tell), else they keep the old ones.
 */
export function editDocument(
  db: Database.Database,
  projectId: string,
  leaf: number,
  edit: (document: string) => string,
  options: { columns?: boolean } = {},
): TamperTrace {
  const { block, trace } = atLeaf(db, projectId, leaf)
  const document = edit(trace.document)
  assert.notEqual(document, trace.document, 'the edit changes the document')
  trace.document = document
  if (options.columns === true) {
    const record = recordOf(trace)
    trace.values = { ...entryValues(record) }
    trace.time = record.time
  }
  writeBlock(db, block)
  return trace
}

/** Sets one indexed value of a leaf, so that it disagrees with the document. */
export function setValue(
  db: Database.Database,
  projectId: string,
  leaf: number,
  column: DimColumn | StrColumn,
  value: string | null,
): TamperTrace {
  const { block, trace } = atLeaf(db, projectId, leaf)
  assert.notEqual(trace.values[column], value)
  trace.values[column] = value
  writeBlock(db, block)
  return trace
}

/**
 * Deletes a leaf's trace and its trace_keys row. `shift`: the block closes up (the traces after it
 * take the leaf indexes one lower, as a block without the trace would give them); `split`: the
 * block is cut in two around it, every other trace keeping its leaf index (a careful attacker).
 */
export function deleteTrace(
  db: Database.Database,
  projectId: string,
  leaf: number,
  mode: 'shift' | 'split',
): TamperTrace {
  const { block, position, trace } = atLeaf(db, projectId, leaf)
  dropKey(db, projectId, trace)
  const after = block.traces.slice(position + 1)
  block.traces = block.traces.slice(0, position)
  if (mode === 'shift') block.traces.push(...after)
  if (block.traces.length === 0 && mode === 'split' && after.length > 0) {
    block.traces = after
    block.minLeaf = leaf + 1
    writeBlock(db, block)
    return trace
  }
  writeBlock(db, block)
  if (mode === 'split' && after.length > 0) {
    // The second half keeps its leaves: a row of its own, without new keys (they exist).
    insertRow(db, { id: 0, projectId, minLeaf: leaf + 1, traces: after })
  }
  return trace
}

/** Swaps two leaves' documents (each keeps its seq, trace id and indexed values). */
export function swapDocuments(
  db: Database.Database,
  projectId: string,
  leafA: number,
  leafB: number,
): [TamperTrace, TamperTrace] {
  const a = atLeaf(db, projectId, leafA)
  const b = atLeaf(db, projectId, leafB)
  assert.equal(a.block.id, b.block.id, 'both leaves in one block')
  const ta = a.block.traces[a.position] as TamperTrace
  const tb = a.block.traces[b.position] as TamperTrace
  ;[ta.document, tb.document] = [tb.document, ta.document]
  writeBlock(db, a.block)
  return [ta, tb]
}

/**
 * Swaps two positions of one block with their seqs: leaf A then holds B's trace and B's seq, so
 * that the commit order of the two traces no longer follows their leaf order.
 */
export function reorder(
  db: Database.Database,
  projectId: string,
  leafA: number,
  leafB: number,
): [TamperTrace, TamperTrace] {
  const a = atLeaf(db, projectId, leafA)
  const b = atLeaf(db, projectId, leafB)
  assert.equal(a.block.id, b.block.id, 'both leaves in one block')
  const traces = a.block.traces
  const ta = traces[a.position] as TamperTrace
  const tb = traces[b.position] as TamperTrace
  traces[a.position] = tb
  traces[b.position] = ta
  writeBlock(db, a.block)
  return [ta, tb]
}

/** The highest seq of the file (every block's and trace_head's). */
export function headSeq(db: Database.Database): number {
  const row = db
    .prepare(
      'SELECT max(coalesce((SELECT max(max_seq) FROM trace_blocks), 0), coalesce((SELECT seq FROM trace_head), 0)) AS seq',
    )
    .get() as { seq: number }
  return row.seq
}

/**
 * Inserts a forged trace behind the log's back with the next seq: as a block of its own without a
 * leaf index (`where` = 'block'), or into a logged block so that it holds `leaf` (the traces after
 * it in that block take the leaf indexes one higher; `leaf` may be one past a block's end). Its
 * trace_keys row and trace_head follow.
 */
export function insertTrace(
  db: Database.Database,
  projectId: string,
  record: TraceRecord,
  where: 'block' | { readonly leaf: number },
): TamperTrace {
  const seq = headSeq(db) + 1
  const trace = traceOf(record, seq)
  if (where === 'block') insertBlock(db, projectId, null, [trace])
  else {
    const block = projectBlocks(db, projectId).find(
      (b) =>
        b.minLeaf !== null && where.leaf >= b.minLeaf && where.leaf <= b.minLeaf + b.traces.length,
    )
    assert.ok(block, `a block of ${projectId} reaches leaf ${where.leaf}`)
    block.traces.splice(where.leaf - (block.minLeaf ?? 0), 0, trace)
    writeBlock(db, block)
    addKey(db, projectId, trace)
  }
  db.prepare('UPDATE trace_head SET seq = ? WHERE id = 1').run(seq)
  return trace
}

/** Every logged document of a project, by leaf index. */
export function leafDocuments(db: Database.Database, projectId: string): string[] {
  const docs: string[] = []
  for (const block of projectBlocks(db, projectId))
    if (block.minLeaf !== null)
      block.traces.forEach((t, p) => (docs[(block.minLeaf ?? 0) + p] = t.document))
  return docs
}

/**
 * Rewrites every stored node of the project (levels >= 4) and its tree size from the documents,
 * as whoever rewrote the tree to match an edit would.
 */
export function rewriteTree(db: Database.Database, projectId: string): MemoryTree {
  const tree = new MemoryTree()
  const docs = leafDocuments(db, projectId)
  for (let leaf = 0; leaf < docs.length; leaf++) {
    const doc = docs[leaf]
    assert.ok(doc !== undefined, `leaf ${leaf} of ${projectId} is stored`)
    tree.appendHash(documentLeafHash(doc))
  }
  const update = db.prepare(
    'UPDATE merkle_nodes SET hash = ? WHERE project_id = ? AND level = ? AND idx = ?',
  )
  let rewritten = 0
  let want = 0
  for (let level = MERKLE_MIN_STORED_LEVEL; 2 ** level <= tree.size; level++)
    for (let idx = 0; (idx + 1) * 2 ** level <= tree.size; idx++) {
      want++
      rewritten += update.run(tree.node(level, idx), projectId, level, idx).changes
    }
  assert.equal(rewritten, want, 'every stored node rewritten')
  db.prepare('UPDATE merkle_trees SET size = ? WHERE project_id = ?').run(tree.size, projectId)
  return tree
}

/**
 * Encoded dims as the codec's first form wrote them: no chunk size after the flags (the block must
 * have been encoded with `chunkTraces` documents a chunk; the first form reads 64).
 */
export function firstFormDims(dims: Buffer, chunkTraces = 64): Buffer {
  const raw = inflateRawSync(dims)
  const flagsAt = 1 + 4 + 8
  assert.equal(raw.readUInt32LE(flagsAt + 1), chunkTraces)
  const first = Buffer.concat([raw.subarray(0, flagsAt + 1), raw.subarray(flagsAt + 5)])
  first[flagsAt] = (first[flagsAt] ?? 0) & ~4
  return deflateRawSync(first)
}

/** A value index as schema versions 8 and 9 wrote it: keys (f64), offsets (u32), positions. */
export function firstFormValueRows(rows: ValueRows): Buffer {
  const n = rows.keys.length
  const out = Buffer.alloc(8 + 8 * n + 4 * (n + 1) + 2 * rows.positions.length)
  out.writeUInt32LE(n, 0)
  let at = 8
  for (const a of [rows.keys, rows.offsets, rows.positions]) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at)
    at += a.byteLength
  }
  return out
}

/**
 * Every block of a store re-encoded as schema version 9 wrote it (64 documents a chunk, one chunk a
 * row, no row size in dims), with its value index in their form; `write` stores it.
 */
function toOlderForm(
  path: string,
  write: (db: Database.Database, row: BlockRow, enc: EncodedBlock, vals: Buffer) => void,
): void {
  tamper(path, (db) => {
    const rows = db.prepare('SELECT * FROM trace_blocks').all() as BlockRow[]
    for (const row of rows) {
      const block = decode(db, row)
      const minSeq = Math.min(...block.traces.map((t) => t.seq))
      const enc = encodeBlock(
        block.traces.map((t) => ({
          time: t.time,
          values: t.values,
          document: t.document,
          seqOffset: t.seq - minSeq,
        })),
        64,
        1,
      )
      const entries = block.traces.map((t) => ({ values: t.values }))
      write(db, row, enc, firstFormValueRows(entryValueRows(block.projectId, entries, null)))
    }
    // Before version 11 a block's value index was in its row; before 12 there were no postings.
    db.exec('DROP TABLE trace_vals')
    db.exec('DROP TABLE IF EXISTS trace_postings')
  })
}

/**
 * Turns a store file into what schema version 11 wrote: each block's whole value index (keys and
 * page columns) in its `trace_vals` row, no `trace_postings`; blocks otherwise as they are.
 */
export function toEleventhForm(path: string): void {
  tamper(path, (db) => {
    const rows = db.prepare('SELECT * FROM trace_blocks').all() as BlockRow[]
    const indexes = new IndexRows(db)
    for (const row of rows) {
      const block = decode(db, row)
      const page = decodeValueRows(blockVals(db, row)).page
      const entries = block.traces.map((t) => ({ values: t.values }))
      indexes.writeRow(row.id, encodeValueRows(entryValueRows(block.projectId, entries, page)))
    }
    db.exec('DROP TABLE trace_postings')
    db.prepare("UPDATE meta SET value = '11' WHERE key = 'schema_version'").run()
  })
}

/**
 * Turns a store file into what schema version 10 wrote: each block's value index in its row's
 * `vals` column, no `trace_vals`; blocks otherwise as they are.
 */
export function toTenthForm(path: string): void {
  toEleventhForm(path)
  tamper(path, (db) => {
    const rows = db.prepare('SELECT id, data FROM trace_vals').all() as {
      id: number
      data: Buffer
    }[]
    const update = db.prepare('UPDATE trace_blocks SET vals = ? WHERE id = ?')
    for (const row of rows) assert.equal(update.run(row.data, row.id).changes, 1)
    db.exec('DROP TABLE trace_vals')
    db.prepare("UPDATE meta SET value = '10' WHERE key = 'schema_version'").run()
  })
}

/**
 * Turns a store file into what schema version 8 wrote: every block of the codec's first form
 * (64 documents a chunk, no chunk size in dims, the body in the block row), no `trace_chunks`.
 */
export function toFirstForm(path: string): void {
  toOlderForm(path, (db, row, enc, vals) =>
    db
      .prepare('UPDATE trace_blocks SET dims = ?, body = ?, vals = ? WHERE id = ?')
      .run(firstFormDims(enc.dims), enc.body, vals, row.id),
  )
  tamper(path, (db) => {
    db.exec('DROP TABLE trace_chunks')
    db.prepare("UPDATE meta SET value = '8' WHERE key = 'schema_version'").run()
  })
}

/**
 * Turns a store file into what schema version 9 wrote: every block of the codec's second form
 * (64 documents a chunk, one chunk a row, no row size in dims), value indexes in their form.
 */
export function toSecondForm(path: string): void {
  toOlderForm(path, (db, row, enc, vals) => {
    db.prepare('UPDATE trace_blocks SET dims = ?, vals = ? WHERE id = ?').run(
      enc.dims,
      vals,
      row.id,
    )
    new ChunkRows(db).write(row.id, enc.body, enc.rowOffsets)
  })
  tamper(path, (db) => db.prepare("UPDATE meta SET value = '9' WHERE key = 'schema_version'").run())
}
