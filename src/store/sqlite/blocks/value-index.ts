/**
 * @module store/sqlite/blocks/value-index
 * The exact index of a block's high-cardinality filter values (resource_id, resource_name): the
 * block row's `vals` column lists, for each distinct value, a 48-bit key (a hash of project,
 * column and value) and the positions holding it, sorted by key. A resource filter then reads this
 * small blob (a few bytes per trace, no strings) of each block its bloom filter lets through,
 * instead of decoding the block's `strs` (a resource is in a fifth of a busy tenant's blocks, and
 * rarely 200 times in a week, so pages of it walked most of them). Made where the block is encoded
 * (the ingest worker thread), written in the same row, so it never needs its own inserts or
 * deletes. Two values may share a key: a page checks the documents it returns and falls back to
 * the strs when one does not hold the value.
 *
 * After the rows, a block that allows it (see PageColumns) keeps each position's rank, time and
 * document length: a page with a resource filter then orders the positions the index gives and
 * reads their documents without decoding the block's dims (most of what such a page cost when it
 * walked a busy tenant's week: ~0.2 ms a block).
 */
import { encodeBlock, type BlockEntry, type EncodedBlock, type PageColumns } from './block-codec.js'
import { fnv1a, SEED_A, SEED_B } from './hashes.js'

/** The columns the index holds, with their tag in the key. */
export const INDEXED_COLUMNS = { resource_id: 'i', resource_name: 'n' } as const
export type IndexedColumn = keyof typeof INDEXED_COLUMNS

/** The 48-bit key of a value of an indexed column in a project. */
export function valueKey(projectId: string, column: IndexedColumn, value: string): number {
  const text = `${projectId}\u0000${INDEXED_COLUMNS[column]}\u0000${value}`
  return (fnv1a(text, SEED_A) & 0xffff) * 0x1_0000_0000 + fnv1a(text, SEED_B)
}

/** A block's index rows, sorted by key: row r is `keys[r]` with positions[offsets[r]..offsets[r+1]). */
export interface ValueRows {
  readonly keys: Float64Array
  readonly offsets: Uint32Array
  readonly positions: Uint16Array
  /** The block's page columns; null when it has none (or was written before they existed). */
  readonly page: PageColumns | null
}

/**
 * The index rows of a block from each position's values of the indexed columns (null: none).
 * Runs where the block is encoded (an ingest worker thread, or the event loop for merges).
 */
export function valueRows(
  projectId: string,
  columns: Readonly<Record<IndexedColumn, ArrayLike<string | null>>>,
  page: PageColumns | null,
): ValueRows {
  const byKey = new Map<number, number[]>()
  for (const column of Object.keys(INDEXED_COLUMNS) as IndexedColumn[]) {
    const values = columns[column]
    const byValue = new Map<string, number[]>()
    for (let p = 0; p < values.length; p++) {
      const value = values[p]
      if (value === null || value === undefined) continue
      const list = byValue.get(value)
      if (list === undefined) byValue.set(value, [p])
      else list.push(p)
    }
    for (const [value, positions] of byValue) {
      const h = valueKey(projectId, column, value)
      // Two values sharing a key: one row with both values' positions.
      const list = byKey.get(h)
      if (list === undefined) byKey.set(h, positions)
      else list.push(...positions)
    }
  }
  const keys = Float64Array.from(byKey.keys()).sort()
  const offsets = new Uint32Array(keys.length + 1)
  let total = 0
  for (const list of byKey.values()) total += list.length
  const positions = new Uint16Array(total)
  let at = 0
  keys.forEach((h, r) => {
    offsets[r] = at
    for (const p of byKey.get(h) ?? []) positions[at++] = p
  })
  offsets[keys.length] = at
  return { keys, offsets, positions, page }
}

/** The index rows of a block's entries (position order), with its page columns (encodeBlock's). */
export function entryValueRows(
  projectId: string,
  entries: readonly Pick<BlockEntry, 'values'>[],
  page: PageColumns | null,
): ValueRows {
  return valueRows(
    projectId,
    {
      resource_id: entries.map((e) => e.values.resource_id),
      resource_name: entries.map((e) => e.values.resource_name),
    },
    page,
  )
}

/** A block's encoding with its index rows (merges, purges, migrations: on the event loop). */
export function encodeIndexedBlock(
  projectId: string,
  entries: readonly BlockEntry[],
): EncodedBlock & { readonly values: ValueRows } {
  const block = encodeBlock(entries)
  return { ...block, values: entryValueRows(projectId, entries, block.page) }
}

/** Flags (byte 4 of a `vals` blob): the compact form (below); page columns follow the rows. */
const COMPACT = 2
const HAS_PAGE = 1

const align4 = (n: number): number => (n + 3) & ~3

/** A typed array's bytes, to copy into a blob. */
const bytesOf = (a: Uint16Array | Uint32Array | Float64Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/**
 * The `vals` blob of rows, compact form (schema version 10): count n (u32), flags (u8, 3 bytes
 * zero), each key's low 32 bits (u32) and high 16 bits (u16), offsets (u16, n + 1), positions
 * (u16); with page columns, from the next multiple of 4: count, documents per chunk, chunks per
 * row, chunk offsets, category length, document length width (2 or 4) (u32 each), the category
 * (UTF-8, to a multiple of 4), times and chunk offsets (u32), document lengths (of that width),
 * ranks (u16). Version 9 wrote flags 0: keys f64, offsets u32, positions, nothing after.
 */
export function encodeValueRows(rows: ValueRows): Buffer {
  const n = rows.keys.length
  const total = rows.positions.length
  if (total > 0xffff) throw new RangeError('a value index of more than 65,535 positions')
  const rowsEnd = 8 + 6 * n + 2 * (n + 1) + 2 * total
  const page = rows.page
  const category = page === null ? Buffer.alloc(0) : Buffer.from(page.category, 'utf8')
  const count = page?.ranks.length ?? 0
  const chunks = page?.chunkOffsets.length ?? 0
  let width = 2
  if (page !== null) for (const length of page.docLengths) if (length > 0xffff) width = 4
  const pageStart = align4(rowsEnd)
  const size =
    page === null
      ? rowsEnd
      : pageStart + 24 + align4(category.length) + (6 + width) * count + 4 * chunks
  const out = Buffer.alloc(size)
  out.writeUInt32LE(n, 0)
  out[4] = COMPACT | (page === null ? 0 : HAS_PAGE)
  let at = 8
  const put = (a: Uint16Array | Uint32Array | Float64Array): void => {
    out.set(bytesOf(a), at)
    at += a.byteLength
  }
  const lo = new Uint32Array(n)
  const hi = new Uint16Array(n)
  rows.keys.forEach((key, r) => {
    hi[r] = Math.floor(key / 0x1_0000_0000)
    lo[r] = key % 0x1_0000_0000
  })
  for (const a of [lo, hi, Uint16Array.from(rows.offsets), rows.positions]) put(a)
  if (page !== null) {
    if (page.times.length !== count || page.docLengths.length !== count)
      throw new RangeError('page columns of different lengths')
    at = pageStart
    const head = [count, page.chunkTraces, page.rowChunks, chunks, category.length, width]
    head.forEach((v, k) => out.writeUInt32LE(v, at + 4 * k))
    out.set(category, at + 24)
    at += 24 + align4(category.length)
    const lengths = width === 2 ? Uint16Array.from(page.docLengths) : page.docLengths
    for (const a of [page.times, page.chunkOffsets, lengths, page.ranks]) put(a)
  }
  return out
}

/** Memory held by decoded rows: each array buffer they use, once (most are views of one copy). */
export function valueRowsBytes(rows: ValueRows): number {
  const { keys, offsets, positions, page } = rows
  const arrays = [
    keys,
    offsets,
    positions,
    page?.ranks,
    page?.times,
    page?.docLengths,
    page?.chunkOffsets,
  ]
  const buffers = new Set<ArrayBufferLike>()
  for (const a of arrays) if (a !== undefined) buffers.add(a.buffer)
  let bytes = 0
  for (const b of buffers) bytes += b.byteLength
  return bytes
}

/** Reads a `vals` blob (either form). Throws RangeError when it is damaged. */
export function decodeValueRows(blob: Uint8Array): ValueRows {
  if (blob.byteLength < 8) throw new RangeError('value index too short')
  const copy = new Uint8Array(blob) // aligned for the typed arrays below
  const view = new DataView(copy.buffer)
  const n = view.getUint32(0, true)
  const flags = copy[4] ?? 0
  if (flags === 0) return decodeFirstForm(copy, n)
  if ((flags & ~HAS_PAGE) !== COMPACT) throw new RangeError('value index of an unknown form')
  const hiAt = 8 + 4 * n
  const offsetsAt = hiAt + 2 * n
  const positionsAt = offsetsAt + 2 * (n + 1)
  if (positionsAt > copy.byteLength) throw new RangeError('value index does not add up')
  const lo = new Uint32Array(copy.buffer, 8, n)
  const hi = new Uint16Array(copy.buffer, hiAt, n)
  // A loop, not Float64Array.from(lo, mapFn): V8 runs that through its iterator protocol, ~45 ns
  // an element (decoding a bench block's index took 163 µs with it, 13 µs without).
  const keys = new Float64Array(n)
  for (let r = 0; r < n; r++) keys[r] = (hi[r] ?? 0) * 0x1_0000_0000 + (lo[r] ?? 0)
  const offsets = Uint32Array.from(new Uint16Array(copy.buffer, offsetsAt, n + 1))
  const total = offsets[n] ?? 0
  const rowsEnd = positionsAt + 2 * total
  const pageAt = align4(rowsEnd)
  if ((flags & HAS_PAGE) === 0 ? rowsEnd !== copy.byteLength : pageAt > copy.byteLength)
    throw new RangeError('value index does not add up')
  const positions = new Uint16Array(copy.buffer, positionsAt, total)
  if ((flags & HAS_PAGE) === 0) return { keys, offsets, positions, page: null }
  let at = pageAt
  if (at + 24 > copy.byteLength) throw new RangeError('value index page columns cut short')
  const [count, chunkTraces, rowChunks, chunks, categoryLength, width] = [0, 1, 2, 3, 4, 5].map(
    (k) => view.getUint32(at + 4 * k, true),
  ) as [number, number, number, number, number, number]
  at += 24
  const category = Buffer.from(copy.buffer, at, Math.min(categoryLength, copy.byteLength - at))
  at += align4(categoryLength)
  if (
    at + (6 + width) * count + 4 * chunks !== copy.byteLength ||
    (width !== 2 && width !== 4) ||
    chunkTraces < 1 ||
    rowChunks < 1 ||
    chunks !== Math.ceil(count / chunkTraces) + 1
  )
    throw new RangeError('value index page columns do not add up')
  const times = new Uint32Array(copy.buffer, at, count)
  at += 4 * count
  const chunkOffsets = new Uint32Array(copy.buffer, at, chunks)
  at += 4 * chunks
  const docLengths = Uint32Array.from(
    width === 2 ? new Uint16Array(copy.buffer, at, count) : new Uint32Array(copy.buffer, at, count),
  )
  const ranks = new Uint16Array(copy.buffer, at + width * count, count)
  for (const rank of ranks)
    if (rank >= count) throw new RangeError('value index rank past the block')
  return {
    keys,
    offsets,
    positions,
    page: {
      category: category.toString('utf8'),
      chunkTraces,
      rowChunks,
      chunkOffsets,
      ranks,
      times,
      docLengths,
    },
  }
}

/** The form version 9 wrote: keys (f64), offsets (u32), positions to the end; no page columns. */
function decodeFirstForm(copy: Uint8Array, n: number): ValueRows {
  const keysEnd = 8 + 8 * n
  const offsetsEnd = keysEnd + 4 * (n + 1)
  if (offsetsEnd > copy.byteLength || (copy.byteLength - offsetsEnd) % 2 !== 0)
    throw new RangeError('value index does not add up')
  const rows = {
    keys: new Float64Array(copy.buffer, 8, n),
    offsets: new Uint32Array(copy.buffer, keysEnd, n + 1),
    positions: new Uint16Array(copy.buffer, offsetsEnd, (copy.byteLength - offsetsEnd) / 2),
    page: null,
  }
  if (rows.offsets[n] !== rows.positions.length) throw new RangeError('value index does not add up')
  return rows
}

/** The positions listed under `key` (ascending), or null when the block has none. */
export function positionsOf(rows: ValueRows, key: number): Uint16Array | null {
  let lo = 0
  let hi = rows.keys.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const k = rows.keys[mid] ?? 0
    if (k === key) {
      const from = rows.offsets[mid] ?? 0
      const to = rows.offsets[mid + 1] ?? from
      return rows.positions.slice(from, to).sort()
    }
    if (k < key) lo = mid + 1
    else hi = mid - 1
  }
  return null
}
