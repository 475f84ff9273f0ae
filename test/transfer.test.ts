/**
 * Trace transfer end to end against both object sinks: the local folder and a real S3 server on
 * loopback (s3rver). Files are read back with an independent reader (node:fs for the folder, the
 * AWS SDK's own S3Client for S3) and byte-checked against the stored traces: the CTS key layout,
 * the gzip/JSON content, digests and their signatures, health (noBucket / bucketPolicyError) and
 * recovery, replay of a batch interrupted mid-way, and encryption.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { OpenCtsError } from '../src/errors/index.js'
import {
  digestSigningString,
  parseDigest,
  publicKeyFingerprint,
  sha256Hex,
  verifyDigestSignature,
} from '../src/integrity/digest.js'
import { toFileTrace, type TraceRecord, type Tracker } from '../src/model/index.js'
import { FakeClock } from '../src/platform/clock.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { openEnvelope } from '../src/transfer/envelope.js'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import { parseDigestFileKey, parseTraceFileKey } from '../src/transfer/layout.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import { TransferService } from '../src/transfer/transfer-service.js'
import { folderReader, s3Reader, type BucketReader } from './helpers/bucket-readers.js'
import { makeTrace } from './helpers/make-trace.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'

const NOW = Date.UTC(2026, 11, 31, 23, 59, 30)
const PERIOD_S = 60
const REGION = 'local-1'
const PROJECT = '0123456789abcdef0123456789abcdef'
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
const FINGERPRINT = publicKeyFingerprint(signingKey.publicKey)
const kmsMaterial = randomBytes(32)

/** Reads a bucket without OpenCTS code: node:fs for the folder, the AWS SDK for S3. */
interface SinkCase {
  readonly name: string
  readonly sink: ObjectSink
  readonly reader: BucketReader
  /** A sink on the same store whose writes are refused. */
  readonly denied: ObjectSink
  createBucket(bucket: string): Promise<void>
  close(): Promise<void>
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

function folderCase(): SinkCase {
  const root = mkdtempSync(join(tmpdir(), 'opencts-transfer-fs-'))
  const sink = new FsObjectSink(root)
  // A root that is a regular file: every bucket path fails with ENOTDIR (bucketPolicyError).
  const blocked = join(mkdtempSync(join(tmpdir(), 'opencts-transfer-fs-')), 'not-a-folder')
  writeFileSync(blocked, '')
  return {
    name: 'local folder',
    sink,
    denied: new FsObjectSink(blocked),
    createBucket: (bucket) => sink.createBucket(bucket),
    close: () => Promise.resolve(),
    reader: folderReader(root),
  }
}

function s3Case(server: S3Server): SinkCase {
  const reader = s3Reader(server)
  const sink = new S3ObjectSink(server.settings)
  return {
    name: 'S3 (s3rver)',
    sink,
    denied: new S3ObjectSink(
      { ...server.settings, accessKeyId: 'WRONG', secretAccessKey: 'WRONG' },
      { maxAttempts: 1 },
    ),
    createBucket: (bucket) => sink.createBucket(bucket),
    async close() {
      reader.close()
      await server.stop()
    },
    reader,
  }
}

interface Harness {
  readonly store: SqliteStore
  readonly clock: FakeClock
  readonly service: TransferService
  readonly errors: unknown[]
  tracker(
    name: string,
    patch: Partial<Tracker>,
    obs?: Partial<Tracker['obs_info']>,
  ): Promise<Tracker>
  ingest(traces: TraceRecord[]): Promise<void>
  current(id: string): Promise<Tracker>
}

async function harness(t: TestContext, sink: ObjectSink): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-transfer-db-'))
  const store = openSqliteStore({ path: join(dir, 'opencts.db') })
  t.after(() => store.close())
  const clock = new FakeClock(NOW)
  const errors: unknown[] = []
  const service = new TransferService({
    traces: store.traces,
    transfer: store.transfer,
    config: store.config,
    sink,
    clock,
    signer: {
      keyFor: () =>
        Promise.resolve({ fingerprint: FINGERPRINT, privateKey: signingKey.privateKey }),
    },
    kms: { current: (kmsId) => Promise.resolve({ kmsId, version: 1, material: kmsMaterial }) },
    region: REGION,
    intervalMs: 1000,
    digestPeriodSeconds: PERIOD_S,
    isDefaultProject: (projectId) => Promise.resolve(projectId === PROJECT),
    onError: (error) => errors.push(error),
  })
  return {
    store,
    clock,
    service,
    errors,
    async tracker(name, patch, obs = {}) {
      const base = newTracker({
        id: randomBytes(16).toString('hex'),
        now: NOW - 60_000,
        projectId: PROJECT,
        domainId: 'd1',
        type: name === 'system' ? 'system' : 'data',
        name,
      })
      const tracker: Tracker = { ...base, ...patch, obs_info: { ...base.obs_info, ...obs } }
      await store.config.insertTracker(tracker, [])
      return tracker
    },
    async ingest(traces) {
      await store.traces.append(traces)
    },
    async current(id) {
      const found = (await store.config.listAllTrackers()).find((t) => t.id === id)
      assert.ok(found)
      return found
    },
  }
}

function traces(
  count: number,
  patch: Partial<TraceRecord> = {},
  start = NOW - 10_000,
): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({
      project_id: PROJECT,
      time: start + i,
      service_type: i % 2 === 0 ? 'IMS' : 'ECS',
      ...patch,
    }),
  )
}

function parseFile(body: Buffer, gzip = true): Record<string, unknown>[] {
  return JSON.parse((gzip ? gunzipSync(body) : body).toString('utf8')) as Record<string, unknown>[]
}

function sinkSuite(makeCase: () => Promise<SinkCase>): void {
  let c: SinkCase
  before(async () => {
    c = await makeCase()
  })
  after(() => c.close())

  it('delivers each trace once, in the CTS layout and file format, sorted by service', async (t) => {
    const h = await harness(t, c.sink)
    await c.createBucket('layout-bucket')
    await h.tracker('system', {}, { bucket_name: 'layout-bucket', file_prefix_name: 'audit' })
    const mine = traces(7)
    const other = traces(2, { project_id: 'ffffffffffffffffffffffffffffffff' })
    const data = traces(1, { trace_type: 'ObsSDK', event_type: 'data', tracker_name: 'dt' })
    await h.ingest([...mine, ...other, ...data])
    const report = await h.service.runCycle()
    assert.deepEqual(report, { files: 2, traces: 7, digests: 0, errors: 0 })
    const keys = await c.reader.keys('layout-bucket', 'CloudTraces/')
    assert.equal(keys.length, 2)
    const seen = new Map<string, Record<string, unknown>>()
    for (const key of keys) {
      const name = parseTraceFileKey(key)
      assert.ok(name, `${key} is in the CTS layout`)
      assert.match(
        key,
        /^CloudTraces\/local-1\/2026\/12\/31\/system\/(IMS|ECS)\/audit_CloudTrace_local-1_2026-12-31T23-59-30Z_[0-9a-f]{16}\.json\.gz$/,
      )
      const { body } = await c.reader.read('layout-bucket', key)
      const content = parseFile(body)
      const expected = mine.filter((t) => t.service_type === name.service)
      assert.deepEqual(
        content,
        expected.map((t) => JSON.parse(JSON.stringify(toFileTrace(t))) as Record<string, unknown>),
        'the file holds the stored traces of its service, in commit order, in file form',
      )
      for (const t of content) seen.set(String(t.trace_id), t)
    }
    assert.equal(seen.size, 7)
    const first = seen.get(mine[0]?.trace_id ?? '')
    assert.equal(typeof first?.user, 'string', 'user is a JSON string in files')
    assert.equal(first?.code, 201, 'code is a number in files')
    assert.deepEqual(await h.service.runCycle(), { files: 0, traces: 0, digests: 0, errors: 0 })
  })

  it('writes json files without a service folder when asked', async (t) => {
    const h = await harness(t, c.sink)
    await c.createBucket('flat-bucket')
    await h.tracker(
      'system',
      {},
      { bucket_name: 'flat-bucket', compress_type: 'json', is_sort_by_service: false },
    )
    const mine = traces(3)
    await h.ingest(mine)
    await h.service.runCycle()
    const keys = await c.reader.keys('flat-bucket', '')
    assert.equal(keys.length, 1)
    assert.match(
      keys[0] ?? '',
      /^CloudTraces\/local-1\/2026\/12\/31\/system\/_CloudTrace_local-1_[^/]+\.json$/,
    )
    const { body } = await c.reader.read('flat-bucket', keys[0] ?? '')
    assert.deepEqual(
      parseFile(body, false).map((t) => t.trace_id),
      mine.map((t) => t.trace_id),
    )
  })

  it('writes a signed, chained digest every period, also for empty periods', async (t) => {
    const h = await harness(t, c.sink)
    await c.createBucket('digest-bucket')
    await h.tracker('system', { is_support_validate: true }, { bucket_name: 'digest-bucket' })
    await h.ingest(traces(4))
    await h.service.runCycle() // starts the chain at 23:59:30, delivers 2 files
    h.clock.advance(40_000) // 00:00:10 next day: the digest [23:59:30, 00:00:00) is due
    await h.ingest(traces(1, {}, NOW + 35_000))
    assert.equal((await h.service.runCycle()).digests, 1)
    h.clock.advance(120_000) // 00:02:10: [00:00, 00:01) and [00:01, 00:02) are due
    assert.equal((await h.service.runCycle()).digests, 2)
    const digestKeys = (await c.reader.keys('digest-bucket', 'CloudTraces/')).filter((k) =>
      k.includes('/Digest/'),
    )
    assert.deepEqual(
      digestKeys.map((k) => parseDigestFileKey(k)?.time),
      [Date.UTC(2027, 0, 1, 0, 0, 0), Date.UTC(2027, 0, 1, 0, 1, 0), Date.UTC(2027, 0, 1, 0, 2, 0)],
    )
    let previous: { key: string; sha: string; signature: string } | undefined
    const listed: string[][] = []
    for (const key of digestKeys) {
      const { body, metadata } = await c.reader.read('digest-bucket', key)
      const doc = parseDigest(gunzipSync(body).toString('utf8'))
      const sha = sha256Hex(body)
      assert.equal(doc.digest_object, key)
      assert.equal(doc.digest_bucket, 'digest-bucket')
      assert.equal(metadata['signature-algorithm'], 'SHA256withRSA')
      const signature = metadata.signature ?? ''
      assert.ok(
        verifyDigestSignature(signingKey.publicKey, digestSigningString(doc, sha), signature),
        'signature in metadata verifies',
      )
      assert.equal(doc.previous_digest_object, previous?.key ?? '')
      assert.equal(doc.previous_digest_hash_value, previous?.sha ?? '')
      assert.equal(doc.previous_digest_signature, previous?.signature ?? '')
      for (const file of doc.log_files) {
        const object = await c.reader.read('digest-bucket', file.object)
        assert.equal(file.log_hash_value, sha256Hex(object.body))
      }
      listed.push(doc.log_files.map((f) => f.object))
      previous = { key, sha, signature }
    }
    assert.equal(listed[0]?.length, 2, 'the starting digest lists the first two files')
    assert.equal(listed[1]?.length, 1, 'the second lists the file of its period')
    assert.equal(listed[2]?.length, 0, 'an empty period still gets a digest')
  })

  it('marks a missing bucket noBucket and a refused write bucketPolicyError, then recovers without loss', async (t) => {
    const h = await harness(t, c.sink)
    const tracker = await h.tracker('system', {}, { bucket_name: 'late-bucket' })
    const batch = traces(3)
    await h.ingest(batch)
    assert.equal((await h.service.runCycle()).errors, 1)
    assert.deepEqual(
      {
        status: (await h.current(tracker.id)).status,
        detail: (await h.current(tracker.id)).detail,
      },
      { status: 'error', detail: 'noBucket' },
    )
    await c.createBucket('late-bucket')
    await h.service.runCycle()
    const healed = await h.current(tracker.id)
    assert.equal(healed.status, 'enabled')
    assert.equal(healed.detail, undefined)
    const delivered = await Promise.all(
      (await c.reader.keys('late-bucket', '')).map(async (k) =>
        parseFile((await c.reader.read('late-bucket', k)).body),
      ),
    )
    assert.deepEqual(
      delivered
        .flat()
        .map((x) => x.trace_id)
        .sort(),
      batch.map((x) => x.trace_id).sort(),
      'the traces recorded while the bucket was missing are delivered',
    )

    const refused = await harness(t, c.denied)
    const r = await refused.tracker('system', {}, { bucket_name: 'late-bucket' })
    await refused.ingest(traces(1))
    await refused.service.runCycle()
    assert.equal((await refused.current(r.id)).detail, 'bucketPolicyError')
  })

  it('delivers a batch interrupted mid-way again under the same keys: each trace exactly once', async (t) => {
    let puts = 0
    let failAt = 2
    const flaky: ObjectSink = {
      ...c.sink,
      description: 'flaky',
      bucketExists: (b) => c.sink.bucketExists(b),
      createBucket: (b) => c.sink.createBucket(b),
      get: (b, k) => c.sink.get(b, k),
      list: (b, p) => c.sink.list(b, p),
      delete: (b, k) => c.sink.delete(b, k),
      close: () => Promise.resolve(),
      put: (b, k, body, m) => {
        puts++
        if (puts === failAt)
          return Promise.reject(new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE'))
        return c.sink.put(b, k, body, m)
      },
    }
    const h = await harness(t, flaky)
    await c.createBucket('replay-bucket')
    await h.tracker('system', {}, { bucket_name: 'replay-bucket' })
    const batch = traces(6)
    await h.ingest(batch)
    assert.equal((await h.service.runCycle()).errors, 1, 'the second put fails')
    assert.equal(h.errors.length, 1)
    const afterFailure = await c.reader.keys('replay-bucket', '')
    assert.equal(afterFailure.length, 1, 'one file of the batch was written before the failure')
    failAt = -1
    h.clock.advance(5_000)
    await h.service.runCycle()
    const keys = await c.reader.keys('replay-bucket', '')
    assert.equal(keys.length, 2, 'the replay rewrites the planned keys, no extra file')
    assert.ok(keys.includes(afterFailure[0] ?? ''))
    const ids = (
      await Promise.all(
        keys.map(async (k) => parseFile((await c.reader.read('replay-bucket', k)).body)),
      )
    )
      .flat()
      .map((x) => x.trace_id)
    assert.deepEqual(ids.sort(), batch.map((x) => x.trace_id).sort())
  })

  it('encrypts files under the tracker kms_id: unreadable without the key, intact with it', async (t) => {
    const h = await harness(t, c.sink)
    await c.createBucket('secret-bucket')
    await h.tracker(
      'system',
      { is_support_trace_files_encryption: true, kms_id: 'key-1' },
      { bucket_name: 'secret-bucket' },
    )
    const batch = traces(2, { service_type: 'IMS' })
    await h.ingest(batch)
    await h.service.runCycle()
    const [key] = await c.reader.keys('secret-bucket', '')
    const { body } = await c.reader.read('secret-bucket', key ?? '')
    assert.throws(() => gunzipSync(body), 'not a gzip file without the key')
    assert.equal(body.indexOf(Buffer.from(batch[0]?.trace_id ?? '')), -1)
    const plain = openEnvelope(body, { kmsId: 'key-1', version: 1, material: kmsMaterial })
    assert.deepEqual(
      parseFile(plain).map((x) => x.trace_id),
      batch.map((x) => x.trace_id),
    )
  })

  it('stops delivering a disabled tracker and does not send its traces later', async (t) => {
    const h = await harness(t, c.sink)
    await c.createBucket('paused-bucket')
    const tracker = await h.tracker(
      'system',
      { status: 'disabled' },
      { bucket_name: 'paused-bucket' },
    )
    await h.ingest(traces(2))
    await h.service.runCycle()
    assert.deepEqual(await c.reader.keys('paused-bucket', ''), [])
    await h.store.config.updateTracker({ ...tracker, status: 'enabled' }, [])
    const later = traces(1)
    await h.ingest(later)
    await h.service.runCycle()
    const keys = await c.reader.keys('paused-bucket', '')
    assert.equal(keys.length, 1)
    assert.deepEqual(
      parseFile((await c.reader.read('paused-bucket', keys[0] ?? '')).body).map((x) => x.trace_id),
      [later[0]?.trace_id],
    )
  })
}

describe('transfer to a local folder', () => {
  sinkSuite(() => Promise.resolve(folderCase()))

  it('recovers from bucketPolicyError once writes are allowed again, without loss', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'opencts-transfer-fs-'))
    const sink = new FsObjectSink(root)
    const h = await harness(t, sink)
    // A file where the bucket folder belongs: the sink cannot use that name (bucketPolicyError).
    writeFileSync(join(root, 'blocked-bucket'), 'not a folder')
    const tracker = await h.tracker('system', {}, { bucket_name: 'blocked-bucket' })
    const batch = traces(4)
    await h.ingest(batch)
    await h.service.runCycle()
    assert.equal((await h.current(tracker.id)).detail, 'bucketPolicyError')
    rmSync(join(root, 'blocked-bucket'))
    await sink.createBucket('blocked-bucket')
    await h.service.runCycle()
    const healed = await h.current(tracker.id)
    assert.equal(healed.status, 'enabled')
    const delivered = walk(join(root, 'blocked-bucket')).flatMap((path) =>
      parseFile(readFileSync(path)).map((x) => x.trace_id),
    )
    assert.deepEqual(delivered.sort(), batch.map((x) => x.trace_id).sort())
  })

  it("finds a project's traces among many of other projects, window by window", async (t) => {
    const c = folderCase()
    const h = await harness(t, c.sink)
    await c.createBucket('sparse-bucket')
    await h.tracker('system', {}, { bucket_name: 'sparse-bucket', is_sort_by_service: false })
    const [first] = traces(1)
    const [last] = traces(1)
    assert.ok(first && last)
    await h.ingest([first])
    const others = traces(45_000, { project_id: 'ffffffffffffffffffffffffffffffff' })
    for (let i = 0; i < others.length; i += 1000) await h.ingest(others.slice(i, i + 1000))
    await h.ingest([last])
    assert.deepEqual(await h.service.runCycle(), { files: 1, traces: 2, digests: 0, errors: 0 })
    const [key] = await c.reader.keys('sparse-bucket', '')
    assert.deepEqual(
      parseFile((await c.reader.read('sparse-bucket', key ?? '')).body).map((x) => x.trace_id),
      [first.trace_id, last.trace_id],
    )
  })
})

describe('transfer to S3', () => {
  sinkSuite(async () => s3Case(await startS3Server()))
})
