import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  CHUNK_TRACES,
  DIM_COLUMNS,
  bloomKey,
  decodeDims,
  decodeStrings,
  documentExtras,
  decodeExtras,
  dictSize,
  dictValue,
  encodeBlock,
  extraColumns,
  extrasAt,
  idOf,
  ranksOf,
  readDocuments,
  valueAt,
  type BlockEntry,
} from './block-codec.js'
import { bloomMayContain, KeyFilter } from './bloom.js'
import { traceKey } from './hashes.js'
import { firstFormDims } from '../../../../test/helpers/block-tamper.js'

function entry(i: number, time: number): BlockEntry {
  return {
    time,
    document: JSON.stringify({ i, text: 'é'.repeat(i % 7), time }),
    values: {
      trace_id: `id-${i}`,
      category: 'system',
      tracker_name: i % 3 === 0 ? null : 'system',
      service_type: `svc-${i % 5}`,
      resource_type: 'vm',
      resource_id: i % 4 === 0 ? null : `res-${i}`,
      resource_name: `name-${i % 300}`,
      trace_name: `op-${i % 11}`,
      trace_rating: i % 10 === 0 ? 'incident' : 'normal',
      user_name: `user-${i % 260}`,
      access_key_id: null,
      enterprise_project_id: '0',
    },
  }
}

test('a block decodes to what was encoded, newest first with later commits first on ties', () => {
  const entries = Array.from({ length: 300 }, (_, i) => entry(i, 1_000 + (i % 17) * 10))
  const block = encodeBlock(entries)
  assert.equal(block.count, 300)
  assert.equal(block.minTime, 1_000)
  assert.equal(block.maxTime, 1_160)
  const dims = decodeDims(block.dims)
  const strs = decodeStrings(block.strs)
  for (let p = 0; p < 300; p++) {
    const e = entries[p]!
    assert.equal(dims.times[p], e.time)
    assert.equal(strs.traceIds[p], e.values.trace_id)
    assert.equal(valueAt(strs.columns.resource_id, p), e.values.resource_id)
    for (const c of DIM_COLUMNS) assert.equal(valueAt(dims.columns[c], p), e.values[c], c)
  }
  // user_name has 260 distinct values (2-byte ids); page order is (time desc, position desc).
  assert.ok(dims.columns.user_name.ids instanceof Uint16Array)
  const order = [...dims.order]
  const want = entries
    .map((e, p) => ({ t: e.time, p }))
    .sort((a, b) => b.t - a.t || b.p - a.p)
    .map((x) => x.p)
  assert.deepEqual(order, want)
  const ranks = ranksOf(dims)
  const sample = [0, 31, 32, 299, 45]
  const docs = readDocuments(
    block.body,
    dims,
    sample.map((p) => ranks[p]!),
  )
  assert.deepEqual(
    docs,
    sample.map((p) => entries[p]!.document),
  )
  assert.ok(Math.ceil(300 / CHUNK_TRACES) + 1 === dims.chunkOffsets.length)
  assert.equal(idOf(dims.columns.service_type, 'svc-3') > 0, true)
  assert.equal(idOf(dims.columns.service_type, 'svc-9'), -1)
})

test('merged blocks keep their seq offsets; damaged blocks throw instead of decoding wrongly', () => {
  const entries = [0, 1, 2, 3].map((i) => ({ ...entry(i, 5_000), seqOffset: i * 3 }))
  const block = encodeBlock(entries)
  const dims = decodeDims(block.dims)
  assert.deepEqual([...(dims.seqOffsets ?? [])], [0, 3, 6, 9])
  assert.deepEqual([...dims.order], [3, 2, 1, 0])
  assert.equal(decodeDims(encodeBlock([entry(0, 1)]).dims).seqOffsets, null)
  const body = Buffer.from(block.body)
  body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff
  assert.throws(() => readDocuments(body, dims, [0]))
  assert.throws(() => decodeDims(block.dims.subarray(0, block.dims.length - 3)))
})

test('bloom filters hold every value of a block and reject most others', () => {
  const entries = Array.from({ length: 500 }, (_, i) => entry(i, 1))
  const block = encodeBlock(entries)
  for (const e of entries) {
    assert.ok(bloomMayContain(block.bloom, bloomKey('n', e.values.resource_name ?? '')))
    assert.ok(bloomMayContain(block.bloom, bloomKey('u', e.values.user_name ?? '')))
  }
  let hits = 0
  for (let i = 0; i < 2_000; i++) if (bloomMayContain(block.bloom, bloomKey('i', `x-${i}`))) hits++
  assert.ok(hits < 100, `${hits} false positives of 2,000`)
  const filter = new KeyFilter(10_000)
  for (let i = 0; i < 10_000; i++) filter.add(traceKey('p', `t-${i}`))
  for (let i = 0; i < 10_000; i++) assert.ok(filter.mayContain(traceKey('p', `t-${i}`)))
  let false_ = 0
  for (let i = 0; i < 10_000; i++) if (filter.mayContain(traceKey('q', `t-${i}`))) false_++
  assert.ok(false_ < 500, `${false_} false positives of 10,000`)
  assert.ok(traceKey('p', 'a') <= Number.MAX_SAFE_INTEGER)
})

test('a block of the first form (64 documents a chunk, unsaid) reads as before', () => {
  const entries = Array.from({ length: 200 }, (_, i) => entry(i, 2_000 + i))
  const block = encodeBlock(entries, 64)
  const dims = decodeDims(firstFormDims(block.dims))
  assert.equal(dims.chunkTraces, 64)
  assert.equal(dims.chunkOffsets.length, Math.ceil(200 / 64) + 1)
  const ranks = ranksOf(dims)
  const sample = [0, 63, 64, 199, 130]
  assert.deepEqual(
    readDocuments(
      block.body,
      dims,
      sample.map((p) => ranks[p]!),
    ),
    sample.map((p) => entries[p]!.document),
  )
  // Chunk offsets that do not match the chunk size are damage, not a different layout.
  const unsaid = firstFormDims(encodeBlock(entries, 32).dims, 32)
  assert.throws(() => decodeDims(unsaid), /chunk offsets/)
  assert.equal(decodeDims(encodeBlock(entries).dims).chunkTraces, CHUNK_TRACES)
})

test('extra columns: IPv4 addresses as byte planes, other values as a dictionary, nulls kept', () => {
  const ips = (i: number): string | null =>
    i % 9 === 0 ? null : `${10 + (i % 3)}.${i % 256}.${(i * 7) % 256}.${(i * 13) % 256}`
  const cases: [string, (i: number) => string | null][] = [
    ['many IPv4 addresses', ips],
    ['many IPv4 addresses, each repeated', (i) => ips(i % 150)],
    ['IPv6 among them', (i) => (i === 5 ? '2001:db8::1' : ips(i))],
    ['a non-canonical IPv4 (leading zero) among them', (i) => (i === 7 ? '10.0.0.07' : ips(i))],
    ['few values', (i) => (i % 2 === 0 ? '192.0.2.1' : null)],
  ]
  for (const [label, ipOf] of cases) {
    const entries = Array.from({ length: 400 }, (_, i) => {
      const e = entry(i, 1_000 + i)
      return {
        ...e,
        values: {
          ...e.values,
          source_ip: ipOf(i),
          code: i % 5 === 0 ? null : String(200 + (i % 4)),
        },
      }
    })
    const dims = decodeDims(encodeBlock(entries).dims)
    const extra = extraColumns(dims)
    assert.ok(extra !== null, label)
    for (let p = 0; p < entries.length; p++) {
      assert.equal(valueAt(extra.source_ip, p), entries[p]!.values.source_ip, `${label} ${p}`)
      assert.equal(valueAt(extra.code, p), entries[p]!.values.code, `${label} ${p}`)
      assert.deepEqual(extrasAt(dims, p, ''), {
        source_ip: entries[p]!.values.source_ip,
        code: entries[p]!.values.code,
      })
    }
    assert.equal(extraColumns(dims), extra, 'decoded once per dims')
    assert.deepEqual(decodeExtras(encodeBlock(entries).dims), { count: 400, columns: extra })
    // With seq offsets (a merged block) and times past 32 bits of offset: the sections skipped grow.
    const variant = entries.map((e, p) => ({
      ...e,
      seqOffset: 2 * p,
      time: p === 0 ? e.time - 2 ** 33 : e.time,
    }))
    const encoded = encodeBlock(variant).dims
    assert.deepEqual(decodeExtras(encoded)?.columns, extraColumns(decodeDims(encoded)), label)
    for (let id = 0; id <= extra.source_ip.dict.length; id++)
      assert.equal(
        dictValue(extra.source_ip, id),
        extra.source_ip.dict[id] ?? null,
        `${label} ${id}`,
      )
    assert.equal(dictSize(extra.source_ip), extra.source_ip.dict.length)
    const distinct = new Set(entries.map((e) => e.values.source_ip).filter((v) => v !== null))
    assert.equal(extra.source_ip.dict.length - 1, distinct.size, `${label}: each value once`)
  }
})

test('a block written without extra columns reads them from its documents', () => {
  // entry() sets no source_ip / code: the block keeps no extra columns (as before flag 16).
  const entries = Array.from({ length: 40 }, (_, i) => ({
    ...entry(i, 1_000 + i),
    document: JSON.stringify({
      i,
      source_ip: i % 3 === 0 ? null : `192.0.2.${i}`,
      code: i % 2 === 0 ? 403 : '201',
    }),
  }))
  const dims = decodeDims(encodeBlock(entries).dims)
  assert.equal(dims.extraBytes, null)
  assert.equal(extraColumns(dims), null)
  assert.equal(decodeExtras(encodeBlock(entries).dims), null)
  for (let p = 0; p < entries.length; p++)
    assert.deepEqual(extrasAt(dims, p, entries[p]!.document), {
      source_ip: p % 3 === 0 ? null : `192.0.2.${p}`,
      code: p % 2 === 0 ? '403' : '201',
    })
  assert.deepEqual(documentExtras('not json'), { source_ip: null, code: null })
})
