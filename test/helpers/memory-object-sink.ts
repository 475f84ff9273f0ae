/**
 * @module test/helpers/memory-object-sink
 * An in-memory `ObjectSink` for tests: buckets are maps of key → copied bytes and metadata, so a
 * test can tamper with objects directly (`objects(bucket)`) and nothing touches the disk.
 */
import { OpenCtsError } from '../../src/errors/index.js'
import type {
  ObjectInfo,
  ObjectMetadata,
  ObjectSink,
  StoredObject,
} from '../../src/transfer/object-sink.js'

export class MemoryObjectSink implements ObjectSink {
  readonly description = 'memory'
  /** Every prefix `list` was called with, in order (to check what a reader lists). */
  readonly listedPrefixes: string[] = []
  readonly #buckets = new Map<string, Map<string, StoredObject>>()

  async bucketExists(bucket: string): Promise<boolean> {
    return this.#buckets.has(bucket)
  }

  async createBucket(bucket: string): Promise<void> {
    if (this.#buckets.has(bucket)) throw new OpenCtsError('OCTS_ERR_BUCKET_EXISTS')
    this.#buckets.set(bucket, new Map())
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: ObjectMetadata = {},
  ): Promise<void> {
    this.objects(bucket).set(key, { body: Buffer.from(body), metadata: { ...metadata } })
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    const object = this.objects(bucket).get(key)
    return object === undefined
      ? undefined
      : { body: Buffer.from(object.body), metadata: { ...object.metadata } }
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    this.listedPrefixes.push(prefix)
    return [...this.objects(bucket)]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, object]) => ({ key, size: object.body.length }))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)))
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.objects(bucket).delete(key)
  }

  async close(): Promise<void> {}

  /** The live map of a bucket's objects (for tampering). Throws OCTS_ERR_NO_BUCKET. */
  objects(bucket: string): Map<string, StoredObject> {
    const objects = this.#buckets.get(bucket)
    if (objects === undefined) throw new OpenCtsError('OCTS_ERR_NO_BUCKET')
    return objects
  }
}
