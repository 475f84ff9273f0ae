/**
 * `POST /v3/{domain_id}/checkbucket` (CheckObsBuckets, spec/cts-api.md §7.5) on the folder sink
 * and on a real S3 server (s3rver on loopback): one `check_bucket_response` per bucket, 400
 * CTS.0003 for a malformed body, the `cts:tracker:list` action on the account, nothing written.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { FsObjectSink } from '../src/transfer/fs/index.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'
import { TEST_ACCOUNT, TEST_PROJECTS, adminToken, buildTestApp, call } from './helpers/test-app.js'

const URL = `/v3/${TEST_ACCOUNT}/checkbucket`

async function checkBucketSuite(t: TestContext, sink: ObjectSink, existing: string): Promise<void> {
  const { app, services } = await buildTestApp(t, {}, { objectSink: sink })
  const kmsId = (await services.kmsKeys.create('archive')).id
  const answer = await call(app, 'POST', URL, {
    buckets: [
      { bucket_name: existing, bucket_location: 'local-1' },
      { bucket_name: 'no-such-bucket-here', bucket_location: 'local-1' },
      { bucket_name: 'Bad_Name', bucket_location: 'local-1' },
      {
        bucket_name: existing,
        bucket_location: 'local-1',
        is_support_trace_files_encryption: true,
      },
      {
        bucket_name: existing,
        bucket_location: 'local-1',
        is_support_trace_files_encryption: true,
        kms_id: 'no-such-key',
      },
    ],
  })
  assert.equal(answer.status, 200, JSON.stringify(answer.body))
  const results = answer.body.buckets as {
    bucket_name: string
    bucket_location: string
    check_bucket_response: {
      error_code: string
      error_message: string
      response_code: number
      success: boolean
    }
  }[]
  assert.equal(results.length, 5)
  assert.deepEqual(results[0], {
    bucket_name: existing,
    bucket_location: 'local-1',
    check_bucket_response: { error_code: '', error_message: '', response_code: 200, success: true },
  })
  const codes = results.map((r) => [
    r.check_bucket_response.error_code,
    r.check_bucket_response.response_code,
    r.check_bucket_response.success,
  ])
  assert.deepEqual(codes.slice(1), [
    ['NoSuchBucket', 404, false],
    ['CTS.0231', 400, false],
    ['CTS.0221', 400, false],
    ['CTS.0222', 400, false],
  ])
  assert.equal(results[3]?.bucket_name, existing, 'fields are echoed')
  {
    const withKey = await call(app, 'POST', URL, {
      buckets: [
        {
          bucket_name: existing,
          bucket_location: 'local-1',
          is_support_trace_files_encryption: true,
          kms_id: kmsId,
        },
      ],
    })
    assert.equal(withKey.body.buckets[0].check_bucket_response.success, true)
    assert.equal(withKey.body.buckets[0].kms_id, kmsId)
  }
  // Nothing was created by checking.
  assert.equal(await sink.bucketExists('no-such-bucket-here'), false)
  assert.deepEqual(await sink.list(existing, ''), [])
  // No buckets: an empty list.
  assert.deepEqual((await call(app, 'POST', URL, {})).body, { buckets: [] })
}

describe('POST /v3/{domain_id}/checkbucket', () => {
  it('checks each bucket of a local folder', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'opencts-checkbucket-'))
    const sink = new FsObjectSink(root)
    await sink.createBucket('audit-archive')
    await checkBucketSuite(t, sink, 'audit-archive')
    assert.deepEqual(
      readdirSync(root).filter((name) => !name.startsWith('.')),
      ['audit-archive'],
      'no bucket made',
    )
  })

  describe('on S3', () => {
    let server: S3Server
    before(async () => {
      server = await startS3Server()
    })
    after(() => server.stop())

    it('checks each bucket of an S3 store', async (t) => {
      const sink = new S3ObjectSink(server.settings)
      t.after(() => sink.close())
      await sink.createBucket('s3-archive')
      await checkBucketSuite(t, sink, 's3-archive')
    })
  })

  it('refuses a malformed body with 400 CTS.0003 naming the field, and empty bodies', async (t) => {
    const { app } = await buildTestApp(t)
    for (const [body, field] of [
      [{ buckets: 'x' }, /buckets must be an array/],
      [{ buckets: [{ bucket_location: 'eu-de' }] }, /buckets\[0\]\.bucket_name is required/],
      [{ buckets: [{ bucket_name: 'abc' }] }, /buckets\[0\]\.bucket_location is required/],
      [
        { buckets: [{ bucket_name: 'abc', bucket_location: 'x', kms_id: 5 }] },
        /buckets\[0\]\.kms_id/,
      ],
      [[], /JSON object/],
    ] as const) {
      const answer = await call(app, 'POST', URL, body)
      assert.equal(answer.status, 400, JSON.stringify(body))
      assert.equal(answer.body.error_code, 'CTS.0003')
      assert.match(answer.body.error_msg, field)
    }
    const empty = await app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json', 'x-auth-token': 'x' },
    })
    assert.equal(empty.statusCode, 401, 'authentication comes first')
    // Without an object store every bucket says so (503), the request itself succeeds.
    const none = await call(app, 'POST', URL, {
      buckets: [{ bucket_name: 'abc', bucket_location: 'x' }],
    })
    assert.equal(none.status, 200)
    assert.equal(none.body.buckets[0].check_bucket_response.response_code, 503)
  })

  it('needs cts:tracker:list on the account of the path', async (t) => {
    const { app } = await buildTestApp(t)
    const anonymous = await call(app, 'POST', URL, {}, { auth: false })
    assert.equal(anonymous.status, 401)
    const token = await adminToken(app, TEST_PROJECTS[0])
    const other = await call(
      app,
      'POST',
      '/v3/ffffffffffffffffffffffffffffffff/checkbucket',
      {},
      { auth: token },
    )
    assert.equal(other.status, 403)
    assert.equal(other.body.error_code, 'CTS.0013')
  })
})
