/**
 * Tests of `BucketScan` and `chooseSegment`: only the day folders of the range are listed, only
 * this tracker's and prefix's files are kept, and several projects in one folder need a project id.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../errors/index.js'
import { digestFileKey, traceFileKey } from '../layout.js'
import type { ObjectInfo, ObjectSink } from '../object-sink.js'
import { BucketScan, chooseSegment } from './bucket-scan.js'

const T = Date.UTC(2026, 0, 10, 12, 0, 0)
const DAY = 86_400_000

function fileKey(
  time: number,
  overrides: { tracker?: string; prefix?: string; segment?: string } = {},
) {
  return traceFileKey({
    region: 'r-1',
    regionSegment: overrides.segment ?? 'r-1',
    tracker: overrides.tracker ?? 'system',
    service: 'IMS',
    prefix: overrides.prefix ?? '',
    time,
    unique: '00000000000000ab',
    compress: 'gzip',
  })
}

/** A read-only sink over fixed keys that records the prefixes listed. */
function listingSink(keys: readonly string[]): { sink: ObjectSink; listed: string[] } {
  const listed: string[] = []
  const sink = {
    description: 'keys',
    list: async (_bucket: string, prefix: string): Promise<ObjectInfo[]> => {
      listed.push(prefix)
      return keys.filter((k) => k.startsWith(prefix)).map((key) => ({ key, size: 1 }))
    },
  } as unknown as ObjectSink
  return { sink, listed }
}

describe('BucketScan', () => {
  it('lists one folder per UTC day of the range, once each', async () => {
    const { sink, listed } = listingSink([])
    const scan = new BucketScan(sink, 'b', 'r-1', 'system', '')
    await scan.listDays(T - DAY, T)
    await scan.listDays(T - 2 * DAY, T)
    assert.deepEqual(listed, [
      'CloudTraces/r-1/2026/01/09/system/',
      'CloudTraces/r-1/2026/01/10/system/',
      'CloudTraces/r-1/2026/01/08/system/',
    ])
    assert.equal(BucketScan.dayCount(T - DAY, T), 2)
  })

  it("keeps this tracker's and prefix's trace and digest files, by segment", async () => {
    const digest = digestFileKey({
      region: 'r-1',
      regionSegment: 'r-1',
      tracker: 'system',
      prefix: '',
      time: T,
    })
    const { sink } = listingSink([
      fileKey(T - 1000),
      fileKey(T - 2000, { prefix: 'other' }),
      fileKey(T - 3000, { segment: 'r-1-0123' }),
      fileKey(T - 4000, { tracker: 'system2' }),
      digest,
      'CloudTraces/r-1/2026/01/10/system/notes.txt',
    ])
    const scan = new BucketScan(sink, 'b', 'r-1', 'system', '')
    await scan.listDays(T, T)
    assert.deepEqual(scan.segments(), ['r-1'])
    assert.deepEqual(
      scan.files('r-1').map((f) => f.key),
      [fileKey(T - 1000)],
    )
    assert.deepEqual(
      scan.digests('r-1').map((d) => [d.key, d.time]),
      [[digest, T]],
    )
  })
})

describe('chooseSegment', () => {
  it('takes the only segment, or none', () => {
    assert.equal(chooseSegment(['r-1'], 'r-1', undefined), 'r-1')
    assert.equal(chooseSegment([], 'r-1', undefined), null)
  })

  it('asks for the project id when several projects share the folder', () => {
    assert.throws(
      () => chooseSegment(['r-1', 'r-1-abc'], 'r-1', undefined),
      (error: unknown) =>
        isOpenCtsError(error) &&
        error.code === 'OCTS_ERR_PROJECT_ID' &&
        /project id/.test(error.message),
    )
  })

  it("picks the project's own segment, else the default project's", () => {
    assert.equal(chooseSegment(['r-1', 'r-1-abc'], 'r-1', 'abc'), 'r-1-abc')
    assert.equal(chooseSegment(['r-1', 'r-1-abc'], 'r-1', 'def'), 'r-1')
    assert.equal(chooseSegment(['r-1-abc'], 'r-1', 'def'), 'r-1-def')
  })
})
