/**
 * @module store/ports/config
 * The configuration port: projects, trackers, notifications, tags; each mutation commits its self-audit traces with it.
 */
import type {
  Notification,
  TraceRecord,
  Tracker,
  TrackerErrorDetail,
  TrackerType,
} from '../../model/index.js'

export interface TrackerQuery {
  readonly name?: string
  readonly type?: TrackerType
}

export interface Tag {
  readonly key: string
  readonly value: string
}

/**
 * Configuration: projects, trackers, notifications, tags. Every mutation takes the self-audit traces
 * describing it and commits them in the same transaction as the change, so a change is never
 * without its audit record.
 */
export interface ConfigStore {
  /**
   * Registers a project on first use. When (and only when) the project is new, `onNew()` supplies the
   * management tracker and its audit traces, which are committed with the registration.
   * Returns true when the project was new.
   */
  ensureProject(
    projectId: string,
    now: number,
    onNew: () => { tracker: Tracker; audit: TraceRecord[] },
  ): Promise<boolean>
  listTrackers(projectId: string, query?: TrackerQuery): Promise<Tracker[]>
  /** Every tracker of every project, sorted by (project, tracker name). */
  listAllTrackers(): Promise<Tracker[]>
  /**
   * Sets the delivery health of a tracker found by id: `error` with a detail, or back to `enabled`
   * (detail removed). A `disabled` tracker is left unchanged. Returns the tracker as stored after
   * the call, or undefined if it is gone. Not self-audited: this is the service's own state.
   */
  setTrackerHealth(
    trackerId: string,
    health: { status: 'enabled' } | { status: 'error'; detail: TrackerErrorDetail },
  ): Promise<Tracker | undefined>
  /** Throws OCTS_ERR_CONFLICT if (project, tracker_name) exists. */
  insertTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void>
  /** Replaces the tracker with the same id. Throws OCTS_ERR_TRACKER_NOT_FOUND if it is gone. */
  updateTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void>
  /** Deletes the trackers (and their tags); returns how many existed. */
  deleteTrackers(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number>
  listNotifications(projectId: string): Promise<Notification[]>
  /** How many notifications of any project are enabled with a topic (cheap: asked per commit). */
  countActiveNotifications(): Promise<number>
  /** Throws OCTS_ERR_NOTIFICATION_EXISTS if (project, notification_name) exists. */
  insertNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void>
  /** Replaces by id. Throws OCTS_ERR_NOTIFICATION_NOT_FOUND if gone, OCTS_ERR_NOTIFICATION_EXISTS on a name clash. */
  updateNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void>
  /** Deletes notifications by id; returns how many existed. */
  deleteNotifications(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number>
  /** Tags of one resource, sorted by key. */
  getTags(projectId: string, resourceType: string, resourceId: string): Promise<Tag[]>
  /** Every tag of the project's resources of a type, with the resource id, sorted by (resource, key). */
  listTags(projectId: string, resourceType: string): Promise<(Tag & { resourceId: string })[]>
  /** Adds or overwrites tags by key. */
  putTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly Tag[],
    audit: readonly TraceRecord[],
  ): Promise<void>
  /** Deletes tags by key (and value, when the value given is not undefined). */
  deleteTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly { key: string; value?: string }[],
    audit: readonly TraceRecord[],
  ): Promise<void>
}
