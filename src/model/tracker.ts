/**
 * @module model/tracker
 * Tracker configuration (spec §5). A tracker decides where a project's traces go beyond the 7-day
 * list: object storage transfer, log streams, integrity digests, encryption.
 *
 * Semantics of status (docs/trackers.md): recording into the 7-day list never depends on trackers.
 * A tracker that is `disabled`, or deleted, stops transfer, log streaming and key-event notifications
 * for its traces; `enabled` (or `error`, which keeps retrying) delivers.
 */

export const TRACKER_TYPES = ['system', 'data'] as const
export type TrackerType = (typeof TRACKER_TYPES)[number]
export const TRACKER_STATUSES = ['enabled', 'disabled', 'error'] as const
export type TrackerStatus = (typeof TRACKER_STATUSES)[number]
export type TrackerErrorDetail = 'bucketPolicyError' | 'noBucket' | 'arrears'
export const DATA_EVENTS = ['READ', 'WRITE'] as const
export type DataEvent = (typeof DATA_EVENTS)[number]
export const COMPRESS_TYPES = ['gzip', 'json'] as const
export type CompressType = (typeof COMPRESS_TYPES)[number]
export const BUCKET_LIFECYCLES = [0, 30, 60, 90, 180, 1095] as const

export interface ObsInfo {
  bucket_name: string
  file_prefix_name: string
  is_obs_created: boolean
  is_authorized_bucket: boolean
  bucket_lifecycle: number
  bucket_location: string
  compress_type: CompressType
  is_sort_by_service: boolean
}

export interface Lts {
  is_lts_enabled: boolean
  log_group_name: string
  log_topic_name: string
}

export interface DataBucket {
  data_bucket_name: string
  data_event: DataEvent[]
  search_enabled?: boolean
}

export interface Tracker {
  id: string
  create_time: number
  tracker_type: TrackerType
  tracker_name: string
  status: TrackerStatus
  detail?: TrackerErrorDetail
  domain_id: string
  project_id: string
  obs_info: ObsInfo
  lts: Lts
  is_support_validate: boolean
  is_support_trace_files_encryption: boolean
  kms_id?: string
  is_organization_tracker: boolean
  management_event_selector: { exclude_service: string[] }
  agency_name?: string
  group_id?: string
  stream_id?: string
  data_bucket?: DataBucket
}

/**
 * Whether a tracker delivers (transfer, log stream, notifications). Recording into the 7-day list is
 * independent of this: it continues for disabled and deleted trackers.
 */
export function trackerDelivers(tracker: Pick<Tracker, 'status'> | undefined): boolean {
  return tracker !== undefined && tracker.status !== 'disabled'
}
