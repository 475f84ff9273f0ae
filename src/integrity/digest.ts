/**
 * @module integrity/digest
 * Digest files (spec/cts-api.md §10): the hourly, chained, signed list of delivered trace files.
 * Pure: `node:crypto` only. The writer (`transfer/`) and `opencts verify` share this file.
 *
 * Format, version 1 (UTF-8 JSON, gzip-compressed when stored; fields in this order):
 *   digest_version "1" (OpenCTS) · project_id · digest_start_time · digest_end_time
 *   (`YYYY-MM-DDTHH-mm-ssZ`, UTC) · digest_period_seconds (OpenCTS: the schedule, so a verifier
 *   can tell a truncated tail) · digest_bucket · digest_object (its own key) ·
 *   digest_signature_algorithm "SHA256withRSA" · digest_public_key_fingerprint (OpenCTS, as
 *   CloudTrail) · digest_end (ending digest) · previous_digest_bucket · previous_digest_object ·
 *   previous_digest_hash_value (hex SHA-256 of the previous digest's stored bytes) ·
 *   previous_digest_hash_algorithm "SHA-256" · previous_digest_signature (hex) ·
 *   previous_digest_end · log_files[] of {bucket, object, log_hash_value (hex SHA-256 of the stored
 *   object bytes), log_hash_algorithm "SHA-256", trace_count, oldest_trace_time, newest_trace_time
 *   (ms; the last three are OpenCTS additions)}.
 * A starting digest has empty `previous_digest_bucket/object/hash_value/signature`.
 * CTS uses MD5 for both hash fields; OpenCTS uses SHA-256 everywhere.
 *
 * Signing string (CTS's, with SHA-256 in place of MD5), UTF-8, plain concatenation:
 *   digest_end_time + digest_object + hex(SHA-256(stored digest bytes)) + previous_digest_signature
 * It is unambiguous: the end time has a fixed 20 characters and the hash 64. The RSA PKCS#1 v1.5
 * SHA-256 signature is hex-encoded and stored as object metadata `signature` (with
 * `signature-algorithm` = `SHA256withRSA`), and again as `previous_digest_signature` of the next
 * digest.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'

export const DIGEST_VERSION = '1'
export const SIGNATURE_ALGORITHM = 'SHA256withRSA'
export const HASH_ALGORITHM = 'SHA-256'

export interface DigestLogFile {
  bucket: string
  object: string
  log_hash_value: string
  log_hash_algorithm: string
  trace_count: number
  oldest_trace_time: number
  newest_trace_time: number
}

export interface DigestDocument {
  digest_version: string
  project_id: string
  digest_start_time: string
  digest_end_time: string
  digest_period_seconds: number
  digest_bucket: string
  digest_object: string
  digest_signature_algorithm: string
  digest_public_key_fingerprint: string
  digest_end: boolean
  previous_digest_bucket: string
  previous_digest_object: string
  previous_digest_hash_value: string
  previous_digest_hash_algorithm: string
  previous_digest_signature: string
  previous_digest_end: boolean
  log_files: DigestLogFile[]
}

const STRING_FIELDS = [
  'digest_version',
  'project_id',
  'digest_start_time',
  'digest_end_time',
  'digest_bucket',
  'digest_object',
  'digest_signature_algorithm',
  'digest_public_key_fingerprint',
  'previous_digest_bucket',
  'previous_digest_object',
  'previous_digest_hash_value',
  'previous_digest_hash_algorithm',
  'previous_digest_signature',
] as const
const FILE_STRING_FIELDS = ['bucket', 'object', 'log_hash_value', 'log_hash_algorithm'] as const
const FILE_NUMBER_FIELDS = ['trace_count', 'oldest_trace_time', 'newest_trace_time'] as const

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The JSON text of a digest, fields in the documented order (the bytes that get compressed). */
export function digestJson(doc: DigestDocument): string {
  const ordered: DigestDocument = {
    digest_version: doc.digest_version,
    project_id: doc.project_id,
    digest_start_time: doc.digest_start_time,
    digest_end_time: doc.digest_end_time,
    digest_period_seconds: doc.digest_period_seconds,
    digest_bucket: doc.digest_bucket,
    digest_object: doc.digest_object,
    digest_signature_algorithm: doc.digest_signature_algorithm,
    digest_public_key_fingerprint: doc.digest_public_key_fingerprint,
    digest_end: doc.digest_end,
    previous_digest_bucket: doc.previous_digest_bucket,
    previous_digest_object: doc.previous_digest_object,
    previous_digest_hash_value: doc.previous_digest_hash_value,
    previous_digest_hash_algorithm: doc.previous_digest_hash_algorithm,
    previous_digest_signature: doc.previous_digest_signature,
    previous_digest_end: doc.previous_digest_end,
    log_files: doc.log_files.map((f) => ({
      bucket: f.bucket,
      object: f.object,
      log_hash_value: f.log_hash_value,
      log_hash_algorithm: f.log_hash_algorithm,
      trace_count: f.trace_count,
      oldest_trace_time: f.oldest_trace_time,
      newest_trace_time: f.newest_trace_time,
    })),
  }
  return JSON.stringify(ordered)
}

/** Why a digest text is not a version-1 digest. */
export class DigestFormatError extends Error {
  override readonly name = 'DigestFormatError'
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Parses and checks a digest's JSON text. Throws DigestFormatError naming the first problem
 * (unknown version, a missing or mistyped field, an unknown hash algorithm).
 */
export function parseDigest(text: string): DigestDocument {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new DigestFormatError('not JSON')
  }
  if (!isObject(value)) throw new DigestFormatError('not a JSON object')
  if (value.digest_version !== DIGEST_VERSION)
    throw new DigestFormatError(
      `digest_version is ${JSON.stringify(value.digest_version)}, want "${DIGEST_VERSION}"`,
    )
  for (const field of STRING_FIELDS)
    if (typeof value[field] !== 'string') throw new DigestFormatError(`${field} is not a string`)
  for (const field of ['digest_end', 'previous_digest_end'])
    if (typeof value[field] !== 'boolean') throw new DigestFormatError(`${field} is not a boolean`)
  const period = value.digest_period_seconds
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1)
    throw new DigestFormatError('digest_period_seconds is not a positive integer')
  if (value.previous_digest_hash_algorithm !== HASH_ALGORITHM)
    throw new DigestFormatError(`previous_digest_hash_algorithm is not ${HASH_ALGORITHM}`)
  if (!Array.isArray(value.log_files)) throw new DigestFormatError('log_files is not an array')
  for (const [i, file] of value.log_files.entries()) {
    if (!isObject(file)) throw new DigestFormatError(`log_files[${i}] is not an object`)
    for (const field of FILE_STRING_FIELDS)
      if (typeof file[field] !== 'string')
        throw new DigestFormatError(`log_files[${i}].${field} is not a string`)
    for (const field of FILE_NUMBER_FIELDS)
      if (typeof file[field] !== 'number')
        throw new DigestFormatError(`log_files[${i}].${field} is not a number`)
    if (file.log_hash_algorithm !== HASH_ALGORITHM)
      throw new DigestFormatError(`log_files[${i}].log_hash_algorithm is not ${HASH_ALGORITHM}`)
  }
  return value as unknown as DigestDocument
}

/** True for a starting digest (first of a chain): no previous digest. */
export function isStartingDigest(doc: DigestDocument): boolean {
  return doc.previous_digest_object === ''
}

/** The string the signature covers (see the module comment). */
export function digestSigningString(
  doc: Pick<DigestDocument, 'digest_end_time' | 'digest_object' | 'previous_digest_signature'>,
  storedBytesSha256: string,
): string {
  return doc.digest_end_time + doc.digest_object + storedBytesSha256 + doc.previous_digest_signature
}

/** SHA256withRSA (PKCS#1 v1.5) signature of `signingString`, hex. Deterministic. */
export function signDigest(privateKey: KeyObject, signingString: string): string {
  return sign('sha256', Buffer.from(signingString, 'utf8'), privateKey).toString('hex')
}

/** Whether `signatureHex` is a valid SHA256withRSA signature of `signingString`. Never throws. */
export function verifyDigestSignature(
  publicKey: KeyObject,
  signingString: string,
  signatureHex: string,
): boolean {
  if (!/^(?:[0-9a-f]{2})+$/.test(signatureHex)) return false
  try {
    return verify(
      'sha256',
      Buffer.from(signingString, 'utf8'),
      publicKey,
      Buffer.from(signatureHex, 'hex'),
    )
  } catch {
    return false
  }
}

/** Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo: the key's fingerprint. */
export function publicKeyFingerprint(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey
  return sha256Hex(key.export({ type: 'spki', format: 'der' }))
}
