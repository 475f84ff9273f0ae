/**
 * Checkpoints in the bucket (docs/transfer.md, "Checkpoints in the bucket"), end to end on both
 * object sinks: the local folder and a real S3 server on loopback (s3rver). The whole service set
 * runs over a real SQLite store with the log on; checkpoints are signed by the real checkpointer
 * and written by the transfer cycle. Objects are read back with an independent reader (node:fs for
 * the folder, the AWS SDK's own S3Client for S3) and their signatures checked with the log's
 * published key. Also: nothing before the first checkpoint, nothing twice (also after a restart),
 * a missing bucket behaves as with the log off, and a failed export neither holds back trace files
 * nor is lost.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { MasterKey } from '../src/auth/index.js'
import { loadConfig } from '../src/config/config.js'
import { OpenCtsError } from '../src/errors/index.js'
import { verifyCheckpoint, type Checkpoint } from '../src/integrity/checkpoint.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { TraceRecord, Tracker } from '../src/model/index.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { createServices, type Services } from '../src/services.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import {
  checkpointFileKey,
  latestCheckpointKey,
  parseCheckpointFileKey,
  parseDigestFileKey,
  parseLatestCheckpointKey,
  parseTraceFileKey,
} from '../src/transfer/layout.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import type { CycleReport } from '../src/transfer/transfer-service.js'
import { folderReader, s3Reader, type BucketReader } from './helpers/bucket-readers.js'
import { makeTrace } from './helpers/make-trace.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'
import { TEST_NOW, TEST_PROJECTS, TEST_SCRYPT_COST } from './helpers/test-app.js'

const [P, Q] = TEST_PROJECTS as [string, string]
const REGION = 'local-1'
const FOLDER = `CloudTraces/${REGION}/Checkpoint/`
const DAY = '2026/11/21' // TEST_NOW's UTC day

/** Reads a bucket without OpenCTS code: node:fs for the folder, the AWS SDK for S3. */
interface SinkCase {
  readonly sink: ObjectSink
  readonly reader: BucketReader
  close(): Promise<void>
}

function folderCase(): SinkCase {
  const root = mkdtempSync(join(tmpdir(), 'opencts-cp-fs-'))
  return {
    sink: new FsObjectSink(root),
    close: () => Promise.resolve(),
    reader: folderReader(root),
  }
}

function s3Case(server: S3Server): SinkCase {
  const reader = s3Reader(server)
  const sink = new S3ObjectSink(server.settings)
  return {
    sink,
    async close() {
      reader.close()
      await sink.close()
      await server.stop()
    },
    reader,
  }
}

/** A sink that records the keys put and fails the puts `fail` names (fault injection). */
interface Tap extends ObjectSink {
  readonly puts: string[]
  fail: ((key: string) => OpenCtsError | undefined) | undefined
}

function tap(inner: ObjectSink): Tap {
  const self: Tap = {
    description: `tap of ${inner.description}`,
    puts: [],
    fail: undefined,
    bucketExists: (b) => inner.bucketExists(b),
    createBucket: (b) => inner.createBucket(b),
    get: (b, k) => inner.get(b, k),
    list: (b, p) => inner.list(b, p),
    delete: (b, k) => inner.delete(b, k),
    close: () => Promise.resolve(),
    async put(b, k, body, metadata) {
      const error = self.fail?.(k)
      if (error !== undefined) throw error
      await inner.put(b, k, body, metadata)
      self.puts.push(k)
    },
  }
  return self
}

interface App {
  readonly services: Services
  readonly store: SqliteStore
  readonly clock: FakeClock
  readonly sink: Tap
  /** The data folder (the SQLite file). */
  readonly dir: string
  /** Failures given to `onTransferError` (not bucket health). */
  readonly errors: unknown[]
  /** Health changes given to `onTrackerHealth`. */
  readonly health: { status: string; detail: string | undefined }[]
  cycle(): Promise<CycleReport>
  tracker(bucket: string, prefix?: string): Promise<Tracker>
  ingest(projectId: string, count: number, patch?: Partial<TraceRecord>): Promise<void>
  current(id: string): Promise<Tracker>
  /** Checkpoint keys put so far. */
  checkpointPuts(): string[]
}

/**
 * The application's services over a real SQLite file and `inner` (tapped), with the log on or off;
 * with `reuse`, a new service set over an app's store and sink, as after a restart.
 */
async function buildApp(
  t: TestContext,
  inner: ObjectSink,
  log: boolean,
  reuse?: { store: SqliteStore; dir: string; sink: Tap },
): Promise<App> {
  const dir = reuse?.dir ?? mkdtempSync(join(tmpdir(), 'opencts-cp-app-'))
  const config = loadConfig({}, { dataDir: dir, merkleLog: String(log) })
  assert.equal(config.region, REGION)
  const store =
    reuse?.store ??
    openSqliteStore({
      path: join(dir, 'opencts.db'),
      ...(log ? { merkle: TRACE_LOG_HASHING } : {}),
    })
  if (reuse === undefined) t.after(() => store.close())
  const sink = reuse?.sink ?? tap(inner)
  const clock = new FakeClock(TEST_NOW)
  const errors: unknown[] = []
  const health: App['health'] = []
  const services = createServices({
    config,
    store,
    clock,
    ids: randomIds,
    masterKey: MasterKey.generate(),
    passwordCost: TEST_SCRYPT_COST,
    objectSink: sink,
    onTransferError: (error) => errors.push(error),
    onTrackerHealth: (tr) => health.push({ status: tr.status, detail: tr.detail }),
  })
  const transfer = services.transfer
  assert.ok(transfer)
  return {
    services,
    store,
    clock,
    sink,
    dir,
    errors,
    health,
    cycle: () => transfer.runCycle(),
    async tracker(bucket, prefix = '') {
      const base = newTracker({
        id: randomIds.uuid().replace(/-/g, ''),
        now: TEST_NOW - 60_000,
        projectId: P,
        domainId: 'd1',
        type: 'system',
        name: 'system',
      })
      const tracker: Tracker = {
        ...base,
        obs_info: { ...base.obs_info, bucket_name: bucket, file_prefix_name: prefix },
      }
      await store.config.insertTracker(tracker, [])
      return tracker
    },
    async ingest(projectId, count, patch = {}) {
      const now = clock.now()
      await store.traces.append(
        Array.from({ length: count }, (_, i) =>
          makeTrace({ project_id: projectId, time: now - 5_000 + i, ...patch }),
        ),
      )
    },
    async current(id) {
      const found = (await store.config.listAllTrackers()).find((x) => x.id === id)
      assert.ok(found)
      return found
    },
    checkpointPuts: () => sink.puts.filter((k) => k.startsWith(FOLDER)),
  }
}

/** The log's public key (as `GET /v3/{project_id}/log/keys` publishes it). */
async function logKey(
  services: Services,
): Promise<{ name: string; key: ReturnType<typeof createPublicKey> }> {
  const keys = await services.log.publicKeys()
  assert.equal(keys.length, 1)
  const [key] = keys
  assert.ok(key)
  return { name: key.key_name, key: createPublicKey(key.public_key) }
}

/** Checks the note's signature with the published key and its origin; returns the checkpoint. */
async function verified(services: Services, note: Buffer, projectId = P): Promise<Checkpoint> {
  const { name, key } = await logKey(services)
  return verifyCheckpoint(note.toString('utf8'), name, key, `opencts/${projectId}`)
}

function sizedKey(size: number, prefix = ''): string {
  return `${FOLDER}system/${DAY}/${prefix}_CloudTrace-Checkpoint_${P}_${String(size).padStart(20, '0')}.txt`
}

async function readBody(reader: BucketReader, bucket: string, key: string): Promise<Buffer> {
  return (await reader.read(bucket, key)).body
}

function latestKey(prefix = ''): string {
  return `${FOLDER}system/${prefix}_CloudTrace-Checkpoint_${P}_latest.txt`
}

/** Trace ids in the bucket's trace files (every file of the region). */
async function deliveredIds(reader: BucketReader, bucket: string): Promise<string[]> {
  const ids: string[] = []
  for (const key of await reader.keys(bucket, `CloudTraces/${REGION}/`)) {
    if (parseTraceFileKey(key) === undefined) continue
    const traces = JSON.parse(gunzipSync(await readBody(reader, bucket, key)).toString('utf8')) as {
      trace_id: string
      project_id: string
    }[]
    for (const trace of traces) {
      assert.equal(trace.project_id, P)
      ids.push(trace.trace_id)
    }
  }
  return ids
}

function sinkSuite(makeCase: () => Promise<SinkCase>): void {
  let c: SinkCase
  before(async () => {
    c = await makeCase()
  })
  after(() => c.close())

  it('exports each newer checkpoint by size and at the latest key, signed, never twice', async (t) => {
    const app = await buildApp(t, c.sink, true)
    await c.sink.createBucket('cp-bucket')
    await app.tracker('cp-bucket', 'audit')
    await app.ingest(P, 5)
    await app.ingest(Q, 2)

    const first = await app.cycle()
    assert.equal(first.traces, 5)
    assert.equal(first.errors, 0)
    assert.deepEqual(await c.reader.keys('cp-bucket', FOLDER), [], 'no checkpoint signed yet')

    assert.equal(await app.services.checkpointer.runOnce(), 2, 'one checkpoint per project')
    assert.deepEqual(await app.cycle(), { files: 0, traces: 0, digests: 0, errors: 0 })
    const by5 = sizedKey(5, 'audit')
    assert.deepEqual(await c.reader.keys('cp-bucket', FOLDER), [by5, latestKey('audit')])
    const latest = await readBody(c.reader, 'cp-bucket', latestKey('audit'))
    const sized5 = await readBody(c.reader, 'cp-bucket', by5)
    assert.deepEqual(sized5, latest, 'the latest key holds the same note')
    const cp = await verified(app.services, latest)
    assert.equal(cp.size, 5)
    assert.equal(cp.size, (await deliveredIds(c.reader, 'cp-bucket')).length, 'size = traces')
    assert.equal(cp.time, TEST_NOW)
    assert.equal(latest.toString('utf8'), (await app.store.merkle.latestCheckpoint(P))?.note)
    assert.equal(app.checkpointPuts().length, 2)

    assert.deepEqual(await app.cycle(), { files: 0, traces: 0, digests: 0, errors: 0 })
    assert.equal(app.checkpointPuts().length, 2, 'no new checkpoint, nothing put')
    const restarted = await buildApp(t, c.sink, true, {
      store: app.store,
      dir: app.dir,
      sink: app.sink,
    })
    assert.equal((await restarted.cycle()).errors, 0)
    assert.equal(app.checkpointPuts().length, 2, 'after a restart the bucket says it is exported')

    await app.ingest(P, 3)
    app.clock.advance(1_500)
    assert.equal(await app.services.checkpointer.runOnce(), 1)
    const third = await app.cycle()
    assert.equal(third.traces, 3)
    assert.equal(third.errors, 0)
    const by8 = sizedKey(8, 'audit')
    assert.deepEqual(await c.reader.keys('cp-bucket', FOLDER), [by5, by8, latestKey('audit')])
    const newer = await readBody(c.reader, 'cp-bucket', latestKey('audit'))
    const cp8 = await verified(app.services, newer)
    assert.equal(cp8.size, 8)
    assert.equal(cp8.time, TEST_NOW + 1_500)
    assert.equal(cp8.size, (await deliveredIds(c.reader, 'cp-bucket')).length)
    assert.deepEqual(await readBody(c.reader, 'cp-bucket', by8), newer)
    assert.deepEqual(await readBody(c.reader, 'cp-bucket', by5), sized5, 'by-size objects stay')
    assert.deepEqual(app.checkpointPuts().slice(2), [by8, latestKey('audit')], 'by size first')
    assert.deepEqual(
      await c.reader
        .keys('cp-bucket', `CloudTraces/${REGION}/2026/`)
        .then((keys) => keys.filter((k) => parseTraceFileKey(k) === undefined)),
      [],
      'nothing but trace files in the day folders (opencts verify lists those)',
    )
  })

  it('a missing bucket: delivery and health as with the log off; the checkpoint follows', async (t) => {
    const on = await buildApp(t, c.sink, true)
    const off = await buildApp(t, c.sink, false)
    const runs = [
      { app: on, bucket: 'late-cp-on', tracker: await on.tracker('late-cp-on') },
      { app: off, bucket: 'late-cp-off', tracker: await off.tracker('late-cp-off') },
    ]
    const step = async (): Promise<unknown[]> =>
      Promise.all(
        runs.map(async ({ app, tracker }) => {
          const report = await app.cycle()
          const { status, detail } = await app.current(tracker.id)
          return { report, status, detail, errors: app.errors.length, health: [...app.health] }
        }),
      )
    for (const { app } of runs) {
      await app.ingest(P, 3)
      await app.services.checkpointer.runOnce()
    }
    assert.ok(await on.store.merkle.latestCheckpoint(P), 'the log on has a checkpoint')
    assert.equal(await off.store.merkle.latestCheckpoint(P), undefined)

    const missing = await step()
    assert.deepEqual(missing[0], missing[1], 'same report and health as with the log off')
    assert.deepEqual(missing[0], {
      report: { files: 0, traces: 0, digests: 0, errors: 1 },
      status: 'error',
      detail: 'noBucket',
      errors: 0,
      health: [{ status: 'error', detail: 'noBucket' }],
    })
    const still = await step()
    assert.deepEqual(still[0], still[1])
    assert.equal(on.checkpointPuts().length, 0, 'no export into a missing bucket')

    for (const { bucket } of runs) await c.sink.createBucket(bucket)
    const healed = await step()
    assert.deepEqual(healed[0], healed[1])
    assert.deepEqual(healed[0], {
      report: { files: 1, traces: 3, digests: 0, errors: 0 },
      status: 'enabled',
      detail: undefined,
      errors: 0,
      health: [
        { status: 'error', detail: 'noBucket' },
        { status: 'enabled', detail: undefined },
      ],
    })
    assert.deepEqual(await c.reader.keys('late-cp-on', FOLDER), [sizedKey(3), latestKey()])
    const cp = await verified(on.services, await readBody(c.reader, 'late-cp-on', latestKey()))
    assert.equal(cp.size, 3)
    assert.equal((await deliveredIds(c.reader, 'late-cp-on')).length, 3)
    assert.deepEqual(await c.reader.keys('late-cp-off', FOLDER), [], 'log off: no checkpoint')
    assert.equal((await deliveredIds(c.reader, 'late-cp-off')).length, 3)
  })

  it('a failed export holds back no trace file, is reported, and is retried next cycle', async (t) => {
    const app = await buildApp(t, c.sink, true)
    await c.sink.createBucket('flaky-cp')
    const tracker = await app.tracker('flaky-cp')
    await app.ingest(P, 4)
    await app.services.checkpointer.runOnce()
    app.sink.fail = (key) =>
      key === latestKey() ? new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE') : undefined
    const failed = await app.cycle()
    assert.deepEqual(failed, { files: 1, traces: 4, digests: 0, errors: 1 })
    assert.equal((await deliveredIds(c.reader, 'flaky-cp')).length, 4, 'the traces went out')
    assert.equal(app.errors.length, 1, 'reported through onError')
    assert.equal((app.errors[0] as OpenCtsError).code, 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
    assert.equal((await app.current(tracker.id)).status, 'enabled', 'an outage is not a health')
    assert.deepEqual(await c.reader.keys('flaky-cp', FOLDER), [sizedKey(4)])

    app.sink.fail = undefined
    assert.equal((await app.cycle()).errors, 0)
    assert.deepEqual(await c.reader.keys('flaky-cp', FOLDER), [sizedKey(4), latestKey()])
    assert.equal(
      (await verified(app.services, await readBody(c.reader, 'flaky-cp', latestKey()))).size,
      4,
    )
    assert.deepEqual(app.checkpointPuts(), [sizedKey(4), sizedKey(4), latestKey()])

    // A bucket that refuses the checkpoint: bucketPolicyError, after the trace files went out.
    app.sink.fail = (key) =>
      key.startsWith(FOLDER) ? new OpenCtsError('OCTS_ERR_BUCKET_DENIED') : undefined
    await app.ingest(P, 2)
    app.clock.advance(2_000)
    await app.services.checkpointer.runOnce()
    assert.deepEqual(await app.cycle(), { files: 1, traces: 2, digests: 0, errors: 1 })
    assert.equal((await deliveredIds(c.reader, 'flaky-cp')).length, 6)
    assert.equal((await app.current(tracker.id)).detail, 'bucketPolicyError')
    assert.equal(app.errors.length, 1, 'bucket errors go to health, not onError')
    assert.equal((await app.cycle()).errors, 1, 'retried while refused')
    assert.equal((await app.current(tracker.id)).detail, 'bucketPolicyError')
    // Trace files go out again, but the bucket still refuses the checkpoint: not healed.
    await app.ingest(P, 1)
    app.clock.advance(2_000)
    await app.services.checkpointer.runOnce()
    assert.deepEqual(await app.cycle(), { files: 1, traces: 1, digests: 0, errors: 1 })
    assert.equal((await app.current(tracker.id)).detail, 'bucketPolicyError')
    assert.deepEqual(app.health, [{ status: 'error', detail: 'bucketPolicyError' }])
    // Allowed again: the export is the next write, with no trace to deliver, and heals. Only the
    // latest checkpoint goes out (size 7; the one of size 6 was signed in between).
    app.sink.fail = undefined
    assert.deepEqual(await app.cycle(), { files: 0, traces: 0, digests: 0, errors: 0 })
    const healed = await app.current(tracker.id)
    assert.equal(healed.status, 'enabled')
    assert.equal(healed.detail, undefined)
    assert.deepEqual(app.health, [
      { status: 'error', detail: 'bucketPolicyError' },
      { status: 'enabled', detail: undefined },
    ])
    assert.deepEqual(await c.reader.keys('flaky-cp', FOLDER), [
      sizedKey(4),
      sizedKey(7),
      latestKey(),
    ])
    const cp = await verified(app.services, await readBody(c.reader, 'flaky-cp', latestKey()))
    assert.equal(cp.size, 7)
    assert.equal(cp.size, (await deliveredIds(c.reader, 'flaky-cp')).length)
  })

  it('a missing bucket found by the export is reported once, then waited for', async (t) => {
    const app = await buildApp(t, c.sink, true)
    const tracker = await app.tracker('gone-cp')
    // Data traces: the log grows, but the management tracker has nothing of them to deliver.
    await app.ingest(P, 2, { trace_type: 'ObsSDK', event_type: 'data', tracker_name: 'dt' })
    assert.equal(await app.services.checkpointer.runOnce(), 1)
    assert.deepEqual(await app.cycle(), { files: 0, traces: 0, digests: 0, errors: 1 })
    assert.equal((await app.current(tracker.id)).detail, 'noBucket')
    assert.deepEqual(app.errors, [], 'a bucket error is health, not onError')
    assert.deepEqual(
      await app.cycle(),
      { files: 0, traces: 0, digests: 0, errors: 0 },
      'no export into a bucket known to be missing',
    )
    assert.equal((await app.current(tracker.id)).detail, 'noBucket')
    await c.sink.createBucket('gone-cp')
    assert.deepEqual(await app.cycle(), { files: 0, traces: 0, digests: 0, errors: 0 })
    assert.equal((await app.current(tracker.id)).status, 'enabled')
    assert.deepEqual(await c.reader.keys('gone-cp', ''), [sizedKey(2), latestKey()])
    const cp = await verified(app.services, await readBody(c.reader, 'gone-cp', latestKey()))
    assert.equal(cp.size, 2)
  })
}

it('names checkpoint objects in one folder per tracker, parsed back, apart from trace and digest files', () => {
  const name = { region: 'cn-north-4', tracker: 'system', prefix: 'audit', projectId: P }
  const time = Date.UTC(2027, 0, 1, 0, 0, 0, 500)
  const sized = checkpointFileKey({ ...name, size: 1234, time })
  assert.equal(
    sized,
    `CloudTraces/cn-north-4/Checkpoint/system/2027/01/01/audit_CloudTrace-Checkpoint_${P}_00000000000000001234.txt`,
  )
  assert.equal(
    latestCheckpointKey(name),
    `CloudTraces/cn-north-4/Checkpoint/system/audit_CloudTrace-Checkpoint_${P}_latest.txt`,
  )
  assert.deepEqual(parseCheckpointFileKey(sized), {
    ...name,
    size: 1234,
    day: Date.UTC(2027, 0, 1),
  })
  assert.deepEqual(parseLatestCheckpointKey(latestCheckpointKey(name)), name)
  const empty = { ...name, prefix: '' }
  assert.deepEqual(parseLatestCheckpointKey(latestCheckpointKey(empty)), empty)
  assert.equal(parseCheckpointFileKey(latestCheckpointKey(name)), undefined)
  assert.equal(parseLatestCheckpointKey(sized), undefined)
  for (const key of [sized, latestCheckpointKey(name)]) {
    assert.equal(parseTraceFileKey(key), undefined)
    assert.equal(parseDigestFileKey(key), undefined)
  }
  for (const bad of [
    sized.replace('2027/01/01', '2027/02/30'), // no such day
    sized.replace('00000000000000001234', '1234'), // not padded
    sized.replace('.txt', '.json'),
    sized.replace('/Checkpoint/', '/Digest/'),
  ])
    assert.equal(parseCheckpointFileKey(bad), undefined, bad)
  assert.equal(
    checkpointFileKey({ ...name, size: Number.MAX_SAFE_INTEGER, time }).length,
    sized.length,
    'every safe size fits the padding',
  )
  assert.throws(() => checkpointFileKey({ ...name, size: -1, time }), RangeError)
})

describe('checkpoints to a local folder', () => {
  sinkSuite(() => Promise.resolve(folderCase()))
})

describe('checkpoints to S3', () => {
  sinkSuite(async () => s3Case(await startS3Server()))
})
