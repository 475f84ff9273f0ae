/**
 * Data traces: a data tracker on a bucket of a real S3 server on loopback (s3rver). The recorder
 * proxy with the `s3` map stands between the AWS SDK and s3rver; PutObject, GetObject and
 * DeleteObject on the tracked bucket become data traces of the tracker (queried with
 * `trace_type=data&tracker_name=…`), operations on another bucket are not recorded, and a tracker
 * tracking WRITE only does not record reads.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { it } from 'node:test'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { producerSender } from './helpers/producer-sender.js'
import { DEFAULT_IDENTITY_HEADERS } from '../src/recorder/capture.js'
import { S3_MAP, dataTrackerFor, type DataTrackerView } from '../src/recorder/index.js'
import { RecorderProxy } from '../src/recorder/recorder-proxy.js'
import { TraceReporter } from '../src/recorder/trace-reporter.js'
import { S3ObjectSink } from '../src/transfer/s3/index.js'
import { startS3Server } from './helpers/s3-server.js'
import { TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]

it('records AWS SDK Put/Get/Delete on a tracked bucket of a real S3 server as data traces', async (t) => {
  const s3 = await startS3Server(t)
  const admin = new S3ObjectSink(s3.settings)
  t.after(() => admin.close())
  await admin.createBucket('tracked-bucket')
  await admin.createBucket('other-bucket')
  await admin.createBucket('writes-only')

  const cts = await buildTestApp(t)
  cts.clock.set(Date.now())
  for (const [name, bucket, events] of [
    ['dt', 'tracked-bucket', ['READ', 'WRITE']],
    ['dt-writes', 'writes-only', ['WRITE']],
  ] as const) {
    const made = await call(cts.app, 'POST', `/v3/${P}/tracker`, {
      tracker_type: 'data',
      tracker_name: name,
      data_bucket: { data_bucket_name: bucket, data_event: events },
    })
    assert.equal(made.status, 201, JSON.stringify(made.body))
  }
  const trackers = (await call(cts.app, 'GET', `/v3/${P}/trackers?tracker_type=data`)).body
    .trackers as DataTrackerView[]

  const ctsUrl = await cts.app.listen({ port: 0, host: '127.0.0.1' })
  const reporter = new TraceReporter({ sender: producerSender(ctsUrl), flushMs: 20 })
  const proxy = new RecorderProxy({
    upstream: new URL(s3.endpoint),
    maps: [S3_MAP],
    reporter,
    identityHeaders: DEFAULT_IDENTITY_HEADERS,
    defaultProjectId: P,
    catchAll: null,
    dataTracker: (match) => dataTrackerFor(trackers, match),
  })
  const server = createServer(proxy.handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(async () => {
    proxy.close()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const sdk = new S3Client({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
  t.after(() => sdk.destroy())

  await sdk.send(
    new PutObjectCommand({ Bucket: 'tracked-bucket', Key: 'dir/a.txt', Body: 'hello' }),
  )
  const got = await sdk.send(new GetObjectCommand({ Bucket: 'tracked-bucket', Key: 'dir/a.txt' }))
  assert.equal(await got.Body?.transformToString(), 'hello', 'S3 answers through the proxy')
  await sdk.send(new DeleteObjectCommand({ Bucket: 'tracked-bucket', Key: 'dir/a.txt' }))
  await sdk.send(new PutObjectCommand({ Bucket: 'other-bucket', Key: 'b.txt', Body: 'x' }))
  await sdk.send(new PutObjectCommand({ Bucket: 'writes-only', Key: 'c.txt', Body: 'x' }))
  await sdk.send(new GetObjectCommand({ Bucket: 'writes-only', Key: 'c.txt' }))

  for (let i = 0; i < 200 && reporter.stats().queued > 0; i++) await sleep(25)
  await reporter.close()
  const data = async (tracker: string): Promise<string[][]> => {
    const answer = await call(
      cts.app,
      'GET',
      `/v3/${P}/traces?trace_type=data&tracker_name=${tracker}&limit=50&from=${Date.now() - 600_000}&to=${Date.now() + 60_000}`,
    )
    assert.equal(answer.status, 200, JSON.stringify(answer.body))
    return (
      answer.body.traces as {
        trace_name: string
        resource_id: string
        trace_type: string
        service_type: string
        code: string
        user?: { access_key_id?: string }
      }[]
    )
      .reverse()
      .map((x) => [
        x.trace_name,
        x.resource_id,
        x.trace_type,
        x.service_type,
        x.code,
        x.user?.access_key_id ?? '',
      ])
  }
  assert.deepEqual(await data('dt'), [
    ['PutObject', 'tracked-bucket/dir/a.txt', 'ObsAPI', 'OBS', '200', s3.accessKeyId],
    ['GetObject', 'tracked-bucket/dir/a.txt', 'ObsAPI', 'OBS', '200', s3.accessKeyId],
    ['DeleteObject', 'tracked-bucket/dir/a.txt', 'ObsAPI', 'OBS', '204', s3.accessKeyId],
  ])
  assert.deepEqual(
    (await data('dt-writes')).map((x) => x[0]),
    ['PutObject'],
    'a WRITE-only tracker records no read',
  )
  const management = await call(
    cts.app,
    'GET',
    `/v3/${P}/traces?service_type=OBS&from=${Date.now() - 600_000}&to=${Date.now() + 60_000}`,
  )
  assert.equal(management.body.traces.length, 0, 'data traces are not management traces')
})
