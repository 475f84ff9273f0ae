/**
 * @module transfer/object-sink
 * The object-storage port: buckets holding whole objects with string metadata. Two adapters:
 * `fs/` (a local folder, the embedded default) and `s3/` (any S3-compatible store). Both pass
 * `test/object-sink-contract.ts`.
 *
 * Errors leave a sink only as `OpenCtsError`:
 * - `OCTS_ERR_NO_BUCKET`: the bucket does not exist (a tracker shows `detail=noBucket`);
 * - `OCTS_ERR_BUCKET_DENIED`: credentials or policy refuse the call (`detail=bucketPolicyError`);
 * - `OCTS_ERR_OBJECT_STORE_UNAVAILABLE`: network failure, timeout, 5xx (retry later);
 * - `OCTS_ERR_BUCKET_EXISTS` from `createBucket` only.
 */
import type { ObjectStoreConfig } from '../config/config.js'
import type { StorageCondition } from '../platform/storage-condition.js'

/** Object metadata: lowercase keys of `[a-z0-9-]`, printable ASCII values (S3 user metadata). */
export type ObjectMetadata = Readonly<Record<string, string>>

export interface StoredObject {
  readonly body: Buffer
  readonly metadata: ObjectMetadata
}

export interface ObjectInfo {
  readonly key: string
  readonly size: number
}

export interface ObjectSink {
  /** Where the objects go, for logs and messages (`folder /var/lib/opencts/objects`, `s3 http://…`). */
  readonly description: string
  /** Whether writes fail for lack of space, where the adapter can tell (the folder sink). */
  readonly storage?: StorageCondition
  bucketExists(bucket: string): Promise<boolean>
  /** Creates an empty bucket. Throws OCTS_ERR_BUCKET_EXISTS if it already exists. */
  createBucket(bucket: string): Promise<void>
  /**
   * Stores `body` under `key` as one single-part object, replacing any object with that key.
   * Atomic: a reader sees the old object or the whole new one, never a part. When the promise
   * resolves the object is durable. Throws OCTS_ERR_NO_BUCKET if the bucket does not exist.
   */
  put(bucket: string, key: string, body: Uint8Array, metadata?: ObjectMetadata): Promise<void>
  /** The object, or undefined if there is none with this key. Throws OCTS_ERR_NO_BUCKET. */
  get(bucket: string, key: string): Promise<StoredObject | undefined>
  /** Every object whose key starts with `prefix`, sorted by key (UTF-8 byte order). */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>
  /** Deletes the object; deleting a missing object is not an error. */
  delete(bucket: string, key: string): Promise<void>
  /** Releases connections. Further calls fail. */
  close(): Promise<void>
}

/** Where a server's buckets live: a local folder (default `<data>/objects`) or an S3 endpoint. */
export type ObjectStoreSettings = ObjectStoreConfig
