import assert from 'node:assert/strict'
import { it } from 'node:test'
import {
  digestFileKey,
  formatKeyTime,
  parseDigestFileKey,
  parseKeyTime,
  parseTraceFileKey,
  regionSegment,
  traceFileKey,
} from './layout.js'

const T = Date.UTC(2023, 7, 30, 1, 50, 12, 345)

it('names trace files in the CTS layout, zero-padded UTC, with or without the service folder', () => {
  const name = {
    region: 'cn-southwest-2',
    regionSegment: 'cn-southwest-2',
    tracker: 'system',
    service: 'IMS',
    prefix: 'file',
    time: T,
    unique: 'd22ef9d12629392c',
    compress: 'gzip' as const,
  }
  assert.equal(
    traceFileKey(name),
    'CloudTraces/cn-southwest-2/2023/08/30/system/IMS/file_CloudTrace_cn-southwest-2_2023-08-30T01-50-12Z_d22ef9d12629392c.json.gz',
  )
  assert.equal(
    traceFileKey({ ...name, service: null, compress: 'json' }),
    'CloudTraces/cn-southwest-2/2023/08/30/system/file_CloudTrace_cn-southwest-2_2023-08-30T01-50-12Z_d22ef9d12629392c.json',
  )
  assert.deepEqual(parseTraceFileKey(traceFileKey(name)), { ...name, time: T - 345 })
  assert.deepEqual(parseTraceFileKey(traceFileKey({ ...name, service: null, prefix: 'a_b' })), {
    ...name,
    service: null,
    prefix: 'a_b',
    time: T - 345,
  })
})

it('names digest files under Digest/ with the end time', () => {
  const name = { region: 'r1', regionSegment: 'r1-abc', tracker: 'system', prefix: '', time: T }
  const key = digestFileKey(name)
  assert.equal(
    key,
    'CloudTraces/r1/2023/08/30/system/Digest/_CloudTrace-Digest_r1-abc_2023-08-30T01-50-12Z.json.gz',
  )
  assert.deepEqual(parseDigestFileKey(key), { ...name, time: T - 345 })
  assert.equal(parseTraceFileKey(key), undefined, 'a digest is not a trace file')
})

it('rejects keys that are not in the layout', () => {
  const good =
    'CloudTraces/r1/2023/08/30/system/IMS/p_CloudTrace_r1_2023-08-30T01-50-12Z_d22ef9d12629392c.json.gz'
  assert.ok(parseTraceFileKey(good))
  for (const bad of [
    good.replace('2023/08/30', '2023/08/31'),
    good.replace('d22ef9d12629392c', 'D22EF9D12629392C'),
    good.replace('.json.gz', '.json.gz.bak'),
    good.replace('T01-50-12Z', 'T25-50-12Z'),
    `x/${good}`,
  ])
    assert.equal(parseTraceFileKey(bad), undefined, bad)
})

it('formats and parses key times, and picks the region segment', () => {
  assert.equal(formatKeyTime(T), '2023-08-30T01-50-12Z')
  assert.equal(parseKeyTime('2023-08-30T01-50-12Z'), T - 345)
  assert.equal(parseKeyTime('2023-02-30T01-50-12Z'), undefined)
  assert.equal(regionSegment('r1', 'p1', true), 'r1')
  assert.equal(regionSegment('r1', 'p1', false), 'r1-p1')
})
