import assert from 'node:assert/strict'
import { brotliDecompressSync } from 'node:zlib'
import { it } from 'node:test'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import type { BlockEntry } from './block-codec.js'
import { entryValues } from './prepare-batch.js'
import { encodeIndexedBlock, valueKey } from './value-index.js'
import {
  bucketOf,
  decodePostingBucket,
  encodePostings,
  postingBuckets,
  postingsOf,
  type PostingBucket,
} from './value-postings.js'

const T0 = Date.UTC(2026, 11, 1, 10)

/** `count` entries of resources r-0..r-(kinds-1), several a second, documents of ~`size` bytes. */
function entries(count: number, kinds: number, size = 300): BlockEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const trace = makeTrace({
      project_id: 'p1',
      time: T0 + Math.floor(i / 3) * 1_000 + ((i * 7) % 5),
      resource_id: `r-${i % kinds}`,
      resource_name: `é-${(i * 5) % (kinds + 1)}`,
      message: 'x'.repeat(size + (i % 13)),
    })
    return { time: trace.time, values: entryValues(trace), document: JSON.stringify(trace) }
  })
}

/**
 * Encodes a block's postings and checks every value of both columns: listed under its key in its
 * bucket, at exactly its positions, with their times and places that cut out their documents.
 */
function roundTrip(list: BlockEntry[]): PostingBucket[] {
  const block = encodeIndexedBlock('p1', list)
  const page = block.values.page
  assert.ok(page !== null)
  const buckets = encodePostings({ ...block.values, page }).map(decodePostingBucket)
  assert.equal(buckets.length, postingBuckets(list.length))
  const chunkRow = (row: number): Buffer =>
    Buffer.from(block.body.subarray(block.rowOffsets[row], block.rowOffsets[row + 1]))
  for (const column of ['resource_id', 'resource_name'] as const) {
    for (const value of new Set(list.map((e) => e.values[column] as string))) {
      const key = valueKey('p1', column, value)
      const postings = postingsOf(buckets[bucketOf(key, buckets.length)] as PostingBucket, key)
      assert.ok(postings !== null, `${column} ${value} is listed`)
      assert.equal(postings.category, 'system')
      const want = list.flatMap((e, p) => (e.values[column] === value ? [p] : []))
      assert.deepEqual([...postings.positions], want, `${column} ${value}: its positions`)
      postings.positions.forEach((p, k) => {
        const entry = list[p] as BlockEntry
        assert.equal(block.minTime + (postings.times[k] ?? 0), entry.time)
        const place = postings.place(k)
        const chunk = brotliDecompressSync(
          chunkRow(place.row).subarray(place.chunkFrom, place.chunkTo),
        )
        const doc = chunk.toString('utf8', place.docFrom, place.docFrom + place.docLength)
        assert.equal(doc, entry.document, `${column} ${value}: the document of position ${p}`)
      })
    }
  }
  return buckets
}

it('lists every value of a block at its positions, times and document places', () => {
  const full = roundTrip(entries(2048, 700))
  assert.equal(full.length, 64)
  const sizes = full.map((b) => b.keys.buffer.byteLength)
  assert.ok(Math.max(...sizes) < 4000, `rows under a page: ${Math.max(...sizes)} bytes`)
  assert.equal(roundTrip(entries(5, 2)).length, 1)
  // Few values, each in many positions; a value missing from the block is not listed.
  const few = roundTrip(entries(300, 3))
  const key = valueKey('p1', 'resource_id', 'r-3')
  assert.equal(postingsOf(few[bucketOf(key, few.length)] as PostingBucket, key), null)
})

it('writes 4-byte places when a chunk holds more than 64 KiB', () => {
  const buckets = roundTrip(entries(40, 7, 30_000))
  assert.ok(buckets.every((b) => b.places instanceof Uint32Array))
})

it('refuses damaged rows', () => {
  const list = entries(200, 50)
  const block = encodeIndexedBlock('p1', list)
  const page = block.values.page
  assert.ok(page !== null)
  const [row] = encodePostings({ ...block.values, page })
  assert.ok(row !== undefined)
  assert.throws(() => decodePostingBucket(row.subarray(0, row.length - 2)), RangeError)
  assert.throws(() => decodePostingBucket(row.subarray(0, 8)), RangeError)
  const unknown = Buffer.from(row)
  unknown[8] = 4
  assert.throws(() => decodePostingBucket(unknown), RangeError)
  const n = row.readUInt32LE(0)
  const disordered = Buffer.from(row)
  const endsAt = 12 + 8 + 4 * n // "system" padded to 8 bytes
  disordered.writeUInt16LE(0xffff, endsAt)
  assert.throws(() => decodePostingBucket(disordered), RangeError)
})
