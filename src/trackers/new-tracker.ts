/**
 * @module trackers/new-tracker
 * The defaults of a freshly created tracker (spec §18 step 7): status enabled, `obs_info` defaults
 * (`compress_type=gzip`, `is_sort_by_service=true`), LTS group `CTS` / stream `system-trace`
 * (or the tracker's name for data trackers).
 */
import type { Tracker, TrackerType } from '../model/index.js'

export interface NewTrackerInput {
  readonly id: string
  readonly now: number
  readonly projectId: string
  readonly domainId: string
  readonly type: TrackerType
  readonly name: string
}

export function newTracker(input: NewTrackerInput): Tracker {
  return {
    id: input.id,
    create_time: input.now,
    tracker_type: input.type,
    tracker_name: input.name,
    status: 'enabled',
    domain_id: input.domainId,
    project_id: input.projectId,
    obs_info: {
      bucket_name: '',
      file_prefix_name: '',
      is_obs_created: false,
      is_authorized_bucket: false,
      bucket_lifecycle: 0,
      bucket_location: '',
      compress_type: 'gzip',
      is_sort_by_service: true,
    },
    lts: {
      is_lts_enabled: false,
      log_group_name: 'CTS',
      log_topic_name: input.type === 'system' ? 'system-trace' : input.name,
    },
    is_support_validate: false,
    is_support_trace_files_encryption: false,
    is_organization_tracker: false,
    management_event_selector: { exclude_service: [] },
  }
}
