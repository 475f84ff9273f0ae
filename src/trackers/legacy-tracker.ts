/**
 * @module trackers/legacy-tracker
 * The legacy v1.0 tracker API (spec §5.7) mapped onto the v3 tracker: v1.0 bodies become v3 bodies of
 * the management tracker, and trackers are rendered in the v1.0 shape. Pure.
 *
 * Body: `bucket_name` (required on POST, may be empty to turn transfer off), `file_prefix_name`,
 * `is_obs_created`, `status` (PUT), `lts.is_lts_enabled`. `lts.log_group_name`/`log_topic_name` are
 * fixed (`CTS`/`system-trace`) and ignored when sent, as is the pre-v3 `smn` block (key-event
 * notifications live in the v3 notification API).
 *
 * Response: the flat v1.0 fields (`bucket_name`, `file_prefix_name`, `is_obs_created` at top level,
 * which the OTC SDKs decode) plus the nested `obs_info` of the documented create response, with
 * `bucket_lifecycle` as a string. One shape serves POST, PUT and GET.
 */
import type { Tracker } from '../model/index.js'
import { BodyReader, describeJson, isJsonObject, omitUndefined } from './body-reader.js'
import { reject } from './reject.js'

export interface V1Lts {
  readonly is_lts_enabled: boolean
  readonly log_group_name: string
  readonly log_topic_name: string
}

/** A tracker in the v1.0 representation. */
export interface V1Tracker {
  readonly id: string
  readonly create_time: number
  readonly domain_id: string
  readonly project_id: string
  readonly tracker_name: string
  readonly tracker_type: string
  readonly status: string
  readonly detail?: string
  readonly bucket_name: string
  readonly file_prefix_name: string
  readonly is_obs_created: boolean
  readonly group_id?: string
  readonly stream_id?: string
  readonly lts: V1Lts
  readonly obs_info: {
    readonly bucket_name: string
    readonly file_prefix_name: string
    readonly is_obs_created: boolean
    readonly is_authorized_bucket: boolean
    readonly bucket_lifecycle: string
    readonly bucket_location: string
  }
}

export function toV1Tracker(tracker: Tracker): V1Tracker {
  const obs = tracker.obs_info
  return {
    id: tracker.id,
    create_time: tracker.create_time,
    domain_id: tracker.domain_id,
    project_id: tracker.project_id,
    tracker_name: tracker.tracker_name,
    tracker_type: tracker.tracker_type,
    status: tracker.status,
    ...(tracker.detail === undefined ? {} : { detail: tracker.detail }),
    bucket_name: obs.bucket_name,
    file_prefix_name: obs.file_prefix_name,
    is_obs_created: obs.is_obs_created,
    ...(tracker.group_id === undefined ? {} : { group_id: tracker.group_id }),
    ...(tracker.stream_id === undefined ? {} : { stream_id: tracker.stream_id }),
    lts: { ...tracker.lts },
    obs_info: {
      bucket_name: obs.bucket_name,
      file_prefix_name: obs.file_prefix_name,
      is_obs_created: obs.is_obs_created,
      is_authorized_bucket: obs.is_authorized_bucket,
      bucket_lifecycle: String(obs.bucket_lifecycle),
      bucket_location: obs.bucket_location,
    },
  }
}

function fail(message: string): never {
  return reject('OCTS_ERR_INVALID_BODY', message)
}

/**
 * Translates a v1.0 POST/PUT body into the v3 body for the tracker `trackerName` (type `system`).
 * Throws OCTS_ERR_INVALID_BODY (CTS.0003) for a non-object body, a wrong field type, or (when
 * `requireBucket`) a missing `bucket_name`. The v3 validation then applies to the result.
 */
export function v1BodyToV3(
  body: unknown,
  trackerName: string,
  requireBucket: boolean,
): Record<string, unknown> {
  if (!isJsonObject(body)) {
    return fail(`want a JSON object, got ${body === undefined ? 'nothing' : describeJson(body)}`)
  }
  const reader = new BodyReader(body, '', fail)
  const bucketName = reader.string('bucket_name')
  if (requireBucket && bucketName === undefined) fail('bucket_name is required')
  const obsInfo = omitUndefined<Record<string, unknown>>({
    bucket_name: bucketName,
    file_prefix_name: reader.string('file_prefix_name'),
    is_obs_created: reader.boolean('is_obs_created'),
  })
  const lts = reader.object('lts')
  return omitUndefined<Record<string, unknown>>({
    tracker_type: 'system',
    tracker_name: trackerName,
    status: reader.string('status'),
    is_lts_enabled: lts?.boolean('is_lts_enabled'),
    obs_info: Object.keys(obsInfo).length === 0 ? undefined : obsInfo,
  })
}
