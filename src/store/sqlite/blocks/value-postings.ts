/**
 * @module store/sqlite/blocks/value-postings
 * The value index of a block with page columns (schema version 12), cut by key into small rows of
 * `trace_postings` that say, for each position they list, everything a resource page needs: the
 * position (its seq), its time, and where its document is (chunk row, the chunk's bytes in it, the
 * document's bytes in the decompressed chunk). A resource page then reads one posting row (a
 * fraction of a page) and one chunk row per block, instead of the block's whole value index with
 * its page columns (~18 KB, 5–9 pages, most of such a page's time when they had left the file
 * cache: ~250 µs a block cold, ~40 µs warm).
 *
 * A block of `count` traces has postingBuckets(count) rows (`id` = block id × POSTING_SPAN +
 * bucket), empty ones included, so a block without them is one written before (its `trace_vals`
 * row then holds the keys). A value's 48-bit key goes to bucket `low 32 bits mod buckets`, stored
 * as those 32 bits: two values sharing them are listed together, and the page checks the values
 * of what it returns (value-index).
 *
 * Row: key count n, posting count m (u32 each), flags (u8: 1 = wide, location fields of 4 bytes),
 * category length (u8), 2 bytes zero, the category (UTF-8, to a multiple of 4); keys (u32, n,
 * ascending), each key's postings end (u16, n, to a multiple of 4 bytes); per posting times (u32,
 * ms after the block's first), then positions, chunk rows (u16), then chunk start, chunk end,
 * document start, document length (u16, or u32 when wide), each m.
 */
import { chunkInRow, pageLayout, type PageColumns } from './block-codec.js'
import type { ValueRows } from './value-index.js'

/** Posting row ids a block owns: [id × POSTING_SPAN, (id + 1) × POSTING_SPAN). */
export const POSTING_SPAN = 64
/** Traces per bucket a block aims at (a row of ~64 postings, ~1 KB: several share a leaf page). */
const TRACES_PER_BUCKET = 32

/** How many posting rows a block of `count` traces has. */
export function postingBuckets(count: number): number {
  return Math.min(POSTING_SPAN, Math.max(1, Math.ceil(count / TRACES_PER_BUCKET)))
}

/** The bucket of a 48-bit value key in a block of `buckets` rows. */
export function bucketOf(key: number, buckets: number): number {
  return (key % 0x1_0000_0000) % buckets
}

/** The row id of bucket `bucket` of block `blockId`. */
export function postingRowId(blockId: number, bucket: number): number {
  return blockId * POSTING_SPAN + bucket
}

/** Where a document is: its chunk row, the chunk's bytes in the row, its bytes in the chunk. */
export interface DocumentPlace {
  readonly row: number
  readonly chunkFrom: number
  readonly chunkTo: number
  readonly docFrom: number
  readonly docLength: number
}

/** A decoded posting row. */
export interface PostingBucket {
  readonly category: string
  readonly keys: Uint32Array
  readonly ends: Uint16Array
  readonly times: Uint32Array
  readonly positions: Uint16Array
  readonly rows: Uint16Array
  /** Chunk start, chunk end, document start, document length: four per posting. */
  readonly places: Uint16Array | Uint32Array
}

/** The postings of one key in a bucket (views of its arrays). */
export interface Postings {
  readonly category: string
  readonly positions: Uint16Array
  readonly times: Uint32Array
  place(k: number): DocumentPlace
}

const align4 = (n: number): number => (n + 3) & ~3

/**
 * Each position's document place, from the page columns (chunk layout, lengths by rank): five
 * arrays by position (chunk row, chunk start and end in the row, document start in the chunk and
 * length).
 */
function placesOf(page: PageColumns): Uint32Array[] {
  const layout = pageLayout(page)
  const count = page.ranks.length
  const byRank = Array.from({ length: 5 }, () => new Uint32Array(count))
  const [row, chunkFrom, chunkTo, docFrom, docLength] = byRank as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ]
  for (let chunk = 0; chunk * page.chunkTraces < count; chunk++) {
    const at = chunkInRow(layout, chunk)
    let start = 0
    const end = Math.min(count, (chunk + 1) * page.chunkTraces)
    for (let rank = chunk * page.chunkTraces; rank < end; rank++) {
      row[rank] = at.row
      chunkFrom[rank] = at.from
      chunkTo[rank] = at.to
      docFrom[rank] = start
      docLength[rank] = layout.lengthAt(rank)
      start += docLength[rank] ?? 0
    }
  }
  // By position (a loop: Uint32Array.from with a map function runs V8's iterator protocol).
  return byRank.map((column) => {
    const byPosition = new Uint32Array(count)
    for (let p = 0; p < count; p++) byPosition[p] = column[page.ranks[p] ?? 0] ?? 0
    return byPosition
  })
}

/**
 * The posting rows of a block's index (rows with page columns; see the module comment), bucket
 * 0 first. Runs on the event loop when the block is written: ~0.9 ms for a full block of 2,048
 * bench-like traces (0.4 µs a trace; timed with a throwaway script over 100 encodings).
 */
export function encodePostings(rows: ValueRows & { readonly page: PageColumns }): Buffer[] {
  const page = rows.page
  const buckets = postingBuckets(page.ranks.length)
  const [row, chunkFrom, chunkTo, docFrom, docLength] = placesOf(page) as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ]
  let wide = false
  for (let p = 0; p < page.ranks.length; p++)
    if ((chunkTo[p] ?? 0) > 0xffff || (docFrom[p] ?? 0) + (docLength[p] ?? 0) > 0xffff) wide = true
  // Each bucket's index rows ordered by their keys' low 32 bits: (low × 2^13 + row) in a
  // Float64Array sorts numerically without a comparator (a block has at most 4,096 index rows).
  const n = rows.keys.length
  const byBucket: number[][] = Array.from({ length: buckets }, () => [])
  for (let r = 0; r < n; r++) {
    const low = (rows.keys[r] ?? 0) % 0x1_0000_0000
    byBucket[low % buckets]?.push(low * 8192 + r)
  }
  const category = Buffer.from(page.category, 'utf8')
  if (category.length > 0xff) throw new RangeError('a category of more than 255 bytes')
  const head = 12 + align4(category.length)
  const width = wide ? 4 : 2
  return byBucket.map((packed) => {
    const order = Float64Array.from(packed).sort()
    // Keys (two index rows may share their low 32 bits: one key) and their posting counts.
    const keys: number[] = []
    let m = 0
    for (const v of order) {
      const low = Math.floor(v / 8192)
      if (keys.at(-1) !== low) keys.push(low)
      const r = v % 8192
      m += (rows.offsets[r + 1] ?? 0) - (rows.offsets[r] ?? 0)
    }
    const timesAt = head + 4 * keys.length + align4(2 * keys.length)
    const placesAt = timesAt + 8 * m
    const buffer = new ArrayBuffer(placesAt + 4 * width * m)
    const out = Buffer.from(buffer)
    out.writeUInt32LE(keys.length, 0)
    out.writeUInt32LE(m, 4)
    out[8] = wide ? 1 : 0
    out[9] = category.length
    out.set(category, 12)
    new Uint32Array(buffer, head, keys.length).set(keys)
    const ends = new Uint16Array(buffer, head + 4 * keys.length, keys.length)
    const times = new Uint32Array(buffer, timesAt, m)
    const positions = new Uint16Array(buffer, timesAt + 4 * m, m)
    const rowsOut = new Uint16Array(buffer, timesAt + 6 * m, m)
    const places = wide
      ? new Uint32Array(buffer, placesAt, 4 * m)
      : new Uint16Array(buffer, placesAt, 4 * m)
    let k = 0
    let key = 0
    for (let i = 0; i < order.length;) {
      // The positions of one key, ascending (merged when index rows share it).
      const low = Math.floor((order[i] ?? 0) / 8192)
      const listed: number[] = []
      for (; i < order.length && Math.floor((order[i] ?? 0) / 8192) === low; i++) {
        const r = (order[i] ?? 0) % 8192
        for (let at = rows.offsets[r] ?? 0; at < (rows.offsets[r + 1] ?? 0); at++)
          listed.push(rows.positions[at] ?? 0)
      }
      if (listed.length > 1) listed.sort((x, y) => x - y)
      for (const p of listed) {
        times[k] = page.times[p] ?? 0
        positions[k] = p
        rowsOut[k] = row[p] ?? 0
        places[k] = chunkFrom[p] ?? 0
        places[m + k] = chunkTo[p] ?? 0
        places[2 * m + k] = docFrom[p] ?? 0
        places[3 * m + k] = docLength[p] ?? 0
        k++
      }
      ends[key++] = k
    }
    return out
  })
}

/** Reads a posting row. Throws RangeError when it is damaged. */
export function decodePostingBucket(blob: Uint8Array): PostingBucket {
  if (blob.byteLength < 12) throw new RangeError('posting row too short')
  const copy = new Uint8Array(blob) // aligned for the typed arrays below
  const view = new DataView(copy.buffer)
  const n = view.getUint32(0, true)
  const m = view.getUint32(4, true)
  const flags = copy[8] ?? 0
  const categoryLength = copy[9] ?? 0
  if ((flags & ~1) !== 0) throw new RangeError('posting row of an unknown form')
  const width = (flags & 1) === 1 ? 4 : 2
  const head = 12 + align4(categoryLength)
  const timesAt = head + 4 * n + align4(2 * n)
  const placesAt = timesAt + 8 * m
  if (placesAt + 4 * width * m !== copy.byteLength || m > 0xffff)
    throw new RangeError('posting row does not add up')
  const ends = new Uint16Array(copy.buffer, head + 4 * n, n)
  let last = 0
  for (const end of ends) {
    if (end < last || end > m) throw new RangeError('posting row ends out of order')
    last = end
  }
  if (n > 0 && last !== m) throw new RangeError('posting row ends do not add up')
  return {
    category: Buffer.from(copy.buffer, 12, categoryLength).toString('utf8'),
    keys: new Uint32Array(copy.buffer, head, n),
    ends,
    times: new Uint32Array(copy.buffer, timesAt, m),
    positions: new Uint16Array(copy.buffer, timesAt + 4 * m, m),
    rows: new Uint16Array(copy.buffer, timesAt + 6 * m, m),
    places:
      width === 4
        ? new Uint32Array(copy.buffer, placesAt, 4 * m)
        : new Uint16Array(copy.buffer, placesAt, 4 * m),
  }
}

/** Memory a decoded row holds (one copy of its bytes). */
export function postingBucketBytes(bucket: PostingBucket): number {
  return bucket.keys.buffer.byteLength
}

/** The postings listed under a 48-bit key in its bucket, or null when it has none. */
export function postingsOf(bucket: PostingBucket, key: number): Postings | null {
  const low = key % 0x1_0000_0000
  let lo = 0
  let hi = bucket.keys.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const k = bucket.keys[mid] ?? 0
    if (k === low) {
      const from = mid === 0 ? 0 : (bucket.ends[mid - 1] ?? 0)
      const to = bucket.ends[mid] ?? from
      const m = bucket.times.length
      return {
        category: bucket.category,
        positions: bucket.positions.subarray(from, to),
        times: bucket.times.subarray(from, to),
        place: (k) => {
          const at = from + k
          const field = (f: number): number => bucket.places[f * m + at] ?? 0
          return {
            row: bucket.rows[at] ?? 0,
            chunkFrom: field(0),
            chunkTo: field(1),
            docFrom: field(2),
            docLength: field(3),
          }
        },
      }
    }
    if (k < low) lo = mid + 1
    else hi = mid - 1
  }
  return null
}

/** The page columns left in a `trace_vals` row beside posting rows: no keys of its own. */
export function withoutKeys(rows: ValueRows): ValueRows {
  return {
    keys: new Float64Array(0),
    offsets: new Uint32Array(1),
    positions: new Uint16Array(0),
    page: rows.page,
  }
}
