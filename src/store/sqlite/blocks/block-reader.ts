/**
 * @module store/sqlite/blocks/block-reader
 * Reads the parts of a block: `dims` and `strs` through bounded LRU caches (every scan reads dims;
 * strs only for id lookups, resource filters and audits), documents by the body chunks they fall
 * in, and whole blocks back as entries (to merge, purge part of, or re-encode them).
 */
import { OpenCtsError } from '../../../errors/index.js'
import type { SqliteDatabase, SqliteStatement } from '../sqlite-database.js'
import {
  DIM_COLUMNS,
  decodeDims,
  decodeStrings,
  ranksOf,
  readDocuments,
  valueAt,
  type BlockDims,
  type BlockEntry,
  type BlockStrings,
} from './block-codec.js'
import type { BlockMeta } from './block-directory.js'

/** A map that keeps its most recently used entries within a byte budget. */
class Lru<V> {
  readonly #map = new Map<number, { value: V; bytes: number }>()
  readonly #budget: number
  #bytes = 0

  constructor(budget: number) {
    this.#budget = budget
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

/** Decoded dims and strs held at most (bytes, estimated; each). */
export const DIMS_CACHE_BYTES = 64 * 1024 * 1024
export const STRS_CACHE_BYTES = 64 * 1024 * 1024

function damaged(meta: BlockMeta, part: string, error: unknown): OpenCtsError {
  return new OpenCtsError('OCTS_ERR_READ_FAILED', {
    message: `trace block ${meta.id} of project ${meta.projectId}: ${part} unreadable (${String(error)})`,
    cause: error,
  })
}

export class BlockReader {
  readonly #dims = new Lru<BlockDims>(DIMS_CACHE_BYTES)
  readonly #strs = new Lru<BlockStrings>(STRS_CACHE_BYTES)
  readonly #ranks = new WeakMap<BlockDims, Uint32Array>()
  readonly #selectDims: SqliteStatement
  readonly #selectStrs: SqliteStatement
  readonly #selectBody: SqliteStatement

  constructor(db: SqliteDatabase) {
    this.#selectDims = db.prepare('SELECT dims FROM trace_blocks WHERE id = ?')
    this.#selectStrs = db.prepare('SELECT strs FROM trace_blocks WHERE id = ?')
    this.#selectBody = db.prepare('SELECT body FROM trace_blocks WHERE id = ?')
  }

  #blob(select: SqliteStatement, meta: BlockMeta, part: string): Buffer {
    const row = select.get(meta.id) as Record<string, Buffer> | undefined
    const blob = row?.[part]
    if (blob === undefined) throw damaged(meta, part, new Error('the block row is missing'))
    return blob
  }

  dims(meta: BlockMeta): BlockDims {
    let dims = this.#dims.get(meta.id)
    if (dims === undefined) {
      const blob = this.#blob(this.#selectDims, meta, 'dims')
      try {
        dims = decodeDims(blob)
      } catch (error) {
        throw damaged(meta, 'dims', error)
      }
      if (dims.count !== meta.count) throw damaged(meta, 'dims', new Error('count mismatch'))
      this.#dims.set(meta.id, dims, 40 * dims.count + 2 * blob.length)
    }
    return dims
  }

  strs(meta: BlockMeta): BlockStrings {
    let strs = this.#strs.get(meta.id)
    if (strs === undefined) {
      const blob = this.#blob(this.#selectStrs, meta, 'strs')
      try {
        strs = decodeStrings(blob)
      } catch (error) {
        throw damaged(meta, 'strs', error)
      }
      if (strs.traceIds.length !== meta.count)
        throw damaged(meta, 'strs', new Error('count mismatch'))
      this.#strs.set(meta.id, strs, 3 * blob.length + 64 * strs.traceIds.length)
    }
    return strs
  }

  /** Forgets a block's cached parts (it was rewritten or dropped). */
  forget(id: number): void {
    this.#dims.delete(id)
    this.#strs.delete(id)
  }

  /** The rank (page order) of every position. */
  ranks(dims: BlockDims): Uint32Array {
    let ranks = this.#ranks.get(dims)
    if (ranks === undefined) this.#ranks.set(dims, (ranks = ranksOf(dims)))
    return ranks
  }

  /** The documents at `ranks`, in that order. */
  documents(meta: BlockMeta, dims: BlockDims, ranks: readonly number[]): string[] {
    if (ranks.length === 0) return []
    const body = this.#blob(this.#selectBody, meta, 'body')
    try {
      return readDocuments(body, dims, ranks)
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
