/**
 * Test helper: every trace of an SQLite file's `trace_blocks`, decoded with the block codec back
 * into the columns of a row-store `traces` row (seq, leaf index, document, indexed values), in seq
 * order; and the checks a block must pass whoever wrote it.
 */
import assert from 'node:assert/strict'
import type { Database } from 'better-sqlite3'
import {
  decodeDims,
  decodeStrings,
  DIM_COLUMNS,
  ranksOf,
  readDocuments,
  valueAt,
} from '../../src/store/sqlite/blocks/block-codec.js'
import {
  CHUNK_ROW_SPAN,
  KEY_BUCKET_SEQS,
  MAX_BLOCK_TRACES,
} from '../../src/store/sqlite/blocks/block-schema.js'
import type { BlockDims } from '../../src/store/sqlite/blocks/block-codec.js'
import { traceKey } from '../../src/store/sqlite/blocks/hashes.js'

/** A trace as a row store held it (the columns a block keeps). */
export interface TraceRow {
  readonly seq: number
  readonly project_id: string
  readonly trace_id: string
  readonly time: number
  readonly leaf_index: number | null
  readonly doc: string
  readonly [column: string]: string | number | null
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
  dims: Buffer
  strs: Buffer
  body: Buffer
}

/**
 * A block's body as the codec reads it: its chunk rows one after the other (asserting they are
 * all there, of the lengths dims give), or a first-form block's `body` column.
 */
export function blockBody(
  db: Database,
  block: { readonly id: number; readonly body: Buffer },
  dims: BlockDims,
): Buffer {
  if (!dims.chunkRows) return block.body
  assert.equal(block.body.length, 0, `block ${block.id}: its chunks are rows, its body is empty`)
  const chunks = db
    .prepare('SELECT id, data FROM trace_chunks WHERE id >= ? AND id < ? ORDER BY id')
    .all(block.id * CHUNK_ROW_SPAN, (block.id + 1) * CHUNK_ROW_SPAN) as {
    id: number
    data: Buffer
  }[]
  assert.deepEqual(
    chunks.map((c) => c.id - block.id * CHUNK_ROW_SPAN),
    Array.from({ length: Math.ceil((dims.chunkOffsets.length - 1) / dims.rowChunks) }, (_, k) => k),
    `block ${block.id}: one row per ${dims.rowChunks} chunks`,
  )
  return Buffer.concat(chunks.map((c) => c.data))
}

/** A block's value index blob: its row of `trace_vals`, or its row's `vals` (before version 11). */
export function blockVals(
  db: Database,
  block: { readonly id: number; readonly vals: Buffer },
): Buffer {
  const row = db.prepare('SELECT data FROM trace_vals WHERE id = ?').get(block.id) as
    { data: Buffer } | undefined
  return row?.data ?? block.vals
}

/** Decodes every block (asserting its row's bounds match its contents) into rows, by seq. */
export function blockRows(db: Database): TraceRow[] {
  const blocks = db.prepare('SELECT * FROM trace_blocks ORDER BY min_seq').all() as BlockRow[]
  const rows: TraceRow[] = []
  for (const block of blocks) {
    const dims = decodeDims(block.dims)
    const strs = decodeStrings(block.strs)
    assert.equal(dims.count, block.count, `block ${block.id}: count`)
    assert.ok(block.count <= MAX_BLOCK_TRACES, `block ${block.id}: at most MAX_BLOCK_TRACES`)
    const ranks = ranksOf(dims)
    const docs = readDocuments(blockBody(db, block, dims), dims, Array.from(ranks))
    const times = Array.from(dims.times)
    assert.equal(block.min_time, Math.min(...times), `block ${block.id}: min_time`)
    assert.equal(block.max_time, Math.max(...times), `block ${block.id}: max_time`)
    for (let p = 0; p < block.count; p++) {
      const seq = block.min_seq + (dims.seqOffsets?.[p] ?? p)
      const row: Record<string, string | number | null> = {
        seq,
        project_id: block.project_id,
        trace_id: strs.traceIds[p] ?? '',
        time: dims.times[p] ?? NaN,
        leaf_index: block.min_leaf === null ? null : block.min_leaf + p,
        doc: docs[p] ?? '',
        resource_id: valueAt(strs.columns.resource_id, p),
        resource_name: valueAt(strs.columns.resource_name, p),
      }
      for (const column of DIM_COLUMNS) row[column] = valueAt(dims.columns[column], p)
      rows.push(row as TraceRow)
    }
    const last = rows.at(-1)
    assert.equal(last?.seq, block.max_seq, `block ${block.id}: max_seq`)
  }
  return rows.sort((a, b) => a.seq - b.seq)
}

/** Asserts `trace_keys` holds exactly one key per trace: its bucket, its hash, its seq. */
export function assertTraceKeys(db: Database, rows: readonly TraceRow[]): void {
  const keys = db.prepare('SELECT bucket, h, seq FROM trace_keys ORDER BY seq').all() as {
    bucket: number
    h: number
    seq: number
  }[]
  assert.deepEqual(
    keys,
    rows.map((row) => ({
      bucket: Math.floor(row.seq / KEY_BUCKET_SEQS),
      h: traceKey(row.project_id, row.trace_id),
      seq: row.seq,
    })),
  )
}
