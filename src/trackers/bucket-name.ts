/**
 * @module trackers/bucket-name
 * Syntax of OBS bucket names and trace-file prefixes (spec §5.2, §18 step 5). Pure.
 *
 * Bucket: 3–63 characters of lowercase letters, digits, `-` and `.`; starts and ends with a letter or
 * digit; no `..`, `.-` or `-.`; not shaped like an IPv4 address. File prefix: 0–64 letters, digits,
 * `.`, `_` or `-`.
 */

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const IPV4_PATTERN = /^\d{1,3}(\.\d{1,3}){3}$/
const FILE_PREFIX_PATTERN = /^[A-Za-z0-9._-]{0,64}$/

/** Why `name` is not a valid bucket name (got/want), or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name)
  if (name.length < 3 || name.length > 63) {
    return `${shown} has ${name.length} characters, want 3 to 63`
  }
  if (!BUCKET_PATTERN.test(name)) {
    return `${shown} must consist of lowercase letters, digits, - and ., and start and end with a letter or digit`
  }
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) {
    return `${shown} must not contain "..", ".-" or "-."`
  }
  if (IPV4_PATTERN.test(name)) return `${shown} must not be an IP address`
  return undefined
}

/** True when `prefix` is a valid `file_prefix_name` (the empty prefix included). */
export function isFilePrefix(prefix: string): boolean {
  return FILE_PREFIX_PATTERN.test(prefix)
}
