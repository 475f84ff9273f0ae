/**
 * @module store/sqlite/blocks/block-writer
 * The write statements of the block store, inside the caller's transaction: a prepared batch's
 * blocks (duplicates dropped, seqs and leaves assigned), the merge of a project's small blocks, and
 * retention's block drops. Each returns what the in-memory state must learn once the transaction
 * committed (`Staged`); nothing in memory changes here.
 *
 * Merging: after a small block (< SMALL_BLOCK traces: self-audit traces, small batches, small
 * tenants) is written, the project's newest run of small blocks of the same UTC day whose leaves
 * follow on (or which all have none) is rewritten as one block once it counts MERGE_RUN blocks,
 * keeping every seq (dims list the offsets) and leaf: at most MAX_BLOCK_TRACES traces per append.
 */
import type { AppendResult, MerkleHashing, PreparedBatch } from '../../store.js'
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import type { MerkleBatch } from '../sqlite-merkle-store.js'
import {
  DIM_COLUMNS,
  decodeDims,
  decodeStrings,
  ranksOf,
  readDocuments,
  valueAt,
  extrasAt,
  type BlockEntry,
  type EncodedBlock,
} from './block-codec.js'
import type { BlockDirectory, BlockMeta } from './block-directory.js'
import { seqAt, type BlockReader } from './block-reader.js'
import { MAX_BLOCK_TRACES } from './block-schema.js'
import { ChunkRows } from './chunk-rows.js'
import { IndexRows } from './index-rows.js'
import { traceKey } from './hashes.js'
import type { KeyIndex } from './key-index.js'
import { encodeIndexedBlock, type ValueRows } from './value-index.js'
import {
  prepareBlock,
  upsertsOf,
  type BatchItem,
  type BlockBatchPayload,
  type PreparedBlock,
} from './prepare-batch.js'

/** Blocks with fewer traces are merged. */
export const SMALL_BLOCK = 256
/** Small blocks merged at once. */
export const MERGE_RUN = 8

const DAY_MS = 86_400_000

/** The in-memory changes of one transaction. */
export interface Staged {
  readonly add: Map<number, BlockMeta>
  readonly remove: Set<number>
  readonly keys: number[]
  /** A block the transaction wrote (to tell, later, whether it committed). */
  probe: { readonly id: number; readonly minSeq: number } | undefined
}

/** Per block of a batch, the positions whose id is stored; the stored leaf of each such id. */
interface Duplicates {
  readonly dups: Set<number>[]
  readonly leafIndexes: Map<string, number | null>
}

/** Finds a stored trace (the store's key index lookup). */
export type Locate = (
  projectId: string,
  traceId: string,
  h: number,
) => { meta: BlockMeta; position: number } | undefined

/** The `body` (and `vals`) of a block row whose chunks (and value index) are rows of their own. */
const EMPTY = Buffer.alloc(0)

function bytes(a: Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

/** The traces of a prepared block, position order, with their leaf hashes. */
export function entriesOfPrepared(block: PreparedBlock): BatchItem[] {
  const dims = decodeDims(bytes(block.dims))
  const strs = decodeStrings(bytes(block.strs))
  const docs = readDocuments(bytes(block.body), dims, Array.from(ranksOf(dims)))
  return Array.from({ length: block.count }, (_, p) => {
    const values: Record<string, string | null> = {
      trace_id: strs.traceIds[p] ?? '',
      resource_id: valueAt(strs.columns.resource_id, p),
      resource_name: valueAt(strs.columns.resource_name, p),
    }
    for (const column of DIM_COLUMNS) values[column] = valueAt(dims.columns[column], p)
    Object.assign(values, extrasAt(dims, p, docs[p] ?? ''))
    const h = block.hashLength
    return {
      entry: {
        time: dims.times[p] ?? 0,
        values: values as BlockEntry['values'],
        document: docs[p] ?? '',
      },
      leafHash: block.leafHashes === null ? null : block.leafHashes.subarray(p * h, (p + 1) * h),
    }
  })
}

export class BlockWriter {
  readonly #dir: BlockDirectory
  readonly #reader: BlockReader
  readonly #keys: KeyIndex
  readonly #locate: Locate
  readonly #insertBlock: SqliteStatement
  readonly #deleteBlock: SqliteStatement
  readonly #chunks: ChunkRows
  readonly #indexes: IndexRows
  readonly #setHead: SqliteStatement
  readonly #upsertOperator: SqliteStatement
  readonly #upsertCatalogue: SqliteStatement

  constructor(
    db: SqliteDatabase,
    dir: BlockDirectory,
    reader: BlockReader,
    keys: KeyIndex,
    locate: Locate,
  ) {
    this.#dir = dir
    this.#reader = reader
    this.#keys = keys
    this.#locate = locate
    this.#insertBlock = db.prepare(
      `INSERT INTO trace_blocks (project_id, count, min_time, max_time, min_seq, max_seq, min_leaf,
         dims, strs, body, bloom, vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#deleteBlock = db.prepare('DELETE FROM trace_blocks WHERE id = ?')
    this.#chunks = new ChunkRows(db)
    this.#indexes = new IndexRows(db)
    this.#setHead = db.prepare(
      `INSERT INTO trace_head (id, seq) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET seq = max(seq, excluded.seq)`,
    )
    this.#upsertOperator = db.prepare(
      `INSERT INTO operators (project_id, user_name, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (project_id, user_name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    )
    this.#upsertCatalogue = db.prepare(
      `INSERT INTO catalogue (project_id, service_type, resource_type, trace_name, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    )
  }

  #insert(
    projectId: string,
    block: Pick<EncodedBlock, 'count' | 'minTime' | 'maxTime' | 'bloom' | 'rowOffsets'> & {
      dims: Uint8Array
      strs: Uint8Array
      body: Uint8Array
      values: ValueRows
    },
    minSeq: number,
    maxSeq: number,
    minLeaf: number | null,
  ): BlockMeta {
    const id = Number(
      this.#insertBlock.run(
        projectId,
        block.count,
        block.minTime,
        block.maxTime,
        minSeq,
        maxSeq,
        minLeaf,
        bytes(block.dims),
        bytes(block.strs),
        EMPTY,
        bytes(block.bloom),
        EMPTY,
      ).lastInsertRowid,
    )
    // The value index first, then the chunk rows: their pages follow it in the file, so the read-
    // ahead of a cold index read often brings the chunk a resource page reads next (2 M store,
    // file cache dropped: 100 resource pages of 200 spent 206–253 ms in chunk reads, 365–385 with
    // the chunks written first).
    this.#indexes.write(id, block.values)
    this.#chunks.write(id, block.body, block.rowOffsets)
    return {
      id,
      projectId,
      count: block.count,
      minTime: block.minTime,
      maxTime: block.maxTime,
      minSeq,
      maxSeq,
      minLeaf,
      bloom: new Uint8Array(block.bloom),
    }
  }

  /**
   * Writes prepared batches (one per project) after `head`; `log` appends the leaves when the
   * Merkle log is on. Returns each project's AppendResult and the staged changes.
   */
  write(
    batches: readonly PreparedBatch[],
    head: number,
    log: MerkleBatch | undefined,
    hashing: MerkleHashing | undefined,
  ): { results: Map<string, AppendResult>; staged: Staged } {
    const staged: Staged = { add: new Map(), remove: new Set(), keys: [], probe: undefined }
    const results = new Map<string, AppendResult>()
    // Every duplicate is found before the first write (a merge below may rewrite stored blocks).
    const found = batches.map((batch) => this.#duplicates(batch, log !== undefined))
    let seq = head
    batches.forEach((batch, b) => {
      const projectId = batch.projectId
      const payload = batch.payload as BlockBatchPayload
      const { dups, leafIndexes } = found[b] as Duplicates
      const fresh = new Set<string>()
      const written: PreparedBlock[] = []
      payload.blocks.forEach((prepared, k) => {
        const block = this.#withoutDuplicates(
          projectId,
          prepared,
          dups[k] ?? new Set(),
          log,
          hashing,
        )
        if (block === undefined) return
        written.push(block)
        const minLeaf = log === undefined ? null : log.nextIndex(projectId)
        if (log !== undefined)
          for (let p = 0; p < block.count; p++) {
            const h = block.hashLength
            log.append(
              projectId,
              '',
              bytes(block.leafHashes?.subarray(p * h, (p + 1) * h) ?? new Uint8Array()),
            )
          }
        const meta = this.#insert(projectId, block, seq + 1, seq + block.count, minLeaf)
        this.#keys.insert(block.keys, seq + 1)
        seq += block.count
        staged.add.set(meta.id, meta)
        for (const h of block.keys) staged.keys.push(h)
        staged.probe = { id: meta.id, minSeq: meta.minSeq }
        block.traceIds.forEach((id, p) => {
          fresh.add(id)
          if (minLeaf !== null) leafIndexes.set(id, minLeaf + p)
        })
        if (block.count < SMALL_BLOCK) this.#maybeMerge(projectId, staged)
      })
      // Re-reported ids are rare: then the upserts are those of the traces stored.
      const upserts = dups.some((d) => d.size > 0)
        ? upsertsOf(
            written
              .flatMap(entriesOfPrepared)
              .map((i) => ({ ...i.entry.values, time: i.entry.time })),
          )
        : payload
      for (const [user, time] of upserts.operators) this.#upsertOperator.run(projectId, user, time)
      for (const [s, r, n, time] of upserts.catalogue)
        this.#upsertCatalogue.run(projectId, s, r, n, time)
      results.set(projectId, resultOf(batch.traceIds, fresh, leafIndexes))
    })
    if (seq > head) this.#setHead.run(seq)
    return { results, staged }
  }

  /** The positions of each block of a batch whose id is stored, and their stored leaves. */
  #duplicates(batch: PreparedBatch, withLog: boolean): Duplicates {
    const leafIndexes = new Map<string, number | null>()
    const dups = (batch.payload as BlockBatchPayload).blocks.map((block) => {
      const set = new Set<number>()
      for (let p = 0; p < block.count; p++) {
        const id = block.traceIds[p] ?? ''
        const at = this.#locate(batch.projectId, id, block.keys[p] ?? 0)
        if (at === undefined) continue
        set.add(p)
        if (withLog)
          leafIndexes.set(id, at.meta.minLeaf === null ? null : at.meta.minLeaf + at.position)
      }
      return set
    })
    return { dups, leafIndexes }
  }

  /**
   * The block to write: `prepared` itself, or re-encoded without the stored ids (undefined when
   * none is left) and with leaf hashes when the log is on and it came without them.
   */
  #withoutDuplicates(
    projectId: string,
    prepared: PreparedBlock,
    dups: ReadonlySet<number>,
    log: MerkleBatch | undefined,
    hashing: MerkleHashing | undefined,
  ): PreparedBlock | undefined {
    if (dups.size === 0 && (log === undefined || prepared.leafHashes !== null)) return prepared
    const items = entriesOfPrepared(prepared)
      .filter((_, p) => !dups.has(p))
      .map((i) => ({
        ...i,
        leafHash:
          log === undefined ? null : (i.leafHash ?? hashing?.leafHash(i.entry.document) ?? null),
      }))
    return items.length === 0 ? undefined : prepareBlock(projectId, items)
  }

  /** See the module comment. */
  #maybeMerge(projectId: string, staged: Staged): void {
    const blocks = [
      ...this.#dir.project(projectId).filter((b) => !staged.remove.has(b.id)),
      ...[...staged.add.values()].filter((b) => b.projectId === projectId),
    ].sort((a, b) => a.minSeq - b.minSeq)
    const last = blocks.at(-1)
    if (last === undefined) return
    const day = Math.floor(last.minTime / DAY_MS)
    const run: BlockMeta[] = []
    let total = 0
    for (let i = blocks.length - 1; i >= 0; i--) {
      const b = blocks[i] as BlockMeta
      const next = run[0]
      if (b.count >= SMALL_BLOCK || total + b.count > MAX_BLOCK_TRACES) break
      if (Math.floor(b.minTime / DAY_MS) !== day || Math.floor(b.maxTime / DAY_MS) !== day) break
      if (next !== undefined) {
        const follows =
          (b.minLeaf === null && next.minLeaf === null) ||
          (b.minLeaf !== null && next.minLeaf !== null && b.minLeaf + b.count === next.minLeaf)
        if (!follows) break
      }
      run.unshift(b)
      total += b.count
    }
    if (run.length < MERGE_RUN) return
    const first = run[0] as BlockMeta
    const entries: BlockEntry[] = []
    for (const b of run) {
      const { entries: es, seqs } = this.#reader.entries(b)
      es.forEach((e, i) => entries.push({ ...e, seqOffset: (seqs[i] ?? 0) - first.minSeq }))
    }
    const merged = this.#insert(
      projectId,
      encodeIndexedBlock(projectId, entries),
      first.minSeq,
      last.maxSeq,
      first.minLeaf,
    )
    for (const b of run) {
      this.#deleteBlock.run(b.id)
      this.#chunks.delete(b.id)
      this.#indexes.delete(b.id)
      this.#reader.forget(b.id)
      if (!staged.add.delete(b.id)) staged.remove.add(b.id)
    }
    staged.add.set(merged.id, merged)
    staged.probe = { id: merged.id, minSeq: merged.minSeq }
  }

  /**
   * Drops `expired` blocks (oldest first) up to `maxRows` traces; the last one, when larger than
   * what is left, loses its first positions only. Returns the traces purged.
   */
  purge(expired: readonly BlockMeta[], maxRows: number): { purged: number; staged: Staged } {
    const staged: Staged = { add: new Map(), remove: new Set(), keys: [], probe: undefined }
    let left = maxRows
    for (const meta of expired) {
      if (left <= 0) break
      const drop = Math.min(left, meta.count)
      const dims = this.#reader.dims(meta)
      const ids = this.#reader.strs(meta).traceIds
      for (let p = 0; p < drop; p++)
        this.#keys.delete(traceKey(meta.projectId, ids[p] ?? ''), seqAt(meta, dims, p))
      if (drop < meta.count) {
        const { entries, seqs } = this.#reader.entries(meta)
        const minSeq = seqs[drop] ?? 0
        const rest = entries
          .slice(drop)
          .map((e, i) => ({ ...e, seqOffset: (seqs[drop + i] ?? 0) - minSeq }))
        const kept = this.#insert(
          meta.projectId,
          encodeIndexedBlock(meta.projectId, rest),
          minSeq,
          meta.maxSeq,
          meta.minLeaf === null ? null : meta.minLeaf + drop,
        )
        staged.add.set(kept.id, kept)
      }
      this.#deleteBlock.run(meta.id)
      this.#chunks.delete(meta.id)
      this.#indexes.delete(meta.id)
      staged.remove.add(meta.id)
      left -= drop
    }
    return { purged: maxRows - left, staged }
  }

  /** The indexed values of a stored position (dims and strs). */
  valuesAt(meta: BlockMeta, position: number): Record<string, string | null> {
    const dims = this.#reader.dims(meta)
    const strs = this.#reader.strs(meta)
    const values: Record<string, string | null> = {
      trace_id: strs.traceIds[position] ?? null,
      resource_id: valueAt(strs.columns.resource_id, position),
      resource_name: valueAt(strs.columns.resource_name, position),
    }
    for (const column of DIM_COLUMNS) values[column] = valueAt(dims.columns[column], position)
    return values
  }
}

function resultOf(
  traceIds: readonly string[],
  fresh: Set<string>,
  leafIndexes: Map<string, number | null>,
): AppendResult {
  const inserted: string[] = []
  const duplicates: string[] = []
  for (const id of traceIds) {
    if (fresh.delete(id)) inserted.push(id)
    else duplicates.push(id)
  }
  return { inserted, duplicates, leafIndexes }
}
