/**
 * Setting a tracker's bucket through the API, as the README tour does, against both object sinks
 * (the local folder and s3rver on loopback), read back with an independent reader:
 *
 * - README §4 then §8: the bucket named first without `is_obs_created` (transfer then reports
 *   `noBucket`), then the same name again with `is_obs_created: true`: the bucket is created and
 *   every trace goes out (issue 14, defect 11).
 * - The management tracker exists from the project's first call; transfer cycles that run before
 *   any bucket is set must not skip the traces stored meanwhile: once a bucket is set, every earlier
 *   trace still in the store is delivered (issue 14, defect 10, docs/transfer.md).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import { folderReader, s3Reader, type BucketReader } from './helpers/bucket-readers.js'
import { reportedTrace } from './helpers/make-trace.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'
import { buildTestApp, call, TEST_NOW, TEST_PROJECTS, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]

interface SinkCase {
  readonly sink: ObjectSink
  readonly reader: BucketReader
  close(): Promise<void>
}

async function app(t: TestContext, sink: ObjectSink): Promise<TestApp & { run(): Promise<void> }> {
  const built = await buildTestApp(t, {}, { objectSink: sink })
  const transfer = built.services.transfer
  assert.ok(transfer, 'transfer runs with an object sink')
  return {
    ...built,
    async run() {
      await transfer.runCycle()
    },
  }
}

/** Reports `count` traces through the API; returns their trace ids. */
async function ingest(a: TestApp, count: number, name: string): Promise<string[]> {
  const traces = Array.from({ length: count }, (_, i) =>
    reportedTrace({ time: TEST_NOW - 60_000 + i, trace_name: name }),
  )
  const posted = await call(a.app, 'POST', `/v3/${P}/traces`, { traces })
  assert.equal(posted.status, 201, JSON.stringify(posted.body))
  return posted.body.trace_ids as string[]
}

async function system(a: TestApp): Promise<{ status: string; detail?: string }> {
  const listed = await call(a.app, 'GET', `/v3/${P}/trackers?tracker_name=system`)
  assert.equal(listed.status, 200)
  return listed.body.trackers[0]
}

/** The ids of the reported traces (`trace_name` starting with `tour`) in every file of a bucket. */
async function delivered(reader: BucketReader, bucket: string): Promise<string[]> {
  const ids: string[] = []
  for (const key of await reader.keys(bucket, 'CloudTraces/')) {
    if (key.includes('/Digest/')) continue
    const { body } = await reader.read(bucket, key)
    const traces = JSON.parse(gunzipSync(body).toString('utf8')) as Record<string, unknown>[]
    for (const trace of traces)
      if (String(trace.trace_name).startsWith('tour')) ids.push(String(trace.trace_id))
  }
  return ids.sort()
}

function putSystem(a: TestApp, obs: Record<string, unknown>): ReturnType<typeof call> {
  return call(a.app, 'PUT', `/v3/${P}/tracker`, {
    tracker_type: 'system',
    tracker_name: 'system',
    is_support_validate: true,
    obs_info: { file_prefix_name: 'cts', ...obs },
  })
}

function suite(makeCase: () => Promise<SinkCase>): void {
  let c: SinkCase
  before(async () => {
    c = await makeCase()
  })
  after(() => c.close())

  it('README §4 then §8: the same bucket again with is_obs_created creates it; nothing is lost', async (t) => {
    const a = await app(t, c.sink)
    const bucket = 'tour-archive'
    const s4 = await putSystem(a, { bucket_name: bucket })
    assert.equal(s4.status, 200, JSON.stringify(s4.body))
    const early = await ingest(a, 3, 'tourEarly')
    await a.run()
    const missing = await system(a)
    assert.deepEqual([missing.status, missing.detail], ['error', 'noBucket'])
    assert.equal(await c.sink.bucketExists(bucket), false)

    const s8 = await putSystem(a, { bucket_name: bucket, is_obs_created: true })
    assert.equal(s8.status, 200, JSON.stringify(s8.body))
    // The answer no longer carries the error of the bucket as it was before.
    assert.deepEqual([s8.body.status, s8.body.detail], ['enabled', undefined])
    assert.equal(await c.sink.bucketExists(bucket), true, '§8 creates the bucket')
    const late = await ingest(a, 2, 'tourLate')
    await a.run()
    assert.equal((await system(a)).status, 'enabled', 'healed once the bucket exists')
    assert.deepEqual(await delivered(c.reader, bucket), [...early, ...late].sort())

    const again = await putSystem(a, { bucket_name: bucket, is_obs_created: true })
    assert.equal(again.status, 200, 'its own existing bucket is no CTS.0215')
    const taken = 'tour-taken'
    await c.sink.createBucket(taken)
    const other = await putSystem(a, { bucket_name: taken, is_obs_created: true })
    assert.equal(other.status, 400)
    assert.equal(other.body.error_code, 'CTS.0215', 'another existing bucket still is')
  })

  it('delivers the traces stored before the first bucket, though cycles ran without one', async (t) => {
    const a = await app(t, c.sink)
    const bucket = 'late-archive'
    const first = await ingest(a, 4, 'tourBefore')
    await a.run()
    const second = await ingest(a, 3, 'tourBetween')
    await a.run()
    const set = await putSystem(a, { bucket_name: bucket, is_obs_created: true })
    assert.equal(set.status, 200, JSON.stringify(set.body))
    const third = await ingest(a, 2, 'tourAfter')
    await a.run()
    assert.equal((await system(a)).status, 'enabled')
    assert.deepEqual(await delivered(c.reader, bucket), [...first, ...second, ...third].sort())
  })

  it('does not send what was recorded while a bucket was removed (CTS: transfer stopped)', async (t) => {
    const a = await app(t, c.sink)
    const bucket = 'paused-archive'
    assert.equal((await putSystem(a, { bucket_name: bucket, is_obs_created: true })).status, 200)
    const sent = await ingest(a, 2, 'tourSent')
    await a.run()
    assert.equal((await putSystem(a, { bucket_name: '' })).status, 200)
    await ingest(a, 2, 'tourSkipped')
    await a.run()
    assert.equal((await putSystem(a, { bucket_name: bucket })).status, 200)
    const resumed = await ingest(a, 1, 'tourResumed')
    await a.run()
    assert.deepEqual(await delivered(c.reader, bucket), [...sent, ...resumed].sort())
  })
}

describe('tracker bucket set up through the API, local folder', () => {
  suite(() => {
    const root = mkdtempSync(join(tmpdir(), 'opencts-bucket-setup-'))
    return Promise.resolve({
      sink: new FsObjectSink(root),
      reader: folderReader(root),
      close: () => Promise.resolve(),
    })
  })
})

describe('tracker bucket set up through the API, S3 (s3rver)', () => {
  suite(async () => {
    const server: S3Server = await startS3Server()
    const reader = s3Reader(server)
    return {
      sink: new S3ObjectSink(server.settings),
      reader,
      async close() {
        reader.close()
        await server.stop()
      },
    }
  })
})
