/**
 * @module transfer/s3/s3-object-sink
 * The `ObjectSink` on any S3-compatible service (AWS S3, Huawei OBS, Ceph RGW, MinIO) through
 * `@aws-sdk/client-s3`, the only module that imports it. Every object is one single-part
 * PutObject; checksums are computed and validated only when the operation requires them, which
 * keeps the requests plain enough for stores that do not know the newer checksum headers.
 *
 * Errors, converted here so nothing above sees an SDK error:
 * - NoSuchBucket, or 404 elsewhere than a missing key → OCTS_ERR_NO_BUCKET;
 * - AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, any 401/403 → OCTS_ERR_BUCKET_DENIED;
 * - BucketAlreadyOwnedByYou / BucketAlreadyExists (409) from `createBucket` → OCTS_ERR_BUCKET_EXISTS;
 * - network errors, timeouts, 5xx and anything else → OCTS_ERR_OBJECT_STORE_UNAVAILABLE.
 * `get` of a missing key (NoSuchKey / 404) is `undefined`.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3'
import { OpenCtsError, isOpenCtsError, type ErrorCode } from '../../errors/index.js'
import type {
  ObjectInfo,
  ObjectMetadata,
  ObjectSink,
  ObjectStoreSettings,
  StoredObject,
} from '../object-sink.js'

export type S3Settings = Extract<ObjectStoreSettings, { readonly kind: 's3' }>

/** Tuning, mostly for tests; the defaults suit production. */
export interface S3SinkTuning {
  /** Keys per ListObjectsV2 page (default and S3 maximum 1000). */
  readonly listPageSize?: number
  /** Attempts per call, the first included, with the SDK's backoff between them (default 3). */
  readonly maxAttempts?: number
  /** Limit for one attempt, from request to the end of the response (default 30 000 ms). */
  readonly requestTimeoutMs?: number
  /** Limit for opening the TCP (and TLS) connection (default 5 000 ms). */
  readonly connectTimeoutMs?: number
}

const DEFAULTS = {
  listPageSize: 1000,
  maxAttempts: 3,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
} as const

const DENIED_NAMES = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'Forbidden',
])
const EXISTS_NAMES = new Set(['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'])

/** What the SDK tells about a failed call: the S3 error code (`name`) and the HTTP status. */
export function s3Failure(error: unknown): { name: string; status: number | undefined } {
  if (typeof error !== 'object' || error === null) return { name: String(error), status: undefined }
  const name = 'name' in error && typeof error.name === 'string' ? error.name : 'Error'
  const meta = '$metadata' in error ? error.$metadata : undefined
  const status =
    typeof meta === 'object' &&
    meta !== null &&
    'httpStatusCode' in meta &&
    typeof meta.httpStatusCode === 'number'
      ? meta.httpStatusCode
      : undefined
  return { name, status }
}

/**
 * The catalogue code for a failed call. `createBucket` is true only for CreateBucket, the one call
 * where 409 "already exists" is an answer rather than a failure.
 */
export function s3ErrorCode(error: unknown, createBucket = false): ErrorCode {
  const { name, status } = s3Failure(error)
  if (name === 'NoSuchBucket' || status === 404) return 'OCTS_ERR_NO_BUCKET'
  if (DENIED_NAMES.has(name) || status === 401 || status === 403) return 'OCTS_ERR_BUCKET_DENIED'
  if (createBucket && (EXISTS_NAMES.has(name) || status === 409)) return 'OCTS_ERR_BUCKET_EXISTS'
  return 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE'
}

function isMissingKey(error: unknown): boolean {
  const { name, status } = s3Failure(error)
  return name === 'NoSuchKey' || (status === 404 && name !== 'NoSuchBucket')
}

/** A short reason for messages: `NoSuchBucket (404)`, `ECONNREFUSED`, `TimeoutError`. */
function reason(error: unknown): string {
  const { name, status } = s3Failure(error)
  const errno =
    typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined
  if (status !== undefined) return `${name} (${status})`
  return errno ?? (error instanceof Error ? `${name}: ${error.message}` : name)
}

export class S3ObjectSink implements ObjectSink {
  readonly description: string
  readonly #client: S3Client
  readonly #pageSize: number
  readonly #region: string
  #closed = false

  constructor(settings: S3Settings, tuning: S3SinkTuning = {}) {
    const t = { ...DEFAULTS, ...tuning }
    if (!Number.isInteger(t.listPageSize) || t.listPageSize < 1 || t.listPageSize > 1000) {
      throw new RangeError(`listPageSize must be 1..1000, got ${t.listPageSize}`)
    }
    this.#pageSize = t.listPageSize
    this.#region = settings.region
    this.description = `s3 ${settings.endpoint}`
    this.#client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      credentials: {
        accessKeyId: settings.accessKeyId,
        secretAccessKey: settings.secretAccessKey,
      },
      maxAttempts: t.maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Options of the SDK's Node HTTP handler; without throwOnRequestTimeout a request that
      // exceeds requestTimeout only logs a warning.
      requestHandler: {
        connectionTimeout: t.connectTimeoutMs,
        requestTimeout: t.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    })
  }

  async bucketExists(bucket: string): Promise<boolean> {
    this.#assertOpen()
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: bucket }))
      return true
    } catch (error) {
      if (s3Failure(error).status === 404) return false
      throw this.#error(error, `cannot check bucket ${bucket}`)
    }
  }

  async createBucket(bucket: string): Promise<void> {
    this.#assertOpen()
    try {
      // Outside us-east-1, S3 wants the region in the request (OBS and Ceph accept it too);
      // S3-compatible stores have region names the SDK's list does not know, hence the cast.
      const location = this.#region as BucketLocationConstraint
      await this.#client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(this.#region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: location } }),
        }),
      )
    } catch (error) {
      throw this.#error(error, `cannot create bucket ${bucket}`, true)
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: ObjectMetadata = {},
  ): Promise<void> {
    this.#assertOpen()
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.byteLength,
          Metadata: { ...metadata },
        }),
      )
    } catch (error) {
      throw this.#error(error, `cannot put ${key} into bucket ${bucket}`)
    }
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    this.#assertOpen()
    try {
      const answer = await this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      const bytes = (await answer.Body?.transformToByteArray()) ?? new Uint8Array()
      return {
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        metadata: { ...answer.Metadata },
      }
    } catch (error) {
      if (isMissingKey(error)) return undefined
      throw this.#error(error, `cannot get ${key} from bucket ${bucket}`)
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    this.#assertOpen()
    const found: { key: string; size: number; bytes: Buffer }[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            MaxKeys: this.#pageSize,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        )
        for (const { Key, Size } of page.Contents ?? []) {
          if (Key !== undefined) found.push({ key: Key, size: Size ?? 0, bytes: Buffer.from(Key) })
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined
      } while (token !== undefined)
    } catch (error) {
      throw this.#error(error, `cannot list ${JSON.stringify(prefix)} in bucket ${bucket}`)
    }
    // S3 already answers in UTF-8 byte order; sorting again keeps the contract on looser stores.
    found.sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    return found.map(({ key, size }) => ({ key, size }))
  }

  async delete(bucket: string, key: string): Promise<void> {
    this.#assertOpen()
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
    } catch (error) {
      if (s3Failure(error).name === 'NoSuchKey') return
      throw this.#error(error, `cannot delete ${key} from bucket ${bucket}`)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#client.destroy()
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE', {
        message: `object sink ${this.description} is closed`,
      })
    }
  }

  #error(error: unknown, what: string, createBucket = false): OpenCtsError {
    if (isOpenCtsError(error)) return error
    return new OpenCtsError(s3ErrorCode(error, createBucket), {
      message: `${what} (${this.description}): ${reason(error)}`,
      cause: error,
    })
  }
}
