/**
 * Tamper tests of `opencts verify` (transfer/verify): a bucket written as the transfer writer does
 * (six hourly digests across a day boundary, two trace files each) verifies clean, and every kind
 * of tampering is reported with its own reason and nothing else: edited, deleted, added, moved,
 * swapped and appended-to trace files; deleted (one, two, the newest), swapped, moved and forged
 * digests; wrong or unknown signing keys; encrypted buckets with and without keys. Fixed times.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { isOpenCtsError } from '../src/errors/index.js'
import { sha256Hex } from '../src/integrity/digest.js'
import type { MasterKeyVersion } from '../src/transfer/envelope.js'
import type { StoredObject } from '../src/transfer/object-sink.js'
import { digestFileKey, traceFileKey } from '../src/transfer/layout.js'
import { verifyBucket, type VerifyOptions } from '../src/transfer/verify/bucket-verifier.js'
import type { VerifyReport } from '../src/transfer/verify/verify-report.js'
import {
  makeSigningKey,
  putDigest,
  resignDigest,
  signDigestDocument,
  traceFileBytes,
  writeFixture,
  type Fixture,
  type FixtureOptions,
} from './helpers/digest-fixture.js'
import { MemoryObjectSink } from './helpers/memory-object-sink.js'

const BUCKET = 'audit-bucket'
const REGION = 'test-1'
const PROJECT = '0123456789abcdef0123456789abcdef'
const HOUR = 3_600_000
/** The starting digest starts here; digests end at 22:00, 23:00, 00:00 … 03:00. */
const START = Date.UTC(2026, 0, 9, 21, 30, 0)
const FROM = Date.UTC(2026, 0, 9, 21, 0, 0)
/** Ten minutes after the newest digest's end: nothing is due yet. */
const TO = Date.UTC(2026, 0, 10, 3, 10, 0)
const KEY = makeSigningKey(0)
const ATTACKER = makeSigningKey(0)
const MASTER: MasterKeyVersion = { kmsId: 'kms-test', version: 1, material: Buffer.alloc(32, 9) }

interface Bucket {
  readonly sink: MemoryObjectSink
  readonly fixture: Fixture
}

async function bucket(options: Partial<FixtureOptions> = {}): Promise<Bucket> {
  const sink = new MemoryObjectSink()
  const fixture = await writeFixture({
    sink,
    bucket: BUCKET,
    region: REGION,
    projectId: PROJECT,
    key: KEY,
    start: START,
    periods: 6,
    ...options,
  })
  return { sink, fixture }
}

function verify(
  sink: MemoryObjectSink,
  options: Partial<VerifyOptions> = {},
): Promise<VerifyReport> {
  return verifyBucket({
    sink,
    bucket: BUCKET,
    region: REGION,
    from: FROM,
    to: TO,
    publicKeys: [KEY.view],
    ...options,
  })
}

/** Every finding as `key: reason` (chain findings as `chain: message`), sorted. */
function findings(report: VerifyReport): string[] {
  return [
    ...report.digests.filter((d) => d.status === 'INVALID').map((d) => `${d.key}: ${d.reason}`),
    ...report.files.filter((f) => f.status === 'INVALID').map((f) => `${f.key}: ${f.reason}`),
    ...report.chainFindings.map((c) => `chain: ${c.message}`),
  ].sort()
}

function at<T>(list: readonly T[], index: number): T {
  const item = list[index]
  assert.ok(item !== undefined, `no item ${index}`)
  return item
}

/** The bucket's live objects, to tamper with. */
function objects(b: Bucket): Map<string, StoredObject> {
  return b.sink.objects(BUCKET)
}

describe('opencts verify: a clean bucket', () => {
  it('verifies every digest and file, with no finding', async () => {
    const { sink, fixture } = await bucket()
    const report = await verify(sink)
    assert.deepEqual(findings(report), [])
    assert.equal(report.summary.ok, true)
    assert.deepEqual(report.summary.digests, { valid: 6, invalid: 0 })
    assert.deepEqual(report.summary.files, {
      valid: 12,
      invalid: 0,
      pending: 0,
      contentNotChecked: 0,
    })
    assert.deepEqual(
      report.digests.map((d) => d.key),
      fixture.digests.map((d) => d.key).reverse(),
    )
    assert.equal(at(report.digests, 5).starting, true)
    assert.equal(report.regionSegment, REGION)
    assert.equal(report.periodSeconds, 3600)
  })

  it('checks only digests ending inside the range', async () => {
    const { sink, fixture } = await bucket()
    const report = await verify(sink, {
      from: at(fixture.digests, 2).end,
      to: at(fixture.digests, 4).end,
    })
    assert.deepEqual(
      report.digests.map((d) => d.key),
      [at(fixture.digests, 4).key, at(fixture.digests, 3).key],
    )
    assert.deepEqual(findings(report), [])
    assert.equal(report.files.length, 4)
    assert.deepEqual(report.pending, [], 'files delivered after `to` are out of the range')
  })

  it('accepts plain .json files, files without a service folder, and a file prefix', async () => {
    const { sink } = await bucket({ compress: 'json', service: null, prefix: 'audit' })
    const report = await verify(sink, { prefix: 'audit' })
    assert.deepEqual(findings(report), [])
    assert.equal(report.summary.files.valid, 12)
    const other = await verify(sink)
    assert.equal(other.digests.length, 0, 'another prefix is another chain')
  })

  it('follows a chain that was turned off (ending digest) and on again', async () => {
    const sink = new MemoryObjectSink()
    const common = { sink, bucket: BUCKET, region: REGION, projectId: PROJECT, key: KEY }
    const first = await writeFixture({
      ...common,
      start: START,
      periods: 3,
      endingAt: START + 2 * HOUR,
    })
    await writeFixture({ ...common, start: START + 3 * HOUR + 600_000, periods: 3 })
    const report = await verify(sink)
    assert.deepEqual(findings(report), [])
    assert.equal(report.digests.length, 6)
    assert.equal(at(report.digests, 3).ending, true)
    assert.equal(at(first.digests, 2).doc.digest_end, true)
  })

  it('lists only the day folders of the range, not the bucket', async () => {
    const { sink } = await bucket()
    sink.listedPrefixes.length = 0
    const report = await verify(sink, { from: Date.UTC(2026, 0, 10, 2, 0, 0) })
    assert.deepEqual(findings(report), [])
    assert.equal(report.digests.length, 1)
    assert.deepEqual(sink.listedPrefixes, ['CloudTraces/test-1/2026/01/10/system/'])
  })

  it('notes files delivered after the newest digest as pending, until their digest is due', async () => {
    const { sink } = await bucket()
    const lateKey = traceFileKey({
      region: REGION,
      regionSegment: REGION,
      tracker: 'system',
      service: 'IMS',
      prefix: '',
      time: Date.UTC(2026, 0, 10, 3, 5, 0),
      unique: 'ffffffffffffff01',
      compress: 'gzip',
    })
    await sink.put(BUCKET, lateKey, traceFileBytes(Date.UTC(2026, 0, 10, 3, 5, 0), 1, 'gzip'))
    const report = await verify(sink)
    assert.equal(report.summary.ok, true)
    assert.deepEqual(
      report.pending.map((p) => [p.key, p.note]),
      [[lateKey, 'pending: delivered after the newest digest']],
    )
    const later = await verify(sink, { to: Date.UTC(2026, 0, 10, 4, 11, 0) })
    assert.deepEqual(findings(later), [
      `${lateKey}: not in any digest (its digest is overdue)`,
      'chain: 1 digest missing after CloudTraces/test-1/2026/01/10/system/Digest/_CloudTrace-Digest_test-1_2026-01-10T03-00-00Z.json.gz',
    ])
  })
})

describe('opencts verify: tampered trace files', () => {
  it('reports an edited byte as a hash mismatch', async () => {
    const b = await bucket()
    const file = at(b.fixture.files, 5)
    const stored = objects(b).get(file.key)
    assert.ok(stored)
    stored.body[stored.body.length - 12] = (stored.body[stored.body.length - 12] ?? 0) ^ 0x01
    const report = await verify(b.sink)
    const [finding, ...rest] = findings(report)
    assert.deepEqual(rest, [])
    assert.match(
      finding ?? '',
      new RegExp(
        `^${file.key}: hash value doesn't match \\(got [0-9a-f]{16}…, want ${sha256Hex(file.body).slice(0, 16)}…\\)`,
      ),
    )
    assert.equal(report.summary.ok, false)
  })

  it('reports a deleted file as not found', async () => {
    const b = await bucket()
    const file = at(b.fixture.files, 7)
    await b.sink.delete(BUCKET, file.key)
    assert.deepEqual(findings(await verify(b.sink)), [`${file.key}: not found`])
  })

  it('reports an added file as in no digest', async () => {
    const b = await bucket()
    const time = Date.UTC(2026, 0, 9, 23, 30, 0)
    const key = traceFileKey({
      region: REGION,
      regionSegment: REGION,
      tracker: 'system',
      service: 'ECS',
      prefix: '',
      time,
      unique: 'ffffffffffffff02',
      compress: 'gzip',
    })
    await b.sink.put(BUCKET, key, traceFileBytes(time, 3, 'gzip'))
    const report = await verify(b.sink)
    assert.deepEqual(findings(report), [`${key}: not in any digest`])
    assert.equal(report.files.find((f) => f.key === key)?.digest, null)
  })

  it('reports a moved file with its new key, and not the new key as in no digest', async () => {
    const b = await bucket()
    const file = at(b.fixture.files, 4)
    const movedKey = file.key.replace(/_[0-9a-f]{16}\.json\.gz$/, '_00000000deadbeef.json.gz')
    await b.sink.put(BUCKET, movedKey, file.body)
    await b.sink.delete(BUCKET, file.key)
    assert.deepEqual(findings(await verify(b.sink)), [`${file.key}: moved to ${movedKey}`])
  })

  it('reports two swapped files as two hash mismatches', async () => {
    const b = await bucket()
    const one = at(b.fixture.files, 2)
    const two = at(b.fixture.files, 9)
    await b.sink.put(BUCKET, one.key, two.body)
    await b.sink.put(BUCKET, two.key, one.body)
    const report = await verify(b.sink)
    assert.deepEqual(
      findings(report).map((f) => f.replace(/ \(got .*$/, '')),
      [`${one.key}: hash value doesn't match`, `${two.key}: hash value doesn't match`].sort(),
    )
  })

  it('reports a gzip member appended to a file as extra data, not as a hash mismatch', async () => {
    const b = await bucket()
    const file = at(b.fixture.files, 3)
    const extra = gzipSync(Buffer.from('[{"trace_id":"forged"}]'))
    await b.sink.put(BUCKET, file.key, Buffer.concat([file.body, extra]))
    assert.deepEqual(findings(await verify(b.sink)), [
      `${file.key}: extra data after the gzip stream (${extra.length} bytes)`,
    ])
  })

  it('reports a file that is not gzip as invalid format', async () => {
    const b = await bucket()
    const file = at(b.fixture.files, 0)
    const stored = objects(b).get(file.key)
    assert.ok(stored)
    stored.body[0] = 0x5b
    const [finding] = findings(await verify(b.sink))
    assert.match(
      finding ?? '',
      /hash value doesn't match .*; invalid format: not gzip \(no 1f 8b magic\)$/,
    )
  })
})

describe('opencts verify: tampered digests', () => {
  it('reports one deleted digest as 1 missing, and its files as in no digest', async () => {
    const b = await bucket()
    const [, d1, d2, d3] = b.fixture.digests
    assert.ok(d1 && d2 && d3)
    await b.sink.delete(BUCKET, d2.key)
    const report = await verify(b.sink)
    assert.deepEqual(
      findings(report),
      [
        ...b.fixture.files
          .filter((f) => f.digest === d2.key)
          .map((f) => `${f.key}: not in any digest (its digest is missing)`),
        `chain: 1 digest missing between ${d1.key} and ${d3.key}`,
      ].sort(),
    )
    assert.equal(report.chainFindings[0]?.missing, 1)
    assert.equal(report.digests.length, 5)
  })

  it('reports two consecutive deleted digests as 2 missing', async () => {
    const b = await bucket()
    const [d0, d1, d2, d3] = b.fixture.digests
    assert.ok(d0 && d1 && d2 && d3)
    await b.sink.delete(BUCKET, d1.key)
    await b.sink.delete(BUCKET, d2.key)
    const report = await verify(b.sink)
    assert.deepEqual(report.chainFindings, [
      { kind: 'gap', message: `2 digests missing between ${d0.key} and ${d3.key}`, missing: 2 },
    ])
    assert.equal(report.summary.files.invalid, 4)
  })

  it('reports the newest digests deleted as a missing tail with the count due', async () => {
    const b = await bucket()
    const [, , , d3, d4, d5] = b.fixture.digests
    assert.ok(d3 && d4 && d5)
    await b.sink.delete(BUCKET, d4.key)
    await b.sink.delete(BUCKET, d5.key)
    const report = await verify(b.sink)
    assert.deepEqual(report.chainFindings, [
      { kind: 'tail', message: `2 digests missing after ${d3.key}`, missing: 2 },
    ])
    // d4's files are overdue; d5's (02:20, 02:40) could still be waiting for a digest due at 03:05.
    assert.deepEqual(
      report.files.filter((f) => f.status === 'INVALID').map((f) => f.reason),
      ['not in any digest (its digest is overdue)', 'not in any digest (its digest is overdue)'],
    )
    assert.equal(report.pending.length, 2)
    const earlier = await verify(b.sink, { to: Date.UTC(2026, 0, 10, 3, 4, 0) })
    assert.equal(earlier.chainFindings[0]?.message, `1 digest missing after ${d3.key}`)
  })

  it('reports a chain restarted although the older chain has no ending digest', async () => {
    const sink = new MemoryObjectSink()
    const common = { sink, bucket: BUCKET, region: REGION, projectId: PROJECT, key: KEY }
    const first = await writeFixture({ ...common, start: START, periods: 3 })
    const second = await writeFixture({ ...common, start: START + 3 * HOUR + 600_000, periods: 3 })
    assert.deepEqual(findings(await verify(sink)), [
      `chain: chain restarted at ${at(second.digests, 0).key} although ${at(first.digests, 2).key} is not an ending digest`,
    ])
  })

  it('reports a bucket with files but no digest at all', async () => {
    const b = await bucket()
    for (const d of b.fixture.digests) await b.sink.delete(BUCKET, d.key)
    const report = await verify(b.sink)
    assert.deepEqual(report.chainFindings, [
      {
        kind: 'none',
        message:
          'no digest found between 2026-01-09T21-00-00Z and 2026-01-10T03-10-00Z (6 expected)',
        missing: 6,
      },
    ])
  })

  it('reports two digests whose objects were swapped', async () => {
    const b = await bucket()
    const [, , d2, d3] = b.fixture.digests
    assert.ok(d2 && d3)
    const map = objects(b)
    const two = map.get(d2.key)
    const three = map.get(d3.key)
    assert.ok(two && three)
    map.set(d2.key, three)
    map.set(d3.key, two)
    const report = await verify(b.sink)
    const at2 = report.digests.find((d) => d.key === d2.key)
    const at3 = report.digests.find((d) => d.key === d3.key)
    assert.equal(at2?.status, 'INVALID')
    assert.equal(at3?.status, 'INVALID')
    assert.match(at3?.reason ?? '', /hash value doesn't match previous_digest_hash_value of /)
    assert.match(
      at3?.reason ?? '',
      new RegExp(`moved from its original location ${BUCKET}/${d2.key}`),
    )
    assert.match(
      at2?.reason ?? '',
      new RegExp(`moved from its original location ${BUCKET}/${d3.key}`),
    )
    assert.match(at2?.reason ?? '', /not part of the chain/)
    assert.equal(report.summary.files.invalid, 0)
  })

  it('reports a digest moved to another key', async () => {
    const b = await bucket()
    const [, d1, d2, d3] = b.fixture.digests
    assert.ok(d1 && d2 && d3)
    const movedKey = digestFileKey({
      region: REGION,
      regionSegment: REGION,
      tracker: 'system',
      prefix: '',
      time: d2.end + 1_800_000,
    })
    await putDigest(b.sink, BUCKET, movedKey, d2.body, d2.signature)
    await b.sink.delete(BUCKET, d2.key)
    assert.deepEqual(findings(await verify(b.sink)), [
      `${movedKey}: moved from its original location ${BUCKET}/${d2.key}; not part of the chain (no newer digest links to it)`,
      `chain: 1 digest missing between ${d1.key} and ${d3.key}`,
    ])
  })

  it('reports an appended gzip member in a digest', async () => {
    const b = await bucket()
    const d5 = at(b.fixture.digests, 5)
    const extra = gzipSync(Buffer.from('{}'))
    await putDigest(b.sink, BUCKET, d5.key, Buffer.concat([d5.body, extra]), d5.signature)
    const [finding, ...rest] = findings(await verify(b.sink))
    assert.deepEqual(rest, [])
    assert.equal(
      finding,
      `${d5.key}: extra data after the gzip stream (${extra.length} bytes); signature verification failed`,
    )
  })

  it('reports a forged middle digest (a file removed, re-signed by another key)', async () => {
    const b = await bucket()
    const [, , d2, d3] = b.fixture.digests
    assert.ok(d2 && d3)
    const removed = at(d2.doc.log_files, 1)
    const forged = { ...d2.doc, log_files: d2.doc.log_files.slice(0, 1) }
    const { body, signature } = signDigestDocument(forged, ATTACKER.privateKey)
    await putDigest(b.sink, BUCKET, d2.key, body, signature)
    const report = await verify(b.sink)
    const reason = report.digests.find((d) => d.key === d2.key)?.reason ?? ''
    assert.match(
      reason,
      new RegExp(`^hash value doesn't match previous_digest_hash_value of ${d3.key}`),
    )
    assert.match(reason, /signature in object metadata differs from previous_digest_signature/)
    assert.match(reason, /signature verification failed$/)
    assert.deepEqual(
      report.files.filter((f) => f.status === 'INVALID').map((f) => `${f.key}: ${f.reason}`),
      [`${removed.object}: not in any digest`],
    )
  })

  it('reports the newest digest re-signed with an unknown key', async () => {
    const b = await bucket()
    const d5 = at(b.fixture.digests, 5)
    await resignDigest(b.sink, BUCKET, d5.key, ATTACKER)
    assert.deepEqual(findings(await verify(b.sink)), [
      `${d5.key}: public key not found for fingerprint ${ATTACKER.fingerprint}`,
    ])
  })

  it('reports the newest digest signed by another key under the known fingerprint', async () => {
    const b = await bucket()
    const d5 = at(b.fixture.digests, 5)
    await resignDigest(b.sink, BUCKET, d5.key, ATTACKER, KEY.fingerprint)
    assert.deepEqual(findings(await verify(b.sink)), [`${d5.key}: signature verification failed`])
  })

  it('reports a newest digest without signature metadata', async () => {
    const b = await bucket()
    const d5 = at(b.fixture.digests, 5)
    await b.sink.put(BUCKET, d5.key, d5.body)
    assert.deepEqual(findings(await verify(b.sink)), [
      `${d5.key}: signature not found in object metadata`,
    ])
  })

  it('reports a key that was not valid at the digest time', async () => {
    const b = await bucket()
    const late = { ...KEY.view, valid_from: Date.UTC(2026, 0, 10) }
    const older = makeSigningKey(0, Date.UTC(2026, 0, 10)).view
    const report = await verify(b.sink, { publicKeys: [older, late] })
    const invalid = report.digests.filter((d) => d.status === 'INVALID')
    assert.deepEqual(
      invalid.map((d) => d.reason),
      [
        `key ${KEY.fingerprint} was not valid at 2026-01-09T23:00:00.000Z`,
        `key ${KEY.fingerprint} was not valid at 2026-01-09T22:00:00.000Z`,
      ],
    )
  })
})

describe('opencts verify: encrypted buckets', () => {
  it('checks hashes only without keys, and says so', async () => {
    const b = await bucket({ encryptWith: MASTER })
    const report = await verify(b.sink)
    assert.deepEqual(findings(report), [])
    assert.equal(report.summary.files.contentNotChecked, 12)
    assert.ok(report.files.every((f) => f.note === 'encrypted, content not checked'))
  })

  it('decrypts and checks the content with keys', async () => {
    const b = await bucket({ encryptWith: MASTER })
    const report = await verify(b.sink, { masterKeys: [MASTER] })
    assert.deepEqual(findings(report), [])
    assert.equal(report.summary.files.contentNotChecked, 0)
  })

  it('reports altered ciphertext; with keys, also the failed decryption', async () => {
    const b = await bucket({ encryptWith: MASTER })
    const file = at(b.fixture.files, 6)
    const stored = objects(b).get(file.key)
    assert.ok(stored)
    stored.body[stored.body.length - 30] = (stored.body[stored.body.length - 30] ?? 0) ^ 0x80
    const [without] = findings(await verify(b.sink))
    assert.match(without ?? '', new RegExp(`^${file.key}: hash value doesn't match \\([^)]*\\)$`))
    const [withKeys] = findings(await verify(b.sink, { masterKeys: [MASTER] }))
    assert.match(withKeys ?? '', /hash value doesn't match .*; decryption failed: .*altered/)
  })
})

describe('opencts verify: projects sharing a folder', () => {
  it('asks for the project id, and verifies each project with it', async () => {
    const sink = new MemoryObjectSink()
    const other = 'fedcba9876543210fedcba9876543210'
    const common = { sink, bucket: BUCKET, region: REGION, key: KEY, start: START, periods: 6 }
    await writeFixture({ ...common, projectId: PROJECT })
    await writeFixture({ ...common, projectId: other, regionSegment: `${REGION}-${other}` })
    await assert.rejects(
      verify(sink),
      (error: unknown) => isOpenCtsError(error) && error.code === 'OCTS_ERR_PROJECT_ID',
    )
    const own = await verify(sink, { projectId: other })
    assert.deepEqual(findings(own), [])
    assert.equal(own.regionSegment, `${REGION}-${other}`)
    assert.equal(own.summary.files.valid, 12)
    const main = await verify(sink, { projectId: PROJECT })
    assert.deepEqual(findings(main), [])
    assert.equal(main.regionSegment, REGION)
  })
})
