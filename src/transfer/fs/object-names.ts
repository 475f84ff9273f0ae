/**
 * @module transfer/fs/object-names
 * Which bucket names, object keys and list prefixes the folder sink accepts: S3 bucket naming, and
 * keys of safe, non-empty path segments that cannot escape the bucket folder or look like a
 * temporary file. A violation is a programming error (object keys come from transfer/layout.ts):
 * RangeError.
 */

/** Names of temporary files of an unfinished `put`: `.<name>.tmp-<12 lowercase hex>`. */
export const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{12}$/

/** S3/OBS bucket naming: 3–63 of `[a-z0-9.-]`, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

export function assertBucket(bucket: string): void {
  if (!BUCKET_NAME.test(bucket) || bucket.includes('..')) {
    throw new RangeError(`invalid bucket name ${JSON.stringify(bucket)}: want 3-63 of [a-z0-9.-]`)
  }
}

function unsafeSegment(segment: string): string | undefined {
  if (segment === '') return 'an empty segment'
  if (segment === '.' || segment === '..') return `a "${segment}" segment`
  if (segment.includes('\0')) return 'a NUL character'
  if (segment.includes('\\')) return 'a backslash'
  if (TEMP_NAME.test(segment)) return 'a segment named like a temporary file'
  return undefined
}

/** Throws RangeError unless `key` is a relative path of safe, non-empty segments. */
export function assertKey(key: string): void {
  const problem = key
    .split('/')
    .map(unsafeSegment)
    .find((p) => p !== undefined)
  if (problem !== undefined) {
    throw new RangeError(`unsafe object key ${JSON.stringify(key)}: it has ${problem}`)
  }
}

/** Throws RangeError unless every complete folder segment of `prefix` is safe. */
export function assertPrefix(prefix: string): void {
  const slash = prefix.lastIndexOf('/')
  const last = prefix.slice(slash + 1)
  if (slash >= 0) assertKey(prefix.slice(0, slash))
  if (last.includes('\0') || last.includes('\\')) {
    throw new RangeError(`unsafe list prefix ${JSON.stringify(prefix)}`)
  }
}
