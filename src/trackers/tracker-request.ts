/**
 * @module trackers/tracker-request
 * Step 1 of tracker validation (spec §18): the body of POST/PUT `/v3/{project_id}/tracker` must be a
 * JSON object whose known fields have the right JSON types and, for closed value sets that have no
 * CTS code of their own, allowed values. Any violation is 400 CTS.0003 (OCTS_ERR_INVALID_BODY) with
 * a message naming the field. Values with their own CTS code (`tracker_type`, `tracker_name`,
 * `status`, `data_event`, bucket names, prefixes, KMS ids) are only type-checked here and judged in
 * `validate-tracker.ts`, in the documented order.
 */
import { BUCKET_LIFECYCLES, COMPRESS_TYPES, type CompressType } from '../model/index.js'
import { BodyReader, describeJson, isJsonObject, omitUndefined } from './body-reader.js'
import { reject } from './reject.js'

export type BucketLifecycle = (typeof BUCKET_LIFECYCLES)[number]

/** Services whose traces a management tracker may exclude from transfer (HWC: only KMS). */
export const EXCLUDABLE_SERVICES = ['KMS'] as const
/** The only agency CTS knows (HWC `cts_admin_trust`). */
export const AGENCY_NAMES = ['cts_admin_trust'] as const

export interface TrackerObsInfoRequest {
  readonly bucket_name?: string
  readonly file_prefix_name?: string
  readonly is_obs_created?: boolean
  readonly bucket_lifecycle?: BucketLifecycle
  readonly compress_type?: CompressType
  readonly is_sort_by_service?: boolean
}

export interface DataBucketRequest {
  readonly data_bucket_name?: string
  readonly data_event?: readonly string[]
}

/** A type-checked tracker body (spec §5.3, §5.4). Absent and null fields are undefined. */
export interface TrackerRequest {
  readonly tracker_type?: string
  readonly tracker_name?: string
  /** PUT only. */
  readonly status?: string
  readonly is_lts_enabled?: boolean
  readonly obs_info?: TrackerObsInfoRequest
  readonly is_support_validate?: boolean
  readonly is_support_trace_files_encryption?: boolean
  readonly kms_id?: string
  readonly is_organization_tracker?: boolean
  readonly management_event_selector?: { readonly exclude_service?: readonly string[] }
  readonly agency_name?: string
  readonly data_bucket?: DataBucketRequest
}

function fail(message: string): never {
  return reject('OCTS_ERR_INVALID_BODY', message)
}

function oneOf<T extends string | number>(
  reader: BodyReader,
  key: string,
  value: string | number | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined
  if ((allowed as readonly (string | number)[]).includes(value)) return value as T
  return reader.fail(key, `must be one of ${allowed.join(', ')}, got ${describeJson(value)}`)
}

function obsInfo(body: BodyReader): TrackerObsInfoRequest | undefined {
  const obs = body.object('obs_info')
  if (obs === undefined) return undefined
  return omitUndefined<TrackerObsInfoRequest>({
    bucket_name: obs.string('bucket_name'),
    file_prefix_name: obs.string('file_prefix_name'),
    is_obs_created: obs.boolean('is_obs_created'),
    bucket_lifecycle: oneOf(
      obs,
      'bucket_lifecycle',
      obs.integer('bucket_lifecycle'),
      BUCKET_LIFECYCLES,
    ),
    compress_type: oneOf(obs, 'compress_type', obs.string('compress_type'), COMPRESS_TYPES),
    is_sort_by_service: obs.boolean('is_sort_by_service'),
  })
}

function eventSelector(body: BodyReader): TrackerRequest['management_event_selector'] {
  const selector = body.object('management_event_selector')
  if (selector === undefined) return undefined
  const excluded = selector.stringArray('exclude_service')
  for (const service of excluded ?? []) {
    oneOf(selector, 'exclude_service', service, EXCLUDABLE_SERVICES)
  }
  return excluded === undefined ? {} : { exclude_service: excluded }
}

function dataBucket(body: BodyReader): DataBucketRequest | undefined {
  const bucket = body.object('data_bucket')
  if (bucket === undefined) return undefined
  return omitUndefined<DataBucketRequest>({
    data_bucket_name: bucket.string('data_bucket_name'),
    data_event: bucket.stringArray('data_event'),
  })
}

/** Type-checks a tracker body. Throws OCTS_ERR_INVALID_BODY (CTS.0003) naming the first bad field. */
export function parseTrackerRequest(body: unknown): TrackerRequest {
  if (!isJsonObject(body)) {
    return fail(`want a JSON object, got ${body === undefined ? 'nothing' : describeJson(body)}`)
  }
  const reader = new BodyReader(body, '', fail)
  return omitUndefined<TrackerRequest>({
    tracker_type: reader.string('tracker_type'),
    tracker_name: reader.string('tracker_name'),
    status: reader.string('status'),
    is_lts_enabled: reader.boolean('is_lts_enabled'),
    obs_info: obsInfo(reader),
    is_support_validate: reader.boolean('is_support_validate'),
    is_support_trace_files_encryption: reader.boolean('is_support_trace_files_encryption'),
    kms_id: reader.string('kms_id'),
    is_organization_tracker: reader.boolean('is_organization_tracker'),
    management_event_selector: eventSelector(reader),
    agency_name: oneOf(reader, 'agency_name', reader.string('agency_name'), AGENCY_NAMES),
    data_bucket: dataBucket(reader),
  })
}
