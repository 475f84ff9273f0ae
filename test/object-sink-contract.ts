/**
 * @module test/object-sink-contract
 * The object-sink contract: every `ObjectSink` adapter must pass this suite. Run it with
 * `objectSinkContract('fs', factory)`; each test opens a fresh fixture, uses buckets of its own
 * (random names) and cleans up.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError, type ErrorCode } from '../src/errors/index.js'
import type { ObjectSink } from '../src/transfer/object-sink.js'

export interface DeniedBucket {
  /** A sink whose calls on `bucket` the store refuses for lack of permission. */
  readonly sink: ObjectSink
  readonly bucket: string
}

export interface ObjectSinkFixture {
  /** A working sink; the buckets the suite names do not exist yet. */
  readonly sink: ObjectSink
  /** A bucket that exists but refuses this caller (wrong credentials, not a writable folder). */
  denied(): Promise<DeniedBucket>
  /** Opens a sink whose store cannot be reached, or says why the adapter has no such state. */
  readonly unreachable: (() => ObjectSink) | { readonly skip: string }
  /** Closes every sink the fixture opened and removes what it created. */
  cleanup(): Promise<void>
}

export interface ObjectSinkTuning {
  /** Keys per list request, for adapters that page (S3); others ignore it. */
  readonly listPageSize: number
}

export type ObjectSinkFactory = (tuning: ObjectSinkTuning) => Promise<ObjectSinkFixture>

const BIG_PAGE = { listPageSize: 1000 }

function bucketName(): string {
  return `contract-${randomBytes(6).toString('hex')}`
}

/** Every byte value, NUL first, twice, in a body that is not valid UTF-8. */
const BINARY = Buffer.from([...Array(512).keys()].map((i) => i % 256))

async function withSink(
  factory: ObjectSinkFactory,
  fn: (sink: ObjectSink, bucket: string, fixture: ObjectSinkFixture) => Promise<void>,
  tuning: ObjectSinkTuning = BIG_PAGE,
): Promise<void> {
  const fixture = await factory(tuning)
  try {
    const bucket = bucketName()
    await fixture.sink.createBucket(bucket)
    await fn(fixture.sink, bucket, fixture)
  } finally {
    await fixture.cleanup()
  }
}

/** Asserts `promise` rejects with an OpenCtsError of `code` whose message names `mention`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  mention: string,
): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isOpenCtsError(error), `want an OpenCtsError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    assert.ok(error.message.includes(mention), `"${error.message}" should name ${mention}`)
    return true
  })
}

export function objectSinkContract(name: string, factory: ObjectSinkFactory): void {
  describe(`object sink contract: ${name}`, () => {
    it('returns every byte of a binary body unchanged, NUL bytes included', () =>
      withSink(factory, async (sink, bucket) => {
        await sink.put(bucket, 'CloudTraces/r1/2026/11/21/t1/ecs/f.json.gz', BINARY)
        await sink.put(bucket, 'empty', new Uint8Array())
        const got = await sink.get(bucket, 'CloudTraces/r1/2026/11/21/t1/ecs/f.json.gz')
        assert.ok(got !== undefined && Buffer.isBuffer(got.body))
        assert.ok(got.body.equals(BINARY), 'body differs')
        assert.equal((await sink.get(bucket, 'empty'))?.body.length, 0)
      }))

    it('returns a 3 MB body unchanged', () =>
      withSink(factory, async (sink, bucket) => {
        const body = randomBytes(3 * 1024 * 1024 + 17)
        await sink.put(bucket, 'big/object.bin', body)
        const got = await sink.get(bucket, 'big/object.bin')
        assert.equal(got?.body.length, body.length)
        assert.ok(got.body.equals(body), 'body differs')
        assert.deepEqual(await sink.list(bucket, 'big/'), [
          { key: 'big/object.bin', size: body.length },
        ])
      }))

    it('returns the metadata it was given, and none when given none', () =>
      withSink(factory, async (sink, bucket) => {
        const metadata = { 'trace-count': '42', 'content-sha256': 'ab'.repeat(32), x: 'a b=c;/' }
        await sink.put(bucket, 'with', Buffer.from('1'), metadata)
        await sink.put(bucket, 'without', Buffer.from('2'))
        assert.deepEqual((await sink.get(bucket, 'with'))?.metadata, metadata)
        assert.deepEqual((await sink.get(bucket, 'without'))?.metadata, {})
      }))

    it('replaces body and metadata when a key is written again', () =>
      withSink(factory, async (sink, bucket) => {
        await sink.put(bucket, 'k', Buffer.from('first version'), { a: '1', b: '2' })
        await sink.put(bucket, 'k', Buffer.from('second'), { a: '3' })
        const got = await sink.get(bucket, 'k')
        assert.equal(got?.body.toString(), 'second')
        assert.deepEqual(got.metadata, { a: '3' })
        assert.deepEqual(await sink.list(bucket, ''), [{ key: 'k', size: 6 }])
      }))

    it('answers undefined for a key it does not hold', () =>
      withSink(factory, async (sink, bucket) => {
        await sink.put(bucket, 'a/b', Buffer.from('x'))
        assert.equal(await sink.get(bucket, 'a/c'), undefined)
        assert.equal(await sink.get(bucket, 'a'), undefined)
        assert.equal(await sink.get(bucket, 'a/b/c'), undefined)
      }))

    it('lists the keys starting with a prefix, in UTF-8 byte order', () =>
      withSink(factory, async (sink, bucket) => {
        // Locale order would put `_` and `a` before `B`; UTF-16 order would put the astral
        // character (surrogates D835…) before the fullwidth `ｚ` (FF5A); UTF-8 bytes do neither.
        const keys = ['a/a', 'a/𝒳', 'a/B', 'a/b/c', 'a/ｚ', 'a/_', 'a/b-', 'ab', 'a/b.x', 'b/a']
        for (const [i, key] of keys.entries()) await sink.put(bucket, key, randomBytes(i))
        const size = (key: string): number => keys.indexOf(key)
        const want = ['a/B', 'a/_', 'a/a', 'a/b-', 'a/b.x', 'a/b/c', 'a/ｚ', 'a/𝒳']
        assert.deepEqual(
          await sink.list(bucket, 'a/'),
          want.map((key) => ({ key, size: size(key) })),
        )
        // A prefix is a string prefix, not a folder.
        assert.deepEqual(
          (await sink.list(bucket, 'a/b')).map((o) => o.key),
          ['a/b-', 'a/b.x', 'a/b/c'],
        )
        assert.deepEqual(
          (await sink.list(bucket, 'a')).map((o) => o.key),
          [...want, 'ab'],
        )
      }))

    it('lists across several pages without losing or repeating keys', () =>
      withSink(
        factory,
        async (sink, bucket) => {
          // Keys of one folder: s3rver pages by walking its folders and repeats or skips keys when
          // a folder sorts apart from its keys (`a/b/c` vs `a/b-`); real S3 stores do not.
          const keys = Array.from({ length: 11 }, (_, i) => `p/k${String(i).padStart(2, '0')}`)
          for (const key of [...keys].reverse()) await sink.put(bucket, key, Buffer.from(key))
          await sink.put(bucket, 'q/x', Buffer.from('outside'))
          assert.deepEqual(
            await sink.list(bucket, 'p/'),
            keys.map((key) => ({ key, size: 5 })),
          )
          assert.deepEqual(
            (await sink.list(bucket, '')).map((o) => o.key),
            [...keys, 'q/x'],
          )
        },
        { listPageSize: 3 },
      ))

    it('lists nothing for a prefix without objects, or an empty bucket', () =>
      withSink(factory, async (sink, bucket) => {
        assert.deepEqual(await sink.list(bucket, ''), [])
        await sink.put(bucket, 'a/b', Buffer.from('x'))
        assert.deepEqual(await sink.list(bucket, 'b/'), [])
        assert.deepEqual(await sink.list(bucket, 'a/bc'), [])
      }))

    it('deletes an object, and deleting a missing one is not an error', () =>
      withSink(factory, async (sink, bucket) => {
        await sink.put(bucket, 'd/1', Buffer.from('one'), { m: 'v' })
        await sink.put(bucket, 'd/2', Buffer.from('two'))
        await sink.delete(bucket, 'd/1')
        assert.equal(await sink.get(bucket, 'd/1'), undefined)
        assert.deepEqual(await sink.list(bucket, 'd/'), [{ key: 'd/2', size: 3 }])
        await sink.delete(bucket, 'd/1')
        await sink.delete(bucket, 'never/was')
      }))

    it('tells whether a bucket exists and creates one', async () => {
      const fixture = await factory(BIG_PAGE)
      const { sink } = fixture
      try {
        const bucket = bucketName()
        assert.equal(await sink.bucketExists(bucket), false)
        await sink.createBucket(bucket)
        assert.equal(await sink.bucketExists(bucket), true)
        assert.deepEqual(await sink.list(bucket, ''), [])
      } finally {
        await fixture.cleanup()
      }
    })

    it('refuses to create a bucket that exists: OCTS_ERR_BUCKET_EXISTS', () =>
      withSink(factory, async (sink, bucket) => {
        await sink.put(bucket, 'kept', Buffer.from('x'))
        await rejectsWith(sink.createBucket(bucket), 'OCTS_ERR_BUCKET_EXISTS', bucket)
        assert.equal((await sink.get(bucket, 'kept'))?.body.toString(), 'x')
      }))

    it('fails every object call on a missing bucket: OCTS_ERR_NO_BUCKET', async () => {
      const fixture = await factory(BIG_PAGE)
      const { sink } = fixture
      try {
        const bucket = bucketName()
        const code = 'OCTS_ERR_NO_BUCKET'
        await rejectsWith(sink.put(bucket, 'k', Buffer.from('x')), code, bucket)
        await rejectsWith(sink.get(bucket, 'k'), code, bucket)
        await rejectsWith(sink.list(bucket, ''), code, bucket)
        await rejectsWith(sink.delete(bucket, 'k'), code, bucket)
        assert.equal(await sink.bucketExists(bucket), false, 'a failed put creates no bucket')
      } finally {
        await fixture.cleanup()
      }
    })

    it('reports a refused caller: OCTS_ERR_BUCKET_DENIED', async () => {
      const fixture = await factory(BIG_PAGE)
      try {
        const { sink, bucket } = await fixture.denied()
        const code = 'OCTS_ERR_BUCKET_DENIED'
        await rejectsWith(sink.put(bucket, 'k', Buffer.from('x')), code, bucket)
        await rejectsWith(sink.get(bucket, 'k'), code, bucket)
        await rejectsWith(sink.list(bucket, ''), code, bucket)
        await rejectsWith(sink.bucketExists(bucket), code, bucket)
      } finally {
        await fixture.cleanup()
      }
    })

    it('reports an unreachable store quickly: OCTS_ERR_OBJECT_STORE_UNAVAILABLE', async (t) => {
      const fixture = await factory(BIG_PAGE)
      try {
        if (typeof fixture.unreachable !== 'function') {
          t.skip(fixture.unreachable.skip)
          return
        }
        const sink = fixture.unreachable()
        const started = Date.now()
        const code = 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE'
        await rejectsWith(sink.put('some-bucket', 'k', Buffer.from('x')), code, 'some-bucket')
        await rejectsWith(sink.bucketExists('some-bucket'), code, 'some-bucket')
        await sink.close()
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`)
      } finally {
        await fixture.cleanup()
      }
    })

    it('fails calls after close: OCTS_ERR_OBJECT_STORE_UNAVAILABLE', async () => {
      const fixture = await factory(BIG_PAGE)
      try {
        const bucket = bucketName()
        await fixture.sink.createBucket(bucket)
        await fixture.sink.close()
        const code = 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE'
        await rejectsWith(fixture.sink.put(bucket, 'k', Buffer.from('x')), code, 'closed')
        await rejectsWith(fixture.sink.get(bucket, 'k'), code, 'closed')
      } finally {
        await fixture.cleanup()
      }
    })
  })
}
