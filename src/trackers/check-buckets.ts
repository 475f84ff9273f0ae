/**
 * @module trackers/check-buckets
 * `POST /v3/{domain_id}/checkbucket` (CheckObsBuckets, spec/cts-api.md §7.5): whether trace files
 * could be transferred to each bucket asked about. The request is refused as a whole only when it
 * is malformed (400 `CTS.0003` naming the field); every bucket otherwise gets its own
 * `check_bucket_response`:
 *
 * - `success: true`, `response_code: 200`: the bucket exists and the object store lets us in;
 * - `CTS.0231` (400): the bucket name is invalid; `CTS.0221` (400): encryption without `kms_id`;
 *   `CTS.0222` (400): `kms_id` is no key of `opencts keys`;
 * - `NoSuchBucket` (404), `AccessDenied` (403), `ServiceUnavailable` (503): what the object store
 *   answered (the OBS codes; `detail` `noBucket` / `bucketPolicyError` of a tracker).
 *
 * `bucket_location` is required and echoed, not compared: a folder sink has no locations. Nothing
 * is written to the bucket.
 */
import { ERROR_CATALOGUE, isOpenCtsError } from '../errors/index.js'
import { bucketNameProblem } from './bucket-name.js'
import { isJsonObject } from './body-reader.js'
import { reject } from './reject.js'

/** At most this many buckets in one request. */
export const MAX_CHECKED_BUCKETS = 100

export interface CheckBucketResponse {
  readonly error_code: string
  readonly error_message: string
  readonly response_code: number
  readonly success: boolean
}

export interface CheckedBucket {
  readonly bucket_name: string
  readonly bucket_location: string
  readonly kms_id?: string
  readonly is_support_trace_files_encryption?: boolean
  readonly check_bucket_response: CheckBucketResponse
}

export interface CheckBucketsDeps {
  /** Whether the bucket exists; throws OCTS_ERR_BUCKET_DENIED or _OBJECT_STORE_UNAVAILABLE. */
  readonly bucketExists?: ((bucket: string) => Promise<boolean>) | undefined
  readonly kmsKeyExists: (kmsId: string) => boolean | Promise<boolean>
}

interface BucketAsked {
  readonly bucket_name: string
  readonly bucket_location: string
  readonly kms_id?: string
  readonly is_support_trace_files_encryption?: boolean
}

const OK: CheckBucketResponse = {
  error_code: '',
  error_message: '',
  response_code: 200,
  success: true,
}

function failed(code: string, status: number, message: string): CheckBucketResponse {
  return { error_code: code, error_message: message, response_code: status, success: false }
}

/** Reads the request body; throws 400 CTS.0003 naming the field. */
export function readCheckBucketsBody(body: unknown): BucketAsked[] {
  if (!isJsonObject(body)) reject('OCTS_ERR_INVALID_BODY', 'the body must be a JSON object')
  const buckets = body.buckets
  if (buckets === undefined) return []
  if (!Array.isArray(buckets)) reject('OCTS_ERR_INVALID_BODY', 'buckets must be an array')
  if (buckets.length > MAX_CHECKED_BUCKETS)
    reject(
      'OCTS_ERR_INVALID_BODY',
      `buckets has ${buckets.length} entries, want at most ${MAX_CHECKED_BUCKETS}`,
    )
  return buckets.map((item: unknown, i): BucketAsked => {
    const at = `buckets[${i}]`
    if (!isJsonObject(item)) reject('OCTS_ERR_INVALID_BODY', `${at} must be an object`)
    for (const key of ['bucket_name', 'bucket_location'] as const) {
      if (typeof item[key] !== 'string' || item[key] === '')
        reject('OCTS_ERR_INVALID_BODY', `${at}.${key} is required (a string)`)
    }
    const kms = item.kms_id
    if (kms !== undefined && kms !== null && typeof kms !== 'string')
      reject('OCTS_ERR_INVALID_BODY', `${at}.kms_id must be a string`)
    const encrypt = item.is_support_trace_files_encryption
    if (encrypt !== undefined && encrypt !== null && typeof encrypt !== 'boolean')
      reject('OCTS_ERR_INVALID_BODY', `${at}.is_support_trace_files_encryption must be a boolean`)
    return {
      bucket_name: item.bucket_name as string,
      bucket_location: item.bucket_location as string,
      ...(typeof kms === 'string' ? { kms_id: kms } : {}),
      ...(typeof encrypt === 'boolean' ? { is_support_trace_files_encryption: encrypt } : {}),
    }
  })
}

async function checkOne(asked: BucketAsked, deps: CheckBucketsDeps): Promise<CheckBucketResponse> {
  const nameProblem = bucketNameProblem(asked.bucket_name)
  if (nameProblem !== undefined)
    return failed(
      'CTS.0231',
      400,
      `${ERROR_CATALOGUE.OCTS_ERR_BUCKET_NAME.message} ${nameProblem}.`,
    )
  const kms = asked.kms_id ?? ''
  if (asked.is_support_trace_files_encryption === true && kms === '')
    return failed('CTS.0221', 400, ERROR_CATALOGUE.OCTS_ERR_KMS_ID_EMPTY.message)
  if (kms !== '' && !(await deps.kmsKeyExists(kms)))
    return failed(
      'CTS.0222',
      400,
      `${ERROR_CATALOGUE.OCTS_ERR_KMS_VERIFICATION.message} No key ${kms}.`,
    )
  if (deps.bucketExists === undefined)
    return failed('ServiceUnavailable', 503, 'This server has no object store configured.')
  try {
    if (await deps.bucketExists(asked.bucket_name)) return OK
    return failed('NoSuchBucket', 404, 'The specified bucket does not exist.')
  } catch (error) {
    if (isOpenCtsError(error) && error.code === 'OCTS_ERR_BUCKET_DENIED')
      return failed('AccessDenied', 403, 'The object store refused access to the bucket.')
    return failed(
      'ServiceUnavailable',
      503,
      `The object store cannot be reached: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
}

/** Checks every bucket of the request body, in order. Throws 400 CTS.0003 for a malformed body. */
export async function checkBuckets(
  body: unknown,
  deps: CheckBucketsDeps,
): Promise<{ buckets: CheckedBucket[] }> {
  const asked = readCheckBucketsBody(body)
  const buckets: CheckedBucket[] = []
  for (const bucket of asked)
    buckets.push({ ...bucket, check_bucket_response: await checkOne(bucket, deps) })
  return { buckets }
}
