/**
 * @module store/sqlite/sqlite-config-store
 * ConfigStore on SQLite: projects, trackers, notifications and tags as JSON documents keyed by id,
 * with unique (project, name) constraints. Each mutation commits its audit traces in the same
 * transaction through the engine's one trace append (`SqliteTraceAppender`), the append batches use.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { Notification, TraceRecord, Tracker, TrackerErrorDetail } from '../../model/index.js'
import type { ConfigStore, Tag, TrackerQuery } from '../store.js'
import { isUniqueViolation, run } from './driver-errors.js'
import type { SqliteDatabase, SqliteTraceAppender } from './sqlite-database.js'

export class SqliteConfigStore implements ConfigStore {
  readonly #db: SqliteDatabase
  readonly #traces: SqliteTraceAppender

  constructor(db: SqliteDatabase, traces: SqliteTraceAppender) {
    this.#db = db
    this.#traces = traces
  }

  /** Runs `fn` and appends `audit` in one write transaction, converting driver errors. */
  #write<T>(audit: readonly TraceRecord[], fn: () => T): Promise<T> {
    return run('write', () =>
      this.#db.transaction(() => {
        const result = fn()
        this.#traces.appendInTransaction(audit)
        return result
      })(),
    )
  }

  #read<T>(fn: () => T): Promise<T> {
    return run('read', fn)
  }

  ensureProject(
    projectId: string,
    now: number,
    onNew: () => { tracker: Tracker; audit: TraceRecord[] },
  ): Promise<boolean> {
    return run('write', () =>
      this.#db.transaction(() => {
        const added = this.#db
          .prepare('INSERT OR IGNORE INTO projects (project_id, created_at) VALUES (?, ?)')
          .run(projectId, now)
        if (added.changes === 0) return false
        const { tracker, audit } = onNew()
        this.#insertTrackerRow(tracker)
        this.#traces.appendInTransaction(audit)
        return true
      })(),
    )
  }

  listTrackers(projectId: string, query: TrackerQuery = {}): Promise<Tracker[]> {
    return this.#read(() => {
      const where = ['project_id = ?']
      const params: unknown[] = [projectId]
      if (query.name !== undefined) {
        where.push('tracker_name = ?')
        params.push(query.name)
      }
      if (query.type !== undefined) {
        where.push('tracker_type = ?')
        params.push(query.type)
      }
      const rows = this.#db
        .prepare(
          `SELECT doc FROM trackers WHERE ${where.join(' AND ')} ORDER BY tracker_type DESC, tracker_name`,
        )
        .all(...params) as { doc: string }[]
      return rows.map((r) => JSON.parse(r.doc) as Tracker)
    })
  }

  listAllTrackers(): Promise<Tracker[]> {
    return this.#read(() =>
      (
        this.#db.prepare('SELECT doc FROM trackers ORDER BY project_id, tracker_name').all() as {
          doc: string
        }[]
      ).map((r) => JSON.parse(r.doc) as Tracker),
    )
  }

  setTrackerHealth(
    trackerId: string,
    health: { status: 'enabled' } | { status: 'error'; detail: TrackerErrorDetail },
  ): Promise<Tracker | undefined> {
    return run('write', () =>
      this.#db.transaction(() => {
        const row = this.#db.prepare('SELECT doc FROM trackers WHERE id = ?').get(trackerId) as
          { doc: string } | undefined
        if (row === undefined) return undefined
        const tracker = JSON.parse(row.doc) as Tracker
        if (tracker.status === 'disabled') return tracker
        if (
          tracker.status === health.status &&
          tracker.detail === (health as { detail?: string }).detail
        )
          return tracker
        const next: Tracker = { ...tracker, status: health.status }
        if (health.status === 'error') next.detail = health.detail
        else delete next.detail
        this.#db
          .prepare('UPDATE trackers SET doc = ? WHERE id = ?')
          .run(JSON.stringify(next), trackerId)
        return next
      })(),
    )
  }

  #insertTrackerRow(tracker: Tracker): void {
    try {
      this.#db
        .prepare(
          'INSERT INTO trackers (id, project_id, tracker_name, tracker_type, doc) VALUES (?, ?, ?, ?, ?)',
        )
        .run(
          tracker.id,
          tracker.project_id,
          tracker.tracker_name,
          tracker.tracker_type,
          JSON.stringify(tracker),
        )
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new OpenCtsError('OCTS_ERR_CONFLICT', {
          message: `tracker ${tracker.tracker_name} already exists`,
          cause: error,
        })
      }
      throw error
    }
  }

  insertTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, () => this.#insertTrackerRow(tracker))
  }

  updateTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, () => {
      const result = this.#db
        .prepare(
          'UPDATE trackers SET tracker_name = ?, tracker_type = ?, doc = ? WHERE id = ? AND project_id = ?',
        )
        .run(
          tracker.tracker_name,
          tracker.tracker_type,
          JSON.stringify(tracker),
          tracker.id,
          tracker.project_id,
        )
      if (result.changes === 0) throw new OpenCtsError('OCTS_ERR_TRACKER_NOT_FOUND')
    })
  }

  deleteTrackers(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number> {
    return this.#write(audit, () => {
      const remove = this.#db.prepare('DELETE FROM trackers WHERE id = ? AND project_id = ?')
      const untag = this.#db.prepare('DELETE FROM tags WHERE project_id = ? AND resource_id = ?')
      const forgetState = this.#db.prepare('DELETE FROM transfer_state WHERE tracker_id = ?')
      const forgetFiles = this.#db.prepare('DELETE FROM transfer_files WHERE tracker_id = ?')
      let count = 0
      for (const id of ids) {
        const removed = remove.run(id, projectId).changes
        count += removed
        untag.run(projectId, id)
        if (removed > 0) {
          // Transfer progress goes with the tracker: a new tracker of that name starts afresh.
          forgetState.run(id)
          forgetFiles.run(id)
        }
      }
      return count
    })
  }

  countActiveNotifications(): Promise<number> {
    return this.#read(
      () =>
        (
          this.#db
            .prepare(
              `SELECT COUNT(*) AS n FROM notifications WHERE json_extract(doc, '$.status') = 'enabled'
               AND COALESCE(json_extract(doc, '$.topic_id'), '') != ''`,
            )
            .get() as { n: number }
        ).n,
    )
  }

  listNotifications(projectId: string): Promise<Notification[]> {
    return this.#read(() => {
      const rows = this.#db
        .prepare('SELECT doc FROM notifications WHERE project_id = ? ORDER BY name')
        .all(projectId) as {
        doc: string
      }[]
      return rows.map((r) => JSON.parse(r.doc) as Notification)
    })
  }

  insertNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, () => {
      try {
        this.#db
          .prepare('INSERT INTO notifications (id, project_id, name, doc) VALUES (?, ?, ?, ?)')
          .run(
            notification.notification_id,
            notification.project_id,
            notification.notification_name,
            JSON.stringify(notification),
          )
      } catch (error) {
        if (isUniqueViolation(error))
          throw new OpenCtsError('OCTS_ERR_NOTIFICATION_EXISTS', { cause: error })
        throw error
      }
    })
  }

  updateNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, () => {
      let changes: number
      try {
        changes = this.#db
          .prepare('UPDATE notifications SET name = ?, doc = ? WHERE id = ? AND project_id = ?')
          .run(
            notification.notification_name,
            JSON.stringify(notification),
            notification.notification_id,
            notification.project_id,
          ).changes
      } catch (error) {
        if (isUniqueViolation(error))
          throw new OpenCtsError('OCTS_ERR_NOTIFICATION_EXISTS', { cause: error })
        throw error
      }
      if (changes === 0) throw new OpenCtsError('OCTS_ERR_NOTIFICATION_NOT_FOUND')
    })
  }

  deleteNotifications(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number> {
    return this.#write(audit, () => {
      const remove = this.#db.prepare('DELETE FROM notifications WHERE id = ? AND project_id = ?')
      let count = 0
      for (const id of ids) count += remove.run(id, projectId).changes
      return count
    })
  }

  getTags(projectId: string, resourceType: string, resourceId: string): Promise<Tag[]> {
    return this.#read(
      () =>
        this.#db
          .prepare(
            'SELECT key, value FROM tags WHERE project_id = ? AND resource_type = ? AND resource_id = ? ORDER BY key',
          )
          .all(projectId, resourceType, resourceId) as Tag[],
    )
  }

  listTags(projectId: string, resourceType: string): Promise<(Tag & { resourceId: string })[]> {
    return this.#read(
      () =>
        this.#db
          .prepare(
            'SELECT resource_id AS resourceId, key, value FROM tags WHERE project_id = ? AND resource_type = ? ORDER BY resource_id, key',
          )
          .all(projectId, resourceType) as (Tag & { resourceId: string })[],
    )
  }

  putTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly Tag[],
    audit: readonly TraceRecord[],
  ): Promise<void> {
    return this.#write(audit, () => {
      const put = this.#db.prepare(
        `INSERT INTO tags (project_id, resource_type, resource_id, key, value) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET value = excluded.value`,
      )
      for (const tag of tags) put.run(projectId, resourceType, resourceId, tag.key, tag.value)
    })
  }

  deleteTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly { key: string; value?: string }[],
    audit: readonly TraceRecord[],
  ): Promise<void> {
    return this.#write(audit, () => {
      const byKey = this.#db.prepare(
        'DELETE FROM tags WHERE project_id = ? AND resource_type = ? AND resource_id = ? AND key = ?',
      )
      const byKeyValue = this.#db.prepare(
        'DELETE FROM tags WHERE project_id = ? AND resource_type = ? AND resource_id = ? AND key = ? AND value = ?',
      )
      for (const tag of tags) {
        if (tag.value === undefined) byKey.run(projectId, resourceType, resourceId, tag.key)
        else byKeyValue.run(projectId, resourceType, resourceId, tag.key, tag.value)
      }
    })
  }
}
