/**
 * @module store/sqlite/blocks/block-reader
 * Reads the parts of a block: `dims` and `strs` through bounded LRU caches (every scan reads dims;
 * strs only for id lookups, resource filters and audits), documents by the body chunks they fall
 * in (rows of `trace_chunks`; a version-8 block's whole body), activity rollups, value indexes, and
 * whole blocks back as entries (to merge, purge part of, or re-encode them).
 */
import { brotliDecompressSync } from 'node:zlib'
import { OpenCtsError } from '../../../errors/index.js'
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import {
  chunkInRow,
  DIM_COLUMNS,
  decodeDims,
  decodeStrings,
  dimsLayout,
  pageLayout,
  ranksOf,
  readDocuments,
  readDocumentsFrom,
  valueAt,
  extrasAt,
  AddressColumn,
  decodeExtras,
  extraColumns,
  type BlockDims,
  type DictColumn,
  type ExtraColumn,
  type BlockEntry,
  type BlockStrings,
  type DocumentLayout,
  type PageColumns,
} from './block-codec.js'
import { buildRollup, RollupValues, type BlockRollup } from './block-rollup.js'
import { ChunkRows } from './chunk-rows.js'
import type { BlockMeta } from './block-directory.js'
import { decodeValueRows, valueRowsBytes, type ValueRows } from './value-index.js'
import {
  bucketOf,
  decodePostingBucket,
  postingBucketBytes,
  postingBuckets,
  postingRowId,
  POSTING_SPAN,
  postingsOf,
  type DocumentPlace,
  type PostingBucket,
  type Postings,
} from './value-postings.js'

/** A map that keeps its most recently used entries within a byte budget. */
class Lru<V> {
  readonly #map = new Map<number, { value: V; bytes: number }>()
  readonly #budget: number
  #bytes = 0

  constructor(budget: number) {
    this.#budget = budget
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes
  }

  get(key: number): V | undefined {
    const hit = this.#map.get(key)
    if (hit === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, hit)
    return hit.value
  }

  set(key: number, value: V, bytes: number): void {
    this.delete(key)
    this.#map.set(key, { value, bytes })
    this.#bytes += bytes
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.#budget) break
      this.#map.delete(k)
      this.#bytes -= v.bytes
    }
  }

  delete(key: number): void {
    const hit = this.#map.get(key)
    if (hit === undefined) return
    this.#map.delete(key)
    this.#bytes -= hit.bytes
  }
}

/**
 * Decoded dims and strs held at most (bytes, estimated). Pages walk the dims of a tenant's blocks
 * (about 35 bytes per trace: 1.9 M traces at 64 MiB) when neither a rollup (rollup filters) nor a
 * value index (resource filters) gives their matches; activity counts read rollups instead; strs
 * are read for id lookups (one block each) and audits. Both were larger (96 and 32 MiB) before
 * rollups and page columns served those pages: the server's RSS while queried is what they
 * cost (635 MiB in the 10 M bench with them, target < 600).
 */
export const DIMS_CACHE_BYTES = 64 * 1024 * 1024
export const STRS_CACHE_BYTES = 16 * 1024 * 1024
/**
 * Extra columns decoded alone held at most (bytes; ~40 a trace of mostly distinct source IPs):
 * counts over source IPs under a filter the rollups decide read these, not whole dims (a large
 * project's day is ~10 MB of them).
 */
export const EXTRAS_CACHE_BYTES = 24 * 1024 * 1024
/** Decoded value indexes held at most (bytes). */
export const VALS_CACHE_BYTES = 32 * 1024 * 1024
/** Decoded posting rows held at most (bytes; ~1 KB a row, 16 bytes a posting). */
export const POSTINGS_CACHE_BYTES = 16 * 1024 * 1024
/**
 * Activity rollups held at most (bytes; 16 bytes a row, ~290 rows per 1,000 bench traces, plus 5
 * bytes a trace for its row, user and code).
 */
export const ROLLUP_CACHE_BYTES = 128 * 1024 * 1024

/** Memory of a list of strings: a header and two bytes per UTF-16 unit each (V8, roughly). */
function stringsBytes(list: readonly (string | null)[]): number {
  let bytes = 0
  for (const s of list) bytes += 16 + 2 * (s?.length ?? 0)
  return bytes
}

/** Memory of decoded dims: their typed arrays and dictionary strings. */
function dimsBytes(dims: BlockDims): number {
  let bytes =
    dims.times.byteLength +
    dims.order.byteLength +
    (dims.seqOffsets?.byteLength ?? 0) +
    dims.docLengths.byteLength +
    dims.chunkOffsets.byteLength
  for (const column of DIM_COLUMNS) {
    const { dict, ids } = dims.columns[column]
    bytes += ids.byteLength + stringsBytes(dict)
  }
  return bytes
}

/** Memory of decoded strs. */
function strsBytes(strs: BlockStrings): number {
  const { resource_id: id, resource_name: name } = strs.columns
  return (
    stringsBytes(strs.traceIds) +
    id.ids.byteLength +
    stringsBytes(id.dict) +
    name.ids.byteLength +
    stringsBytes(name.dict)
  )
}

/** Memory of decoded extra columns (an address column's strings are not made for this). */
function extrasBytes(extras: Readonly<Record<ExtraColumn, DictColumn>>): number {
  let bytes = 0
  for (const column of [extras.source_ip, extras.code])
    bytes +=
      column instanceof AddressColumn
        ? column.bytes
        : column.ids.byteLength + stringsBytes(column.dict)
  return bytes
}

function damaged(meta: BlockMeta, part: string, error: unknown): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_READ_FAILED', {
    message: `trace block ${meta.id} of project ${meta.projectId}: ${part} unreadable (${String(error)})`,
    cause: error,
  })
}

export class BlockReader {
  readonly #dims = new Lru<BlockDims>(DIMS_CACHE_BYTES)
  readonly #strs = new Lru<BlockStrings>(STRS_CACHE_BYTES)
  readonly #rollups = new Lru<BlockRollup>(ROLLUP_CACHE_BYTES)
  readonly #extras = new Lru<Readonly<Record<ExtraColumn, DictColumn>> | null>(EXTRAS_CACHE_BYTES)
  readonly #vals = new Lru<ValueRows>(VALS_CACHE_BYTES)
  /** Decoded posting rows by row id; null: the block has none (written before version 12). */
  readonly #postings = new Lru<PostingBucket | null>(POSTINGS_CACHE_BYTES)
  readonly #selectPosting: SqliteStatement
  readonly #selectVals: SqliteStatement
  /** The global value ids of the rollups. */
  readonly rollupValues = new RollupValues()
  readonly #ranks = new WeakMap<BlockDims, Uint32Array>()
  readonly #pageLayouts = new WeakMap<PageColumns, DocumentLayout>()
  readonly #selectDims: SqliteStatement
  readonly #selectStrs: SqliteStatement
  readonly #selectBody: SqliteStatement
  readonly #chunkRows: ChunkRows

  constructor(db: SqliteDatabase) {
    this.#selectDims = db.prepare('SELECT dims FROM trace_blocks WHERE id = ?')
    this.#selectStrs = db.prepare('SELECT strs FROM trace_blocks WHERE id = ?')
    this.#selectBody = db.prepare('SELECT body FROM trace_blocks WHERE id = ?')
    this.#chunkRows = new ChunkRows(db)
    this.#selectPosting = db.prepare('SELECT data FROM trace_postings WHERE id = ?')
    // A row of trace_vals (version 11), or the block row's own column (written before).
    this.#selectVals = db.prepare(
      `SELECT coalesce(v.data, b.vals) AS vals FROM trace_blocks b
       LEFT JOIN trace_vals v ON v.id = b.id WHERE b.id = ?`,
    )
  }

  #blob(select: SqliteStatement, meta: BlockMeta, part: string): Buffer {
    const row = select.get(meta.id) as Record<string, Buffer> | undefined
    const blob = row?.[part]
    if (blob === undefined) throw damaged(meta, part, new Error('the block row is missing'))
    return blob
  }

  /** A part of the block row, decoded; a part that does not decode is reported as damaged. */
  #decoded<T>(select: SqliteStatement, meta: BlockMeta, part: string, decode: (b: Buffer) => T): T {
    const blob = this.#blob(select, meta, part)
    try {
      return decode(blob)
    } catch (error) {
      throw damaged(meta, part, error)
    }
  }

  /** A block's dims; `keep` false: not added to the cache (a one-off read, e.g. warming). */
  dims(meta: BlockMeta, keep = true): BlockDims {
    let dims = this.#dims.get(meta.id)
    if (dims === undefined) {
      dims = this.#decoded(this.#selectDims, meta, 'dims', decodeDims)
      if (dims.count !== meta.count) throw damaged(meta, 'dims', new Error('count mismatch'))
      if (keep) this.#dims.set(meta.id, dims, dimsBytes(dims))
    }
    return dims
  }

  /**
   * A block's extra columns without its other dims: those of its cached dims, else decoded alone
   * and kept; null for a block written before the dims kept them (read its documents).
   */
  extras(meta: BlockMeta): Readonly<Record<ExtraColumn, DictColumn>> | null {
    const dims = this.#dims.get(meta.id)
    if (dims !== undefined) return extraColumns(dims)
    let extras = this.#extras.get(meta.id)
    if (extras === undefined) {
      const decoded = this.#decoded(this.#selectDims, meta, 'dims', decodeExtras)
      if (decoded !== null && decoded.count !== meta.count)
        throw damaged(meta, 'dims', new Error('count mismatch'))
      extras = decoded?.columns ?? null
      this.#extras.set(meta.id, extras, extras === null ? 16 : extrasBytes(extras))
    }
    return extras
  }

  strs(meta: BlockMeta): BlockStrings {
    let strs = this.#strs.get(meta.id)
    if (strs === undefined) {
      strs = this.#decoded(this.#selectStrs, meta, 'strs', decodeStrings)
      if (strs.traceIds.length !== meta.count)
        throw damaged(meta, 'strs', new Error('count mismatch'))
      this.#strs.set(meta.id, strs, strsBytes(strs))
    }
    return strs
  }

  /**
   * The block's activity rollup (made from its dims once, then kept while memory allows);
   * `keepDims` false: dims read for it are not cached (warming must not push out the dims pages
   * use).
   */
  rollup(meta: BlockMeta, keepDims = true): BlockRollup | undefined {
    let rollup = this.#rollups.get(meta.id)
    if (rollup === undefined) {
      rollup = buildRollup(this.dims(meta, keepDims), this.rollupValues)
      if (rollup !== undefined) this.#rollups.set(meta.id, rollup, rollup.bytes)
    }
    return rollup
  }

  /** The block's rollup when it is in memory (never builds one). */
  cachedRollup(meta: BlockMeta): BlockRollup | undefined {
    return this.#rollups.get(meta.id)
  }

  /** Whether the rollup cache has room for more (below 90% of its budget). */
  rollupRoom(): boolean {
    return this.#rollups.bytes < 0.9 * ROLLUP_CACHE_BYTES
  }

  /** A block's value index (value-index.ts; see index-rows). */
  vals(meta: BlockMeta): ValueRows {
    let rows = this.#vals.get(meta.id)
    if (rows === undefined) {
      rows = this.#decoded(this.#selectVals, meta, 'vals', decodeValueRows)
      this.#vals.set(meta.id, rows, valueRowsBytes(rows))
    }
    return rows
  }

  /**
   * The postings of a 48-bit value key in a block (value-postings): null when the block lists
   * none, undefined when it has no posting rows (written before version 12: its `vals` hold them).
   */
  postings(meta: BlockMeta, key: number): Postings | null | undefined {
    const id = postingRowId(meta.id, bucketOf(key, postingBuckets(meta.count)))
    let bucket = this.#postings.get(id)
    if (bucket === undefined) {
      const row = this.#selectPosting.get(id) as { data: Buffer } | undefined
      try {
        bucket = row === undefined ? null : decodePostingBucket(row.data)
      } catch (error) {
        throw damaged(meta, 'postings', error)
      }
      this.#postings.set(id, bucket, bucket === null ? 64 : postingBucketBytes(bucket))
    }
    return bucket === null ? undefined : postingsOf(bucket, key)
  }

  /**
   * The documents at `places` of a block (posting places, value-postings), in that order: each
   * chunk row read once, each chunk decompressed once.
   */
  placedDocuments(meta: BlockMeta, places: readonly DocumentPlace[]): string[] {
    const rows = new Map<number, Buffer>()
    const chunks = new Map<string, Buffer>()
    try {
      return places.map((place) => {
        let row = rows.get(place.row)
        if (row === undefined) {
          row = this.#chunkRows.read(meta.id, place.row)
          if (row === undefined) throw new Error(`chunk row ${place.row} is missing`)
          rows.set(place.row, row)
        }
        const key = `${place.row}:${place.chunkFrom}`
        let chunk = chunks.get(key)
        if (chunk === undefined) {
          if (place.chunkTo > row.length || place.chunkFrom > place.chunkTo)
            throw new RangeError(`chunk past its row ${place.row}`)
          chunk = brotliDecompressSync(row.subarray(place.chunkFrom, place.chunkTo))
          chunks.set(key, chunk)
        }
        if (place.docFrom + place.docLength > chunk.length)
          throw new RangeError(`document past its chunk in row ${place.row}`)
        return chunk.toString('utf8', place.docFrom, place.docFrom + place.docLength)
      })
    } catch (error) {
      throw damaged(meta, 'body', error)
    }
  }

  /** Forgets a block's cached parts (it was rewritten or dropped). */
  forget(id: number): void {
    for (let b = 0; b < POSTING_SPAN; b++) this.#postings.delete(postingRowId(id, b))
    this.#vals.delete(id)
    this.#rollups.delete(id)
    this.#extras.delete(id)
    this.#dims.delete(id)
    this.#strs.delete(id)
  }

  /** The rank (page order) of every position. */
  ranks(dims: BlockDims): Uint32Array {
    let ranks = this.#ranks.get(dims)
    if (ranks === undefined) this.#ranks.set(dims, (ranks = ranksOf(dims)))
    return ranks
  }

  /**
   * The documents at `ranks`, in that order, from the chunks they fall in (in rows of their own; a
   * first-form block's whole body at once).
   */
  documents(meta: BlockMeta, dims: BlockDims, ranks: readonly number[]): string[] {
    if (ranks.length === 0) return []
    if (!dims.chunkRows)
      try {
        return readDocuments(this.#blob(this.#selectBody, meta, 'body'), dims, ranks)
      } catch (error) {
        throw damaged(meta, 'body', error)
      }
    return this.#fromRows(meta, dimsLayout(dims), ranks)
  }

  /**
   * The documents at `ranks` of a block with page columns (value-index), without its dims: its
   * chunk rows are cut by the page columns' chunk offsets and document lengths.
   */
  pageDocuments(meta: BlockMeta, page: PageColumns, ranks: readonly number[]): string[] {
    let layout = this.#pageLayouts.get(page)
    if (layout === undefined) this.#pageLayouts.set(page, (layout = pageLayout(page)))
    return this.#fromRows(meta, layout, ranks)
  }

  /** Documents from a block's chunk rows (each row read once, in the order the chunks need). */
  #fromRows(meta: BlockMeta, layout: DocumentLayout, ranks: readonly number[]): string[] {
    let last: { row: number; data: Buffer } | undefined
    try {
      return readDocumentsFrom(
        (chunk) => {
          const { row, from, to, rowLength } = chunkInRow(layout, chunk)
          if (last?.row !== row) {
            const data = this.#chunkRows.read(meta.id, row)
            if (data === undefined) throw new Error(`chunk row ${row} is missing`)
            if (data.length !== rowLength)
              throw new RangeError(`chunk row ${row} is not of its length`)
            last = { row, data }
          }
          return last.data.subarray(from, to)
        },
        layout,
        ranks,
      )
    } catch (error) {
      throw damaged(meta, 'body', error)
    }
  }

  /** Every trace of a block as entries in position order, with their absolute seqs. */
  entries(meta: BlockMeta): { entries: BlockEntry[]; seqs: number[] } {
    const dims = this.dims(meta)
    const strs = this.strs(meta)
    const ranks = this.ranks(dims)
    const docs = this.documents(meta, dims, Array.from(ranks))
    const entries: BlockEntry[] = []
    const seqs: number[] = []
    for (let p = 0; p < dims.count; p++) {
      const values: Record<string, string | null> = {
        trace_id: strs.traceIds[p] ?? '',
        resource_id: valueAt(strs.columns.resource_id, p),
        resource_name: valueAt(strs.columns.resource_name, p),
      }
      for (const column of DIM_COLUMNS) values[column] = valueAt(dims.columns[column], p)
      Object.assign(values, extrasAt(dims, p, docs[p] ?? ''))
      entries.push({
        time: dims.times[p] ?? 0,
        values: values as BlockEntry['values'],
        document: docs[p] ?? '',
      })
      seqs.push(seqAt(meta, dims, p))
    }
    return { entries, seqs }
  }
}

/** The seq of position `p`. */
export function seqAt(meta: BlockMeta, dims: BlockDims, p: number): number {
  return meta.minSeq + (dims.seqOffsets === null ? p : (dims.seqOffsets[p] ?? 0))
}

/** The first position whose seq is greater than `seq` (`dims.count` when none is). */
export function firstPositionAfter(meta: BlockMeta, dims: BlockDims, seq: number): number {
  const offset = seq - meta.minSeq
  if (offset < 0) return 0
  const offsets = dims.seqOffsets
  if (offsets === null) return Math.min(dims.count, offset + 1)
  let lo = 0
  let hi = offsets.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((offsets[mid] ?? 0) <= offset) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The position holding `seq`, or -1. */
export function positionOfSeq(meta: BlockMeta, dims: BlockDims, seq: number): number {
  const offset = seq - meta.minSeq
  const offsets = dims.seqOffsets
  if (offsets === null) return offset >= 0 && offset < dims.count ? offset : -1
  let lo = 0
  let hi = offsets.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const v = offsets[mid] ?? 0
    if (v === offset) return mid
    if (v < offset) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}
