/**
 * The S3 object sink: the contract suite against a real S3-compatible server (s3rver on
 * loopback), plus the failures only a network store has (5xx answers, timeouts, retries).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { S3ObjectSink, s3ErrorCode } from '../src/transfer/s3/index.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'
import { startS3Server, type S3Server } from './helpers/s3-server.js'
import { objectSinkContract, rejectsWith, type ObjectSinkFactory } from './object-sink-contract.js'

let server: S3Server | undefined
before(async () => {
  server = await startS3Server()
})
after(() => server?.stop())

function s3(): S3Server {
  assert.ok(server !== undefined, 's3rver started')
  return server
}

/** A loopback port nobody listens on (it was free a moment ago). */
async function deadPort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

const factory: ObjectSinkFactory = async ({ listPageSize }) => {
  const { settings } = s3()
  const sinks: ObjectSink[] = []
  const open = (sink: ObjectSink): ObjectSink => (sinks.push(sink), sink)
  const port = await deadPort()
  return {
    sink: open(new S3ObjectSink(settings, { listPageSize })),
    async denied() {
      // s3rver checks that the access key id exists (it does not verify SigV4 signatures),
      // so an unknown access key id gets 403 InvalidAccessKeyId on an existing bucket.
      const bucket = `denied-${randomBytes(6).toString('hex')}`
      await sinks[0]!.createBucket(bucket)
      const wrong = { ...settings, accessKeyId: 'NOSUCHKEY', secretAccessKey: 'wrong' }
      return { sink: open(new S3ObjectSink(wrong, { maxAttempts: 1 })), bucket }
    },
    unreachable: () =>
      open(
        new S3ObjectSink(
          { ...settings, endpoint: `http://127.0.0.1:${port}` },
          { maxAttempts: 1, connectTimeoutMs: 1000, requestTimeoutMs: 2000 },
        ),
      ),
    async cleanup() {
      for (const sink of sinks) await sink.close()
    },
  }
}

objectSinkContract('s3 (s3rver)', factory)

/** Starts a loopback HTTP server; `stop` closes it and every connection. */
async function fakeStore(
  handle: Parameters<typeof createServer>[1],
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const http: Server = createServer(handle)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    },
  }
}

describe('s3 object sink', () => {
  it('reports 5xx answers as OCTS_ERR_OBJECT_STORE_UNAVAILABLE after maxAttempts tries', async () => {
    let requests = 0
    const store = await fakeStore((_req, res) => {
      requests++
      res.writeHead(503, { 'content-type': 'application/xml' })
      res.end('<Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error>')
    })
    const sink = new S3ObjectSink(
      { ...s3().settings, endpoint: store.endpoint },
      { maxAttempts: 2 },
    )
    try {
      await rejectsWith(
        sink.put('b-1', 'k', Buffer.from('x')),
        'OCTS_ERR_OBJECT_STORE_UNAVAILABLE',
        '503',
      )
      assert.equal(requests, 2)
    } finally {
      await sink.close()
      await store.stop()
    }
  })

  it('gives up on a store that never answers after requestTimeoutMs', async () => {
    const sockets = new Set<Socket>()
    const silent = createTcpServer((socket) => sockets.add(socket)) // reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as AddressInfo
    const sink = new S3ObjectSink(
      { ...s3().settings, endpoint: `http://127.0.0.1:${port}` },
      { maxAttempts: 1, requestTimeoutMs: 300 },
    )
    try {
      const started = Date.now()
      const guard = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('no timeout after 10 s')), 10_000).unref(),
      )
      await Promise.race([
        rejectsWith(sink.get('b-1', 'k'), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE', 'b-1'),
        guard,
      ])
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
    } finally {
      await sink.close()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('maps S3 error codes and statuses to catalogue codes', () => {
    const err = (name: string, status?: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } })
    assert.equal(s3ErrorCode(err('NoSuchBucket', 404)), 'OCTS_ERR_NO_BUCKET')
    assert.equal(s3ErrorCode(err('NotFound', 404)), 'OCTS_ERR_NO_BUCKET')
    for (const name of ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']) {
      assert.equal(s3ErrorCode(err(name, 403)), 'OCTS_ERR_BUCKET_DENIED', name)
    }
    assert.equal(s3ErrorCode(err('AllAccessDisabled', 403)), 'OCTS_ERR_BUCKET_DENIED')
    assert.equal(s3ErrorCode(err('Unknown', 403)), 'OCTS_ERR_BUCKET_DENIED')
    assert.equal(s3ErrorCode(err('BucketAlreadyOwnedByYou', 409), true), 'OCTS_ERR_BUCKET_EXISTS')
    assert.equal(s3ErrorCode(err('BucketAlreadyExists', 409), true), 'OCTS_ERR_BUCKET_EXISTS')
    assert.equal(s3ErrorCode(err('OperationAborted', 409)), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
    assert.equal(s3ErrorCode(err('InternalError', 500)), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
    assert.equal(s3ErrorCode(err('SlowDown', 503)), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    assert.equal(s3ErrorCode(refused), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
    assert.equal(s3ErrorCode('a string'), 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE')
  })
})
