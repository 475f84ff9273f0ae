/**
 * @module store/sqlite/blocks/block-codec
 * The binary form of a trace block: up to a few thousand traces of one project, stored as one
 * `trace_blocks` row. Positions 0..count-1 are commit order (seq order); ranks 0..count-1 are page
 * order (time desc, then position desc: newest first, later commits first on ties).
 *
 * - `dims` (deflate level 1): times, page order, document lengths, chunk offsets, optional seq
 *   offsets (a merged block's seqs are not contiguous), and the low-cardinality columns as a
 *   dictionary plus one 1/2/4-byte id per trace. Read by every scan, so it is small and decodes into
 *   typed arrays without parsing.
 * - `strs` (deflate level 1): the high-cardinality columns (trace_id, resource_id, resource_name),
 *   read only for those filters, id lookups and audits.
 * - `body`: the stored documents in page order, in brotli (quality 2) chunks of CHUNK_TRACES
 *   documents, each decompressed on its own: a page reads only the chunks it returns. The store
 *   keeps ROW_CHUNKS chunks in a row of their own (`trace_chunks`, see block-schema), so that
 *   reading one does not read the whole body. A block of the codec's first form (its dims give no
 *   chunk size) has chunks of 64 and its body in its `trace_blocks` row; of the second form (no
 *   row size), chunks of 64, one a row.
 * - `bloom`: the filter values of the block (see `filterKeys`), kept in memory by the store.
 * - `page` (stored in the block's value index, see value-index): each position's rank, time and
 *   document length, so that a page whose index gives the positions needs neither dims nor strs.
 */
import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  deflateRawSync,
  inflateRawSync,
} from 'node:zlib'
import { buildBloom } from './bloom.js'

export const CODEC_VERSION = 1
/**
 * Documents per compressed body chunk of a new block: a page returning one document decompresses
 * its chunk (16 documents of the bench's ~1.4 KB: ~40 µs, 64: ~110 µs; 202 vs 169 bytes a
 * document after brotli).
 */
export const CHUNK_TRACES = 16
/** Chunks per `trace_chunks` row of a new block (a row of ~12 KB fills its pages; see block-schema). */
export const ROW_CHUNKS = 4
/** Documents per chunk of a block whose dims do not say (the first form of the codec). */
const FIRST_CHUNK_TRACES = 64

/** The low-cardinality columns, in `dims`. */
export const DIM_COLUMNS = [
  'category',
  'tracker_name',
  'service_type',
  'resource_type',
  'trace_name',
  'trace_rating',
  'user_name',
  'access_key_id',
  'enterprise_project_id',
] as const
export type DimColumn = (typeof DIM_COLUMNS)[number]

/**
 * Columns statistics and search read that no filter index serves, in `dims` after DIM_COLUMNS
 * since the codec's flag 16 (blocks written before lack them: readers take them from the documents).
 */
export const EXTRA_COLUMNS = ['source_ip', 'code'] as const
export type ExtraColumn = (typeof EXTRA_COLUMNS)[number]

/** The high-cardinality columns, in `strs`. */
export const STR_COLUMNS = ['trace_id', 'resource_id', 'resource_name'] as const
export type StrColumn = (typeof STR_COLUMNS)[number]

/** One trace as a block stores it: its indexed values and its stored document. */
export interface BlockEntry {
  readonly time: number
  readonly values: Readonly<
    Record<DimColumn | StrColumn, string | null> & Partial<Record<ExtraColumn, string | null>>
  >
  readonly document: string
  /** seq - block's min_seq; omit (or equal the position) for a fresh block. */
  readonly seqOffset?: number
}

export interface EncodedBlock {
  readonly count: number
  readonly minTime: number
  readonly maxTime: number
  readonly dims: Buffer
  readonly strs: Buffer
  /** The chunks, one after the other (`rowOffsets` cuts them into rows). */
  readonly body: Buffer
  /** Byte offset in `body` of each `trace_chunks` row, and its length last. */
  readonly rowOffsets: Uint32Array
  readonly bloom: Uint8Array
  /** What a page needs of each position without the dims; null when the block does not allow it. */
  readonly page: PageColumns | null
}

/**
 * A block's page order, times and document lengths by position, for pages that know the
 * positions they want (value-index). Made only for a block whose traces share one category, whose
 * seqs are its positions (`min_seq + p`) and whose times span under 2^32 ms.
 */
export interface PageColumns extends ChunkLayout {
  readonly category: string
  /** The rank of each position (page order). */
  readonly ranks: Uint16Array
  /** `time - min_time` of each position. */
  readonly times: Uint32Array
  /** UTF-8 length of each position's document. */
  readonly docLengths: Uint32Array
}

/** How a block's body is cut: documents per chunk, chunks per row, each chunk's offset. */
export interface ChunkLayout {
  /** Documents per body chunk (the last may hold fewer). */
  readonly chunkTraces: number
  /** Chunks per `trace_chunks` row (the last may hold fewer). */
  readonly rowChunks: number
  /** Byte offset of each body chunk, and the body's length last. */
  readonly chunkOffsets: Uint32Array
}

/** Where a block's documents are: its chunks, and each rank's document length. */
export interface DocumentLayout extends ChunkLayout {
  readonly count: number
  readonly lengthAt: (rank: number) => number
}

/** The document layout of decoded dims. */
export function dimsLayout(dims: BlockDims): DocumentLayout {
  return {
    count: dims.count,
    chunkTraces: dims.chunkTraces,
    rowChunks: dims.rowChunks,
    chunkOffsets: dims.chunkOffsets,
    lengthAt: (rank) => dims.docLengths[dims.order[rank] ?? 0] ?? 0,
  }
}

/** The document layout of page columns. */
export function pageLayout(page: PageColumns): DocumentLayout {
  const lengths = new Uint32Array(page.ranks.length)
  page.ranks.forEach((rank, p) => (lengths[rank] = page.docLengths[p] ?? 0))
  return {
    count: page.ranks.length,
    chunkTraces: page.chunkTraces,
    rowChunks: page.rowChunks,
    chunkOffsets: page.chunkOffsets,
    lengthAt: (rank) => lengths[rank] ?? 0,
  }
}

/**
 * Where chunk `chunk` lies: its `trace_chunks` row (counted from the block's first), its byte
 * range in that row, and the row's length. Throws RangeError past the chunk offsets.
 */
export function chunkInRow(
  layout: ChunkLayout,
  chunk: number,
): { row: number; from: number; to: number; rowLength: number } {
  const { rowChunks, chunkOffsets } = layout
  const row = Math.floor(chunk / rowChunks)
  const base = chunkOffsets[row * rowChunks]
  const end = chunkOffsets[Math.min(chunkOffsets.length - 1, (row + 1) * rowChunks)]
  const from = chunkOffsets[chunk]
  const to = chunkOffsets[chunk + 1]
  if (
    base === undefined ||
    end === undefined ||
    from === undefined ||
    to === undefined ||
    from < base ||
    to < from ||
    end < to
  )
    throw new RangeError('block chunk past its offsets')
  return { row, from: from - base, to: to - base, rowLength: end - base }
}

/** Byte offset in the body of each `trace_chunks` row of a layout, and the body's length last. */
export function rowOffsetsOf(layout: ChunkLayout): Uint32Array {
  const chunks = layout.chunkOffsets.length - 1
  const rows = Math.ceil(chunks / layout.rowChunks)
  return Uint32Array.from({ length: rows + 1 }, (_, r) =>
    r === rows
      ? (layout.chunkOffsets[chunks] ?? 0)
      : (layout.chunkOffsets[r * layout.rowChunks] ?? 0),
  )
}

/** A dictionary-coded column: the value of position p is `dict[ids[p]]` (`dict[0]` is null). */
export interface DictColumn {
  readonly dict: readonly (string | null)[]
  readonly ids: Uint8Array | Uint16Array | Uint32Array
}

export interface BlockDims extends ChunkLayout {
  readonly count: number
  /** Absolute `time` of each position. */
  readonly times: Float64Array
  /** Page order: `order[rank]` is a position. */
  readonly order: Uint32Array
  /** `seq - min_seq` of each position, or null when it is the position (a fresh block). */
  readonly seqOffsets: Uint32Array | null
  /** UTF-8 length of each position's document. */
  readonly docLengths: Uint32Array
  /** The chunks are rows of `trace_chunks` (false: a first-form block, its body in its row). */
  readonly chunkRows: boolean
  readonly columns: Readonly<Record<DimColumn, DictColumn>>
  /**
   * The encoded EXTRA_COLUMNS, decoded on demand by `extraColumns` (few queries read them); null
   * for a block written before they were kept (flag 16).
   */
  readonly extraBytes: Buffer | null
}

export interface BlockStrings {
  readonly traceIds: readonly string[]
  readonly columns: Readonly<Record<'resource_id' | 'resource_name', DictColumn>>
}

/** The value a bloom key of a filter field has: `field` is a one-letter tag. */
export function bloomKey(field: string, value: string): string {
  return `${field}\u0001${value}`
}

/** Bloom tags of the filter columns (trace_rating is too common to filter by a bloom). */
export const BLOOM_FIELDS: Readonly<Partial<Record<DimColumn | StrColumn, string>>> = {
  tracker_name: 'k',
  service_type: 's',
  resource_type: 'y',
  resource_id: 'i',
  resource_name: 'n',
  trace_name: 'o',
  user_name: 'u',
  access_key_id: 'a',
  enterprise_project_id: 'e',
}

/**
 * The bloom keys of one trace: each filter value, plus two pairs common filters combine (an
 * operation with a rating that is not normal; a user with a service), so that a rare combination of
 * common values still skips most blocks.
 */
export function filterKeys(values: BlockEntry['values'], out: Set<string>): void {
  for (const [column, tag] of Object.entries(BLOOM_FIELDS)) {
    const value = values[column as DimColumn | StrColumn]
    if (value !== null) out.add(bloomKey(tag, value))
  }
  pairKeys(values, out)
}

/** The bloom key of an operation with a rating that is not normal (see `filterKeys`). */
export function operationRatingKey(traceName: string, rating: string): string {
  return bloomKey('or', `${traceName}\u0002${rating}`)
}

/** The bloom key of a user with a service (see `filterKeys`). */
export function userServiceKey(userName: string, serviceType: string): string {
  return bloomKey('us', `${userName}\u0002${serviceType}`)
}

/** The pair keys of `filterKeys` alone. */
function pairKeys(values: BlockEntry['values'], out: Set<string>): void {
  if (values.trace_rating !== 'normal' && values.trace_rating !== null)
    out.add(operationRatingKey(values.trace_name ?? '', values.trace_rating))
  if (values.user_name !== null)
    out.add(userServiceKey(values.user_name, values.service_type ?? ''))
}

/** Grows a byte buffer as sections are appended. */
class Writer {
  #buf = Buffer.allocUnsafe(1 << 16)
  #at = 0

  #room(n: number): void {
    if (this.#at + n <= this.#buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#at + n))
    this.#buf.copy(next, 0, 0, this.#at)
    this.#buf = next
  }

  u8(v: number): void {
    this.#room(1)
    this.#buf[this.#at++] = v
  }

  u32(v: number): void {
    this.#room(4)
    this.#buf.writeUInt32LE(v, this.#at)
    this.#at += 4
  }

  f64(v: number): void {
    this.#room(8)
    this.#buf.writeDoubleLE(v, this.#at)
    this.#at += 8
  }

  /** A typed array's bytes, little-endian as the platform is (checked at load). */
  array(a: Uint8Array | Uint16Array | Uint32Array | Float64Array): void {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    this.#room(bytes.length)
    this.#buf.set(bytes, this.#at)
    this.#at += bytes.length
  }

  text(s: string): void {
    const n = Buffer.byteLength(s, 'utf8')
    this.u32(n)
    this.#room(n)
    this.#buf.write(s, this.#at, 'utf8')
    this.#at += n
  }

  done(): Buffer {
    return this.#buf.subarray(0, this.#at)
  }
}

class Reader {
  readonly #buf: Buffer
  #at = 0

  constructor(buf: Buffer) {
    this.#buf = buf
  }

  u8(): number {
    return this.#buf.readUInt8(this.#at++)
  }

  /** The bytes not read yet (read no further). */
  rest(): Buffer {
    const rest = this.#buf.subarray(this.#at)
    this.#at = this.#buf.length
    return rest
  }

  u32(): number {
    const v = this.#buf.readUInt32LE(this.#at)
    this.#at += 4
    return v
  }

  f64(): number {
    const v = this.#buf.readDoubleLE(this.#at)
    this.#at += 8
    return v
  }

  /** `n` elements of `bytes` each, copied into an aligned typed array. */
  array<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(
    make: (n: number) => T,
    n: number,
  ): T {
    const out = make(n)
    const len = out.byteLength
    if (this.#at + len > this.#buf.length) throw new RangeError('block section past its end')
    new Uint8Array(out.buffer, out.byteOffset, len).set(
      this.#buf.subarray(this.#at, this.#at + len),
    )
    this.#at += len
    return out
  }

  /** Moves past `n` bytes. */
  skip(n: number): void {
    if (this.#at + n > this.#buf.length) throw new RangeError('block section past its end')
    this.#at += n
  }

  text(): string {
    const n = this.u32()
    if (this.#at + n > this.#buf.length) throw new RangeError('block text past its end')
    const s = this.#buf.toString('utf8', this.#at, this.#at + n)
    this.#at += n
    return s
  }
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1)
  throw new Error('the block codec assumes a little-endian platform')

/** A list of strings as their UTF-16 lengths and one UTF-8 text (one decode, then slices). */
function writeStrings(w: Writer, list: readonly string[]): void {
  w.u32(list.length)
  w.array(Uint32Array.from(list, (s) => s.length))
  w.text(list.join(''))
}

function readStrings(r: Reader): string[] {
  const n = r.u32()
  const lengths = r.array((k) => new Uint32Array(k), n)
  const all = r.text()
  const out = new Array<string>(n)
  let at = 0
  for (let i = 0; i < n; i++) {
    const len = lengths[i] ?? 0
    out[i] = all.slice(at, at + len)
    at += len
  }
  if (at !== all.length) throw new RangeError('block strings do not add up')
  return out
}

/** A column's distinct values (ids from 1; 0 is null) and each position's id. */
interface ColumnDict {
  readonly dict: string[]
  readonly ids: Uint32Array
}

function dictOf(
  entries: readonly BlockEntry[],
  column: DimColumn | StrColumn | ExtraColumn,
): ColumnDict {
  const index = new Map<string, number>()
  const dict: string[] = []
  const ids = new Uint32Array(entries.length)
  for (let p = 0; p < entries.length; p++) {
    const v = entries[p]?.values[column] ?? null
    if (v === null) continue
    let id = index.get(v)
    if (id === undefined) {
      dict.push(v)
      id = dict.length
      index.set(v, id)
    }
    ids[p] = id
  }
  return { dict, ids }
}

function writeDict(w: Writer, { dict, ids }: ColumnDict): void {
  writeStrings(w, dict)
  const width = dict.length < 0x100 ? 1 : dict.length < 0x10000 ? 2 : 4
  w.u8(width)
  w.array(width === 1 ? Uint8Array.from(ids) : width === 2 ? Uint16Array.from(ids) : ids)
}

function readDict(r: Reader, count: number): DictColumn {
  const dict: (string | null)[] = [null, ...readStrings(r)]
  const width = r.u8()
  const ids =
    width === 1
      ? r.array((k) => new Uint8Array(k), count)
      : width === 2
        ? r.array((k) => new Uint16Array(k), count)
        : r.array((k) => new Uint32Array(k), count)
  let max = 0
  for (let p = 0; p < count; p++) if ((ids[p] as number) > max) max = ids[p] as number
  if (max >= dict.length) throw new RangeError('block id past its dictionary')
  return { dict, ids }
}

/** A canonical dotted IPv4 address (no leading zeros), so that packing it round-trips. */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/

/**
 * Writes an extra column: as a dictionary (kind 0), or, when its values are many IPv4 addresses,
 * as four byte planes of the packed addresses after a bitmap of the null positions (kind 1): a
 * block of mostly distinct source IPs costs ~3 bytes a trace after deflate instead of ~9.
 */
function writeExtra(w: Writer, column: ColumnDict): void {
  const { dict, ids } = column
  if (dict.length <= 64 || !dict.every((v) => IPV4.test(v))) {
    w.u8(0)
    writeDict(w, column)
    return
  }
  const count = ids.length
  const packed = dict.map((v) => v.split('.').map(Number))
  const nulls = new Uint8Array(Math.ceil(count / 8))
  const planes = new Uint8Array(4 * count)
  for (let p = 0; p < count; p++) {
    const id = ids[p] ?? 0
    if (id === 0) {
      nulls[p >> 3] = (nulls[p >> 3] ?? 0) | (1 << (p & 7))
      continue
    }
    const bytes = packed[id - 1] ?? []
    for (let b = 0; b < 4; b++) planes[b * count + p] = bytes[b] ?? 0
  }
  w.u8(1)
  w.array(nulls)
  w.array(planes)
}

function readExtra(r: Reader, count: number): DictColumn {
  const kind = r.u8()
  if (kind === 0) return readDict(r, count)
  if (kind !== 1) throw new RangeError('unknown block column kind')
  const nulls = r.array((k) => new Uint8Array(k), Math.ceil(count / 8))
  const planes = r.array((k) => new Uint8Array(k), 4 * count)
  // Distinct addresses by open addressing on their 32 bits (a block's addresses are mostly
  // distinct: a map of numbers cost ~1.5 times as much), kept packed (AddressColumn).
  let size = 16
  while (size < 2 * count) size *= 2
  const mask = size - 1
  const slots = new Uint32Array(size) // the id of the address in the slot; 0: empty
  const keys = new Uint32Array(count + 1) // the address of each id
  let next = 1
  const ids = count < 0x10000 ? new Uint16Array(count) : new Uint32Array(count)
  for (let p = 0; p < count; p++) {
    if (((nulls[p >> 3] ?? 0) & (1 << (p & 7))) !== 0) continue
    const key =
      (((planes[p] ?? 0) << 24) |
        ((planes[count + p] ?? 0) << 16) |
        ((planes[2 * count + p] ?? 0) << 8) |
        (planes[3 * count + p] ?? 0)) >>>
      0
    let h = (Math.imul(key, 0x9e3779b1) >>> 0) & mask
    let id = slots[h] ?? 0
    while (id !== 0 && keys[id] !== key) {
      h = (h + 1) & mask
      id = slots[h] ?? 0
    }
    if (id === 0) {
      id = next++
      keys[id] = key
      slots[h] = id
    }
    ids[p] = id
  }
  return new AddressColumn(ids, keys.slice(0, next))
}

const OCTETS = Array.from({ length: 256 }, (_, i) => String(i))

/** An address packed in 32 bits as dotted text. */
function addressText(key: number): string {
  return `${OCTETS[key >>> 24]}.${OCTETS[(key >>> 16) & 255]}.${OCTETS[(key >>> 8) & 255]}.${OCTETS[key & 255]}`
}

/**
 * A column of IPv4 addresses kept packed, 32 bits each: its dictionary of strings is made when
 * first read (`dict`), `size` and `value` need none of it, so that a count over source IPs makes
 * the strings of the addresses it counts only (a block's addresses are mostly distinct: the
 * strings of a large project's day were most of a cold query's time and garbage).
 */
export class AddressColumn implements DictColumn {
  readonly ids: Uint16Array | Uint32Array
  /** Entries of the dictionary, id 0 (null) included. */
  readonly size: number
  readonly #keys: Uint32Array
  #dict: (string | null)[] | undefined

  /** `keys[id]`: the address of id (from 1; `keys[0]` unused). */
  constructor(ids: Uint16Array | Uint32Array, keys: Uint32Array) {
    this.ids = ids
    this.#keys = keys
    this.size = Math.max(1, keys.length)
  }

  get dict(): readonly (string | null)[] {
    if (this.#dict === undefined) {
      const dict: (string | null)[] = [null]
      for (let id = 1; id < this.size; id++) dict.push(addressText(this.#keys[id] ?? 0))
      this.#dict = dict
    }
    return this.#dict
  }

  /** The address of an id as text; null for 0 or an id past the dictionary. */
  value(id: number): string | null {
    if (id <= 0 || id >= this.size) return null
    return this.#dict?.[id] ?? addressText(this.#keys[id] ?? 0)
  }

  /** Memory held, bytes (the strings counted once made). */
  get bytes(): number {
    return (
      this.ids.byteLength + this.#keys.byteLength + (this.#dict === undefined ? 0 : 40 * this.size)
    )
  }
}

/** Entries of a column's dictionary (id 0 included), without making an address column's strings. */
export function dictSize(column: DictColumn): number {
  return column instanceof AddressColumn ? column.size : column.dict.length
}

/** The value of a dictionary id, without making an address column's other strings. */
export function dictValue(column: DictColumn, id: number): string | null {
  return column instanceof AddressColumn ? column.value(id) : (column.dict[id] ?? null)
}

const DEFLATE = { level: 1 }
const BROTLI = {
  params: { [constants.BROTLI_PARAM_QUALITY]: 2, [constants.BROTLI_PARAM_MODE]: 1 },
}

/** The page order of entries: time desc, then seq desc (position desc when seqs are contiguous). */
function pageOrder(entries: readonly BlockEntry[]): Uint32Array {
  const order = Uint32Array.from(entries, (_, p) => p)
  const seq = (p: number): number => entries[p]?.seqOffset ?? p
  return order.sort((a, b) => {
    const ta = entries[a]?.time ?? 0
    const tb = entries[b]?.time ?? 0
    return tb - ta || seq(b) - seq(a)
  })
}

/**
 * Encodes entries given in commit (seq) order, `chunkTraces` documents per body chunk and
 * `rowChunks` chunks per row (1: the codec's second form, as schema version 9 wrote).
 */
export function encodeBlock(
  entries: readonly BlockEntry[],
  chunkTraces = CHUNK_TRACES,
  rowChunks = ROW_CHUNKS,
): EncodedBlock {
  const count = entries.length
  if (count === 0) throw new RangeError('a block holds at least one trace')
  let minTime = Infinity
  let maxTime = -Infinity
  for (const e of entries) {
    if (e.time < minTime) minTime = e.time
    if (e.time > maxTime) maxTime = e.time
  }
  const order = pageOrder(entries)
  // Trace ids are all distinct: stored as a plain list, never as a dictionary.
  const dicts = {} as Record<Exclude<DimColumn | StrColumn, 'trace_id'>, ColumnDict>
  for (const column of [...DIM_COLUMNS, 'resource_id', 'resource_name'] as const)
    dicts[column] = dictOf(entries, column)
  // Every entry must say its extra columns for the block to keep them (else readers parse documents).
  const extras = entries.every((e) => EXTRA_COLUMNS.every((c) => e.values[c] !== undefined))
    ? EXTRA_COLUMNS.map((column) => dictOf(entries, column))
    : null
  const seqOffsets = entries.some((e, p) => e.seqOffset !== undefined && e.seqOffset !== p)
    ? Uint32Array.from(entries, (e, p) => e.seqOffset ?? p)
    : null

  // Body: documents in page order, chunkTraces per brotli chunk.
  const docLengths = new Uint32Array(count)
  const chunks: Buffer[] = []
  const chunkOffsets = new Uint32Array(Math.ceil(count / chunkTraces) + 1)
  let bodyLength = 0
  let scratch = Buffer.allocUnsafe(0)
  for (let rank = 0; rank < count; rank += chunkTraces) {
    let size = 0
    for (let r = rank; r < Math.min(count, rank + chunkTraces); r++)
      size += 3 * (entries[order[r] ?? 0]?.document.length ?? 0)
    if (scratch.length < size) scratch = Buffer.allocUnsafe(size)
    let at = 0
    for (let r = rank; r < Math.min(count, rank + chunkTraces); r++) {
      const p = order[r] ?? 0
      const written = scratch.write(entries[p]?.document ?? '', at, 'utf8')
      docLengths[p] = written
      at += written
    }
    const chunk = brotliCompressSync(scratch.subarray(0, at), BROTLI)
    chunkOffsets[rank / chunkTraces] = bodyLength
    bodyLength += chunk.length
    chunks.push(chunk)
  }
  chunkOffsets[chunkOffsets.length - 1] = bodyLength

  const w = new Writer()
  w.u8(CODEC_VERSION)
  w.u32(count)
  w.f64(minTime)
  const wide = maxTime - minTime > 0xffffffff
  w.u8(
    (seqOffsets === null ? 0 : 1) |
      (wide ? 2 : 0) |
      4 |
      (rowChunks > 1 ? 8 : 0) |
      (extras === null ? 0 : 16),
  )
  w.u32(chunkTraces)
  if (rowChunks > 1) w.u32(rowChunks)
  if (wide) w.array(Float64Array.from(entries, (e) => e.time))
  else w.array(Uint32Array.from(entries, (e) => e.time - minTime))
  w.array(order)
  if (seqOffsets !== null) w.array(seqOffsets)
  w.array(docLengths)
  w.u32(chunkOffsets.length)
  w.array(chunkOffsets)
  for (const column of DIM_COLUMNS) writeDict(w, dicts[column])
  for (const dict of extras ?? []) writeExtra(w, dict)

  const s = new Writer()
  s.u8(CODEC_VERSION)
  s.u32(count)
  writeStrings(
    s,
    entries.map((e) => e.values.trace_id ?? ''),
  )
  writeDict(s, dicts.resource_id)
  writeDict(s, dicts.resource_name)

  const keys = new Set<string>()
  for (const [column, tag] of Object.entries(BLOOM_FIELDS))
    for (const value of dicts[column as keyof typeof dicts].dict) keys.add(bloomKey(tag, value))
  for (const e of entries) pairKeys(e.values, keys)
  const category = dicts.category
  let page: PageColumns | null = null
  if (
    seqOffsets === null &&
    !wide &&
    count <= 0x10000 &&
    category.dict.length === 1 &&
    category.ids.every((id) => id === 1)
  ) {
    const ranks = new Uint16Array(count)
    order.forEach((p, rank) => (ranks[p] = rank))
    page = {
      category: category.dict[0] ?? '',
      chunkTraces,
      rowChunks,
      chunkOffsets,
      ranks,
      times: Uint32Array.from(entries, (e) => e.time - minTime),
      docLengths,
    }
  }
  return {
    count,
    minTime,
    maxTime,
    dims: deflateRawSync(w.done(), DEFLATE),
    strs: deflateRawSync(s.done(), DEFLATE),
    body: Buffer.concat(chunks),
    rowOffsets: rowOffsetsOf({ chunkTraces, rowChunks, chunkOffsets }),
    bloom: buildBloom(keys),
    page,
  }
}

/** The head of decoded dims: the count, the first time and the codec's flags. */
function readDimsHead(r: Reader): {
  count: number
  minTime: number
  flags: number
  chunkRows: boolean
  chunkTraces: number
  rowChunks: number
} {
  if (r.u8() !== CODEC_VERSION) throw new RangeError('unknown block version')
  const count = r.u32()
  const minTime = r.f64()
  const flags = r.u8()
  // Flag 4: the second form (a chunk size follows; the chunks are rows of their own); flag 8: a
  // row size follows (else one chunk a row); flag 16: the EXTRA_COLUMNS follow the DIM_COLUMNS.
  const chunkRows = (flags & 4) !== 0
  const chunkTraces = chunkRows ? r.u32() : FIRST_CHUNK_TRACES
  const rowChunks = (flags & 8) !== 0 ? r.u32() : 1
  if (rowChunks < 1) throw new RangeError('block rows of no chunk')
  return { count, minTime, flags, chunkRows, chunkTraces, rowChunks }
}

/**
 * The EXTRA_COLUMNS of a block's `dims` alone, the rest skipped, not decoded (a count over source
 * IPs needs no other column); null for a block written before they were kept. Throws RangeError
 * on a damaged block.
 */
export function decodeExtras(dims: Buffer): {
  readonly count: number
  readonly columns: Readonly<Record<ExtraColumn, DictColumn>>
} | null {
  const r = new Reader(inflateRawSync(dims))
  const { count, flags } = readDimsHead(r)
  if ((flags & 16) === 0) return null
  // times (8 bytes, or 4 as offsets), order, seq offsets (flag 1), document lengths: 4 bytes each
  r.skip(count * ((flags & 2) !== 0 ? 8 : 4) + count * 4 * ((flags & 1) !== 0 ? 3 : 2))
  r.skip(4 * r.u32()) // chunk offsets
  for (let k = 0; k < DIM_COLUMNS.length; k++) {
    r.skip(4 * r.u32()) // the dictionary's lengths
    r.skip(r.u32()) // and its text
    r.skip(r.u8() * count) // the ids
  }
  const columns = {} as Record<ExtraColumn, DictColumn>
  for (const column of EXTRA_COLUMNS) columns[column] = readExtra(r, count)
  return { count, columns }
}

/** Decodes a block's `dims`. Throws RangeError on a damaged block. */
export function decodeDims(dims: Buffer): BlockDims {
  const r = new Reader(inflateRawSync(dims))
  const { count, minTime, flags, chunkRows, chunkTraces, rowChunks } = readDimsHead(r)
  const times = new Float64Array(count)
  if ((flags & 2) !== 0) times.set(r.array((k) => new Float64Array(k), count))
  else {
    const offsets = r.array((k) => new Uint32Array(k), count)
    for (let p = 0; p < count; p++) times[p] = minTime + (offsets[p] ?? 0)
  }
  const order = r.array((k) => new Uint32Array(k), count)
  const seqOffsets = (flags & 1) !== 0 ? r.array((k) => new Uint32Array(k), count) : null
  const docLengths = r.array((k) => new Uint32Array(k), count)
  const chunkOffsets = r.array((k) => new Uint32Array(k), r.u32())
  if (chunkTraces < 1 || chunkOffsets.length !== Math.ceil(count / chunkTraces) + 1)
    throw new RangeError('block chunk offsets do not match its count')
  const columns = {} as Record<DimColumn, DictColumn>
  for (const column of DIM_COLUMNS) columns[column] = readDict(r, count)
  const extraBytes = (flags & 16) !== 0 ? r.rest() : null
  return {
    count,
    times,
    order,
    seqOffsets,
    docLengths,
    chunkTraces,
    rowChunks,
    chunkRows,
    chunkOffsets,
    columns,
    extraBytes,
  }
}

const decodedExtras = new WeakMap<BlockDims, Readonly<Record<ExtraColumn, DictColumn>>>()

/**
 * The EXTRA_COLUMNS of decoded dims (decoded once per dims object), or null for a block written
 * before they were kept. Throws RangeError on a damaged block.
 */
export function extraColumns(dims: BlockDims): Readonly<Record<ExtraColumn, DictColumn>> | null {
  if (dims.extraBytes === null) return null
  let extra = decodedExtras.get(dims)
  if (extra === undefined) {
    const r = new Reader(dims.extraBytes)
    const columns = {} as Record<ExtraColumn, DictColumn>
    for (const column of EXTRA_COLUMNS) columns[column] = readExtra(r, dims.count)
    decodedExtras.set(dims, (extra = columns))
  }
  return extra
}

/**
 * One EXTRA_COLUMNS column of decoded dims, or null as extraColumns: `code` alone skips the source
 * IPs' byte planes without making their strings (rollups keep codes, not addresses).
 */
export function extraColumn(dims: BlockDims, name: ExtraColumn): DictColumn | null {
  if (dims.extraBytes === null) return null
  const all = decodedExtras.get(dims)
  if (all !== undefined || name !== 'code') return (all ?? extraColumns(dims))?.[name] ?? null
  const r = new Reader(dims.extraBytes)
  const kind = r.u8()
  if (kind === 0) readDict(r, dims.count)
  else if (kind === 1) r.skip(Math.ceil(dims.count / 8) + 4 * dims.count)
  else throw new RangeError('unknown block column kind')
  return readExtra(r, dims.count)
}

/** Decodes a block's `strs`. Throws RangeError on a damaged block. */
export function decodeStrings(strs: Buffer): BlockStrings {
  const r = new Reader(inflateRawSync(strs))
  if (r.u8() !== CODEC_VERSION) throw new RangeError('unknown block version')
  const count = r.u32()
  const traceIds = readStrings(r)
  if (traceIds.length !== count) throw new RangeError('block trace ids do not match its count')
  return {
    traceIds,
    columns: { resource_id: readDict(r, count), resource_name: readDict(r, count) },
  }
}

/** The rank of every position (the inverse of `order`). */
export function ranksOf(dims: BlockDims): Uint32Array {
  const ranks = new Uint32Array(dims.count)
  dims.order.forEach((p, rank) => (ranks[p] = rank))
  return ranks
}

/** A chunk's bytes range in the body: [from, to). Throws RangeError past the chunk offsets. */
export function chunkRange(dims: BlockDims, chunk: number): { from: number; to: number } {
  const from = dims.chunkOffsets[chunk]
  const to = dims.chunkOffsets[chunk + 1]
  if (from === undefined || to === undefined || to < from)
    throw new RangeError('block chunk past its offsets')
  return { from, to }
}

/**
 * The documents at `ranks` (page order positions), in the order given; each chunk they fall in is
 * fetched (`chunkBytes`: its compressed bytes) and decompressed once. Throws RangeError on a damaged
 * body.
 */
export function readDocumentsFrom(
  chunkBytes: (chunk: number) => Buffer,
  layout: DocumentLayout,
  ranks: readonly number[],
): string[] {
  const { count, chunkTraces, lengthAt } = layout
  const chunks = new Map<number, { bytes: Buffer; starts: number[] }>()
  const chunkOf = (chunk: number): { bytes: Buffer; starts: number[] } => {
    let c = chunks.get(chunk)
    if (c === undefined) {
      const bytes = brotliDecompressSync(chunkBytes(chunk))
      const starts: number[] = []
      let at = 0
      for (let r = chunk * chunkTraces; r < Math.min(count, (chunk + 1) * chunkTraces); r++) {
        starts.push(at)
        at += lengthAt(r)
      }
      if (at !== bytes.length) throw new RangeError('block chunk does not match its lengths')
      c = { bytes, starts }
      chunks.set(chunk, c)
    }
    return c
  }
  return ranks.map((rank) => {
    if (rank < 0 || rank >= count) throw new RangeError('document rank past the block')
    const chunk = Math.floor(rank / chunkTraces)
    const c = chunkOf(chunk)
    const start = c.starts[rank - chunk * chunkTraces] ?? 0
    return c.bytes.toString('utf8', start, start + lengthAt(rank))
  })
}

/** `readDocumentsFrom` over a whole body in memory. */
export function readDocuments(body: Buffer, dims: BlockDims, ranks: readonly number[]): string[] {
  return readDocumentsFrom(
    (chunk) => {
      const { from, to } = chunkRange(dims, chunk)
      if (to > body.length) throw new RangeError('block chunk past the body')
      return body.subarray(from, to)
    },
    dimsLayout(dims),
    ranks,
  )
}

/** The value of a dictionary column at a position. */
export function valueAt(column: DictColumn, position: number): string | null {
  return column.dict[column.ids[position] ?? 0] ?? null
}

/** The EXTRA_COLUMNS of a stored document (`code` as its string form; null when absent). */
export function documentExtras(document: string): Record<ExtraColumn, string | null> {
  let trace: unknown
  try {
    trace = JSON.parse(document)
  } catch {
    return { source_ip: null, code: null }
  }
  const text = (v: unknown): string | null =>
    typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null
  const t = (typeof trace === 'object' && trace !== null ? trace : {}) as Record<string, unknown>
  return { source_ip: text(t.source_ip), code: text(t.code) }
}

/** The EXTRA_COLUMNS of position `p`: from the dims, or from its document in an older block. */
export function extrasAt(
  dims: BlockDims,
  p: number,
  document: string,
): Record<ExtraColumn, string | null> {
  const extra = extraColumns(dims)
  if (extra === null) return documentExtras(document)
  return { source_ip: valueAt(extra.source_ip, p), code: valueAt(extra.code, p) }
}

/** The id of `value` in a dictionary column, or -1 when the block does not hold it. */
export function idOf(column: DictColumn, value: string): number {
  return column.dict.indexOf(value, 1)
}
