/**
 * The writer meets the verifier: real transfer output (TransferService with the real signing keys
 * and an encryption key of `opencts keys`, over several digest periods) is verified by
 * `verifyBucket`, on the local folder and on a real S3 server (s3rver), then tampered with through
 * the sink and verified again. On S3 the command line (`opencts verify --s3-endpoint …`) runs too.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { loadOrCreateMasterKey } from '../src/auth/index.js'
import { FakeClock, randomIds } from '../src/platform/clock.js'
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import { KmsKeys, parseKeyFile } from '../src/transfer/kms-keys.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import { SigningKeys } from '../src/transfer/signing-keys.js'
import { TransferService } from '../src/transfer/transfer-service.js'
import { verifyBucket, type VerifyOptions } from '../src/transfer/verify/bucket-verifier.js'
import type { VerifyReport } from '../src/transfer/verify/verify-report.js'
import { makeTrace } from './helpers/make-trace.js'
import { runCliInProcess } from './helpers/run-cli-in-process.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'

const START = Date.UTC(2026, 10, 21, 10, 0, 30)
const PERIOD_S = 60
const REGION = 'local-1'
const PROJECT = '0123456789abcdef0123456789abcdef'
const BUCKET = 'verified-archive'

interface Written {
  readonly options: VerifyOptions
  readonly keyFile: string
  readonly publicKeysFile: string
  readonly digests: string[]
  readonly files: string[]
}

/** Five cycles over four digest periods of a tracker with validation and encryption on. */
async function writeArchive(sink: ObjectSink, dir: string): Promise<Written> {
  const store: SqliteStore = openSqliteStore({ path: join(dir, 'opencts.db') })
  after(() => store.close())
  const clock = new FakeClock(START)
  const { key: masterKey } = loadOrCreateMasterKey(join(dir, 'master.key'))
  const kmsKeys = new KmsKeys({ keys: store.keys, sealer: masterKey, clock, ids: randomIds })
  const signingKeys = new SigningKeys({
    keys: store.keys,
    sealer: masterKey,
    clock,
    rotationMs: 2 * 60_000,
  })
  await signingKeys.ensureCurrent()
  const kms = await kmsKeys.create('archive-key')
  const tracker = newTracker({
    id: randomIds.uuid(),
    now: START,
    projectId: PROJECT,
    domainId: 'd1',
    type: 'system',
    name: 'system',
  })
  await store.config.insertTracker(
    {
      ...tracker,
      is_support_validate: true,
      is_support_trace_files_encryption: true,
      kms_id: kms.id,
      obs_info: { ...tracker.obs_info, bucket_name: BUCKET, file_prefix_name: 'cts' },
    },
    [],
  )
  await sink.createBucket(BUCKET)
  const service = new TransferService({
    traces: store.traces,
    transfer: store.transfer,
    config: store.config,
    sink,
    clock,
    signer: signingKeys,
    kms: kmsKeys,
    region: REGION,
    intervalMs: 1000,
    digestPeriodSeconds: PERIOD_S,
    isDefaultProject: () => Promise.resolve(true),
    onError: (error) => assert.fail(String(error)),
  })
  for (let cycle = 0; cycle < 5; cycle++) {
    const now = clock.now()
    await store.traces.append(
      Array.from({ length: 5 }, (_, i) =>
        makeTrace({
          project_id: PROJECT,
          time: now - 1000 + i,
          service_type: i % 2 === 0 ? 'IMS' : 'ECS',
        }),
      ),
    )
    const report = await service.runCycle()
    assert.equal(report.errors, 0)
    if (cycle === 2) await kmsKeys.rotate('archive-key') // later files use version 2
    clock.advance(50_000)
  }
  // A last cycle after the last period's end writes its digest (no new traces).
  assert.deepEqual(await service.runCycle(), { files: 0, traces: 0, digests: 1, errors: 0 })
  const publicKeys = await signingKeys.publicKeys()
  assert.ok(publicKeys.length >= 2, 'the signing key rotated during the run')
  const masterKeys = parseKeyFile(JSON.stringify(await kmsKeys.export('archive-key')))
  const keyFile = join(dir, 'kms-keys.json')
  writeFileSync(keyFile, JSON.stringify(await kmsKeys.export('archive-key')))
  const publicKeysFile = join(dir, 'public-keys.json')
  writeFileSync(publicKeysFile, JSON.stringify({ digest_keys: publicKeys }))
  const objects = await sink.list(BUCKET, 'CloudTraces/')
  return {
    options: {
      sink,
      bucket: BUCKET,
      region: REGION,
      prefix: 'cts',
      from: START - 60_000,
      to: clock.now(),
      graceMs: 10_000,
      publicKeys,
      masterKeys,
    },
    keyFile,
    publicKeysFile,
    digests: objects.map((o) => o.key).filter((k) => k.includes('/Digest/')),
    files: objects.map((o) => o.key).filter((k) => !k.includes('/Digest/')),
  }
}

function invalid(report: VerifyReport): string[] {
  return [
    ...report.digests
      .filter((d) => d.status === 'INVALID')
      .map((d) => `${d.key}: ${d.reason ?? ''}`),
    ...report.files.filter((f) => f.status === 'INVALID').map((f) => `${f.key}: ${f.reason ?? ''}`),
    ...report.chainFindings.map((c) => c.message),
  ]
}

function archiveSuite(open: () => Promise<{ sink: ObjectSink; s3?: S3Server }>): void {
  let archive: Written
  let sink: ObjectSink
  let s3: S3Server | undefined
  before(async () => {
    const opened = await open()
    sink = opened.sink
    s3 = opened.s3
    archive = await writeArchive(sink, mkdtempSync(join(tmpdir(), 'opencts-archive-')))
  })
  after(async () => {
    await sink.close()
    await s3?.stop()
  })

  it('verifies clean: every digest, every decrypted file', async () => {
    assert.ok(archive.digests.length >= 4, `${archive.digests.length} digests`)
    assert.equal(archive.files.length, 10, 'two services in each of five cycles')
    const report = await verifyBucket(archive.options)
    assert.deepEqual(invalid(report), [])
    assert.equal(report.summary.ok, true)
    assert.equal(report.files.length, archive.files.length)
    assert.ok(report.files.every((f) => f.status === 'valid' && f.note === undefined))
  })

  it('detects an edited byte, then a deleted digest, in real output', async () => {
    const target = archive.files[3] ?? ''
    const original = await sink.get(BUCKET, target)
    assert.ok(original)
    const edited = Buffer.from(original.body)
    edited[edited.length - 20] = (edited[edited.length - 20] ?? 0) ^ 0xff
    await sink.put(BUCKET, target, edited)
    let report = await verifyBucket(archive.options)
    assert.match(
      report.files.find((f) => f.key === target)?.reason ?? '',
      /^hash value doesn't match/,
    )
    await sink.put(BUCKET, target, original.body)

    const middle = archive.digests[1] ?? ''
    const digest = await sink.get(BUCKET, middle)
    assert.ok(digest)
    await sink.delete(BUCKET, middle)
    report = await verifyBucket(archive.options)
    assert.deepEqual(
      report.chainFindings.map((c) => c.missing),
      [1],
      JSON.stringify(report.chainFindings),
    )
    await sink.put(BUCKET, middle, digest.body, digest.metadata)
    assert.equal((await verifyBucket(archive.options)).summary.ok, true, 'restored')
  })

  it('reports data appended to an encrypted file', async () => {
    const target = archive.files[0] ?? ''
    const original = await sink.get(BUCKET, target)
    assert.ok(original)
    await sink.put(BUCKET, target, Buffer.concat([original.body, gzipSync('[{"trace_id":"x"}]')]))
    const report = await verifyBucket(archive.options)
    assert.ok(
      report.files.find((f) => f.key === target)?.status === 'INVALID',
      'the hash of the stored bytes changed',
    )
    await sink.put(BUCKET, target, original.body)
  })

  it('runs as a command line over the same bucket', async () => {
    const where =
      s3 === undefined
        ? ['--dir', (sink as FsObjectSink).description.replace(/^folder /, '')]
        : ['--s3-endpoint', s3.endpoint, '--s3-region', s3.region, '--s3-path-style']
    const { status, stdout, stderr } = await runCliInProcess(
      [
        'verify',
        '--bucket',
        BUCKET,
        ...where,
        '--region',
        REGION,
        '--prefix',
        'cts',
        '--from',
        new Date(archive.options.from).toISOString(),
        '--grace',
        '10s',
        '--public-keys',
        archive.publicKeysFile,
        '--keys',
        archive.keyFile,
        '--json',
      ],
      {
        env:
          s3 === undefined
            ? {}
            : { OPENCTS_S3_ACCESS_KEY: s3.accessKeyId, OPENCTS_S3_SECRET_KEY: s3.secretAccessKey },
        now: () => archive.options.to,
      },
    )
    assert.equal(status, 0, `${stdout} ${stderr}`)
    const report = JSON.parse(stdout) as VerifyReport
    assert.equal(report.summary.ok, true)
    assert.equal(report.files.length, archive.files.length)
  })
}

describe('real transfer output verifies: local folder', () => {
  archiveSuite(() =>
    Promise.resolve({ sink: new FsObjectSink(mkdtempSync(join(tmpdir(), 'opencts-objects-'))) }),
  )
})

describe('real transfer output verifies: S3', () => {
  archiveSuite(async () => {
    const s3 = await startS3Server()
    return { sink: new S3ObjectSink(s3.settings), s3 }
  })
})
