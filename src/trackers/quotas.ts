/**
 * @module trackers/quotas
 * The fixed quotas of spec §7.1/§13 and `GET /v3/{project_id}/quotas`. CTS counts them per account
 * and region; OpenCTS has no account above the project, so they count per project. The notification
 * quota counts every notification (`smn` and `fun`): CTS reports them as one `smn_notification` item.
 */
import type { Notification, Tracker } from '../model/index.js'
import type { ConfigStore } from '../store/index.js'
import type { ServiceResult } from '../ingest/audited-call.js'

/** Management trackers per project: exactly one (`system`). */
export const SYSTEM_TRACKER_QUOTA = 1
/** Data trackers per project (CTS.0200 when reached). */
export const DATA_TRACKER_QUOTA = 100
/** Key-event notifications per project (CTS.0402 when reached). */
export const NOTIFICATION_QUOTA = 100

export interface QuotaResource {
  readonly type: 'system_tracker' | 'data_tracker' | 'smn_notification'
  readonly used: number
  readonly quota: number
}

/** The quota items for a project's trackers and notifications, in CTS order. */
export function quotaResources(
  trackers: readonly Tracker[],
  notifications: readonly Notification[],
): QuotaResource[] {
  const count = (type: Tracker['tracker_type']): number =>
    trackers.filter((t) => t.tracker_type === type).length
  return [
    { type: 'system_tracker', used: count('system'), quota: SYSTEM_TRACKER_QUOTA },
    { type: 'data_tracker', used: count('data'), quota: DATA_TRACKER_QUOTA },
    { type: 'smn_notification', used: notifications.length, quota: NOTIFICATION_QUOTA },
  ]
}

/** `GET /v3/{project_id}/quotas`: 200 `{"resources":[{type, used, quota}, ...]}`. */
export async function getQuotas(config: ConfigStore, projectId: string): Promise<ServiceResult> {
  const [trackers, notifications] = await Promise.all([
    config.listTrackers(projectId),
    config.listNotifications(projectId),
  ])
  return { status: 200, body: { resources: quotaResources(trackers, notifications) } }
}
