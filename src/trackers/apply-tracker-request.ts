/**
 * @module trackers/apply-tracker-request
 * The merge semantics of CreateTracker/UpdateTracker (spec §5.4): fields the body gives replace the
 * stored ones, fields it omits are kept (on create: the defaults of `newTracker`). Pure.
 *
 * - `obs_info.bucket_name: ""` turns transfer off; the bucket's location and authorisation reset.
 * - `kms_id: ""` removes the key.
 * - A `status` (enabled|disabled) clears an error `detail`.
 * - A request naming the transfer bucket (`obs_info.bucket_name`) clears an error status: the
 *   error was about the bucket as it was; the next transfer cycle judges the one named now.
 * - `is_authorized_bucket` stays false: OpenCTS writes with its own credentials and grants no bucket
 *   policies; `bucket_location` stays empty (one object store per server, docs/transfer.md).
 */
import type { Tracker } from '../model/index.js'
import type { ValidTrackerRequest } from './validate-tracker.js'

/** Returns `tracker` with the validated request applied; `tracker` is not modified. */
export function applyTrackerRequest(tracker: Tracker, valid: ValidTrackerRequest): Tracker {
  const { request } = valid
  const next: Tracker = {
    ...tracker,
    obs_info: { ...tracker.obs_info },
    lts: { ...tracker.lts },
    management_event_selector: {
      exclude_service: [...tracker.management_event_selector.exclude_service],
    },
  }
  if (valid.status !== undefined) {
    next.status = valid.status
    delete next.detail
  }
  if (request.is_lts_enabled !== undefined) next.lts.is_lts_enabled = request.is_lts_enabled
  const obs = request.obs_info
  if (obs !== undefined) {
    Object.assign(next.obs_info, obs)
    if (obs.bucket_name === '') {
      next.obs_info.is_authorized_bucket = false
      next.obs_info.bucket_location = ''
    }
    if (obs.bucket_name !== undefined && next.status === 'error') {
      next.status = 'enabled'
      delete next.detail
    }
  }
  if (request.is_support_validate !== undefined) {
    next.is_support_validate = request.is_support_validate
  }
  if (request.is_support_trace_files_encryption !== undefined) {
    next.is_support_trace_files_encryption = request.is_support_trace_files_encryption
  }
  if (request.kms_id === '') delete next.kms_id
  else if (request.kms_id !== undefined) next.kms_id = request.kms_id
  if (request.is_organization_tracker !== undefined) {
    next.is_organization_tracker = request.is_organization_tracker
  }
  const excluded = request.management_event_selector?.exclude_service
  if (excluded !== undefined) next.management_event_selector = { exclude_service: [...excluded] }
  if (request.agency_name !== undefined) next.agency_name = request.agency_name
  const bucket = request.data_bucket?.data_bucket_name
  if (valid.type === 'data' && (bucket !== undefined || valid.dataEvents !== undefined)) {
    next.data_bucket = {
      ...next.data_bucket,
      data_bucket_name: next.data_bucket?.data_bucket_name ?? bucket ?? '',
      data_event: [...(valid.dataEvents ?? next.data_bucket?.data_event ?? [])],
    }
  }
  return next
}
