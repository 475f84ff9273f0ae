/**
 * @module transfer/fs/fs-object-sink
 * The `ObjectSink` on a local folder (the embedded default). Owns the on-disk layout (README.md):
 * bodies at `<root>/<bucket>/<key>`, metadata at `<root>/.metadata/<bucket>/<key>.json`. A bucket
 * is the folder `<root>/<bucket>`; bucket names cannot start with `.`, so `.metadata` is none.
 * `put` writes `.<name>.tmp-<12 hex>` beside its target, fsyncs, renames and fsyncs the folder;
 * metadata is replaced the same way before the body. `list` never reports temporary files.
 *
 * Errors: missing bucket folder → OCTS_ERR_NO_BUCKET; EACCES, EPERM, EROFS, or a bucket path that
 * is not a folder (a file, or ENOTDIR on the way to it) → OCTS_ERR_BUCKET_DENIED; any other I/O
 * failure (ENOSPC, EIO, …) → OCTS_ERR_OBJECT_STORE_UNAVAILABLE. Invalid bucket names, unsafe keys
 * and unsafe prefixes are programming errors: RangeError.
 */
import type { Dirent } from 'node:fs'
import { lstat, mkdir, readFile, readdir, rm, stat, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { OpenCtsError, isOpenCtsError, type ErrorCode } from '../../errors/index.js'
import type { ObjectInfo, ObjectMetadata, ObjectSink, StoredObject } from '../object-sink.js'
import { commitTemp, makeFolders, syncFolder, writeTemp } from './atomic-file.js'
import { TEMP_NAME, assertBucket, assertKey, assertPrefix } from './object-names.js'
import { StorageCondition } from '../../platform/storage-condition.js'

/** The folder under the root that holds metadata files (a name no bucket can have). */
export const METADATA_FOLDER = '.metadata'

/** errno codes that mean "not allowed", as opposed to "broken" or "full". */
const DENIED_CODES = new Set(['EACCES', 'EPERM', 'EROFS'])

/** errno codes of a read that found nothing at the key's path (or a folder there). */
const ABSENT_CODES = new Set(['ENOENT', 'ENOTDIR', 'EISDIR'])

/** errno codes of a key colliding with the folder of other keys (or the other way round). */
const CONFLICT_CODES = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'ENOTEMPTY'])

/** The `code` of a Node system error (`ENOENT` …), if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    return typeof error.code === 'string' ? error.code : undefined
  }
  return undefined
}

/**
 * The catalogue code for an I/O failure inside an existing bucket: permission-type errors are
 * OCTS_ERR_BUCKET_DENIED, ENOENT (the bucket vanished meanwhile) OCTS_ERR_NO_BUCKET, a full disk
 * or quota (ENOSPC, EDQUOT) OCTS_ERR_OBJECT_STORE_FULL, anything else
 * OCTS_ERR_OBJECT_STORE_UNAVAILABLE.
 */
export function fsErrorCode(error: unknown): ErrorCode {
  const code = errnoCode(error) ?? ''
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'OCTS_ERR_OBJECT_STORE_FULL'
  if (DENIED_CODES.has(code)) return 'OCTS_ERR_BUCKET_DENIED'
  if (code === 'ENOENT') return 'OCTS_ERR_NO_BUCKET'
  return 'OCTS_ERR_OBJECT_STORE_UNAVAILABLE'
}

/** The metadata in a metadata file, or undefined unless it is a JSON object of strings. */
function parseMetadata(text: string): ObjectMetadata | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  return Object.values(value).every((v) => typeof v === 'string')
    ? (value as ObjectMetadata)
    : undefined
}

export class FsObjectSink implements ObjectSink {
  readonly description: string
  /** Full while writes fail with ENOSPC/EDQUOT; cleared by the next object written. */
  readonly storage = new StorageCondition()
  readonly #root: string
  #closed = false

  /** `root` holds one folder per bucket; it is created by the first `createBucket`. */
  constructor(root: string) {
    this.#root = resolve(root)
    this.description = `folder ${this.#root}`
  }

  async bucketExists(bucket: string): Promise<boolean> {
    this.#assertOpen()
    assertBucket(bucket)
    const path = join(this.#root, bucket)
    try {
      if ((await stat(path)).isDirectory()) return true
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false
      throw this.#bucketError(bucket, error)
    }
    throw this.#notAFolder(bucket)
  }

  async createBucket(bucket: string): Promise<void> {
    this.#assertOpen()
    assertBucket(bucket)
    const path = join(this.#root, bucket)
    const context = `cannot create bucket ${bucket} at ${path}`
    try {
      await makeFolders(this.#root)
    } catch (error) {
      throw this.#bucketError(bucket, error, context)
    }
    try {
      await mkdir(path)
      await syncFolder(this.#root)
    } catch (error) {
      if (errnoCode(error) === 'EEXIST') {
        throw new OpenCtsError('OCTS_ERR_BUCKET_EXISTS', {
          message: `cannot create bucket ${bucket}: ${path} already exists`,
          cause: error,
        })
      }
      throw this.#bucketError(bucket, error, context)
    }
  }

  async put(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: ObjectMetadata = {},
  ): Promise<void> {
    await this.#enter(bucket, key)
    const target = join(this.#root, bucket, key)
    const metaTarget = this.#metadataPath(bucket, key)
    let temp: string | undefined
    try {
      await makeFolders(dirname(target))
      await makeFolders(dirname(metaTarget))
      temp = await writeTemp(target, body)
      // Metadata first: once the new body is visible, its metadata already is (README.md).
      await commitTemp(await writeTemp(metaTarget, JSON.stringify(metadata)), metaTarget)
      await commitTemp(temp, target)
    } catch (error) {
      if (temp !== undefined) await rm(temp, { force: true }).catch(() => undefined)
      const failure = this.#objectError(bucket, key, 'put', error)
      if (failure.code === 'OCTS_ERR_OBJECT_STORE_FULL') this.storage.markFull(failure)
      throw failure
    }
    this.storage.markWritable()
  }

  async get(bucket: string, key: string): Promise<StoredObject | undefined> {
    await this.#enter(bucket, key)
    let body: Buffer
    try {
      // Body before metadata: metadata is replaced first, so it is never older than this body.
      body = await readFile(join(this.#root, bucket, key))
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return undefined
      throw this.#objectError(bucket, key, 'get', error)
    }
    return { body, metadata: await this.#readMetadata(bucket, key) }
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    assertPrefix(prefix)
    await this.#enter(bucket)
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1)
    const found: { key: string; size: number; bytes: Buffer }[] = []
    try {
      await this.#walk(join(this.#root, bucket), folder, prefix, found)
    } catch (error) {
      throw this.#objectError(bucket, prefix, 'list', error)
    }
    return found
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
      .map(({ key, size }) => ({ key, size }))
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.#enter(bucket, key)
    const target = join(this.#root, bucket, key)
    try {
      // Body first, so no reader finds the body without its metadata.
      if (await this.#unlinkIfPresent(target)) await syncFolder(dirname(target))
      await this.#unlinkIfPresent(this.#metadataPath(bucket, key))
    } catch (error) {
      throw this.#objectError(bucket, key, 'delete', error)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
  }

  #metadataPath(bucket: string, key: string): string {
    return join(this.#root, METADATA_FOLDER, bucket, `${key}.json`)
  }

  async #readMetadata(bucket: string, key: string): Promise<ObjectMetadata> {
    const path = this.#metadataPath(bucket, key)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      // A body placed in the folder by hand has no metadata.
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return {}
      throw this.#objectError(bucket, key, 'get', error)
    }
    const metadata = parseMetadata(text)
    if (metadata !== undefined) return metadata
    throw new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE', {
      message: `cannot get ${key} from bucket ${bucket}: ${path} is not a JSON object of strings`,
    })
  }

  /** Adds every regular file under `<bucketPath>/<folder>` whose key starts with `prefix`. */
  async #walk(
    bucketPath: string,
    folder: string,
    prefix: string,
    found: { key: string; size: number; bytes: Buffer }[],
  ): Promise<void> {
    let entries: Dirent[]
    try {
      entries = await readdir(join(bucketPath, folder), { withFileTypes: true })
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return
      throw error
    }
    for (const entry of entries) {
      const key = folder + entry.name
      if (entry.isDirectory()) {
        // Descend only where keys starting with `prefix` can be.
        if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) {
          await this.#walk(bucketPath, `${key}/`, prefix, found)
        }
      } else if (entry.isFile() && !TEMP_NAME.test(entry.name) && key.startsWith(prefix)) {
        try {
          const { size } = await lstat(join(bucketPath, key))
          found.push({ key, size, bytes: Buffer.from(key) })
        } catch (error) {
          if (errnoCode(error) !== 'ENOENT') throw error // deleted meanwhile: not listed
        }
      }
    }
  }

  /** Unlinks `path`; false if there was nothing (or a folder) there. */
  async #unlinkIfPresent(path: string): Promise<boolean> {
    try {
      await unlink(path)
      return true
    } catch (error) {
      if (ABSENT_CODES.has(errnoCode(error) ?? '')) return false
      throw error
    }
  }

  /**
   * Checks the names and that the bucket folder is usable, before any object call: throws
   * RangeError, OCTS_ERR_NO_BUCKET, OCTS_ERR_BUCKET_DENIED or, once closed, UNAVAILABLE.
   */
  async #enter(bucket: string, key?: string): Promise<void> {
    this.#assertOpen()
    assertBucket(bucket)
    if (key !== undefined) assertKey(key)
    const path = join(this.#root, bucket)
    let isFolder: boolean
    try {
      isFolder = (await stat(path)).isDirectory()
    } catch (error) {
      throw this.#bucketError(bucket, error)
    }
    if (!isFolder) throw this.#notAFolder(bucket)
  }

  #notAFolder(bucket: string): OpenCtsError {
    return new OpenCtsError('OCTS_ERR_BUCKET_DENIED', {
      message: `bucket ${bucket} is unusable: ${join(this.#root, bucket)} is not a folder`,
    })
  }

  /** Maps an error met on the bucket path itself (stat, mkdir). */
  #bucketError(bucket: string, error: unknown, context?: string): OpenCtsError {
    if (isOpenCtsError(error)) return error
    const path = join(this.#root, bucket)
    const errno = errnoCode(error) ?? String(error)
    const what = context ?? `cannot use bucket ${bucket} (${path})`
    if (errno === 'ENOENT') {
      return new OpenCtsError('OCTS_ERR_NO_BUCKET', {
        message: `bucket ${bucket} does not exist: no folder ${path}`,
        cause: error,
      })
    }
    // ENOTDIR: something on the way to the bucket folder is a file, so the bucket is unusable.
    const code = errno === 'ENOTDIR' ? 'OCTS_ERR_BUCKET_DENIED' : fsErrorCode(error)
    return new OpenCtsError(code, { message: `${what}: ${errno}`, cause: error })
  }

  /** Maps an error met below an existing bucket folder. */
  #objectError(bucket: string, key: string, action: string, error: unknown): OpenCtsError {
    if (isOpenCtsError(error)) return error
    const errno = errnoCode(error) ?? String(error)
    const where = `${action} ${JSON.stringify(key)} in bucket ${bucket} (${this.description})`
    if (action === 'put' && CONFLICT_CODES.has(errno)) {
      return new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE', {
        message: `cannot ${where}: ${errno}; in a folder store a key cannot also be a folder of other keys`,
        cause: error,
      })
    }
    return new OpenCtsError(fsErrorCode(error), {
      message: `cannot ${where}: ${errno}`,
      cause: error,
    })
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new OpenCtsError('OCTS_ERR_OBJECT_STORE_UNAVAILABLE', {
        message: `object sink ${this.description} is closed`,
      })
    }
  }
}
