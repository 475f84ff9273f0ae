/**
 * @module store/postgres/postgres-config-store
 * ConfigStore on PostgreSQL: projects, trackers, notifications and tags as JSON documents (TEXT)
 * keyed by (project, id), with unique (project, name) constraints; the SQLite engine's behaviour.
 * Each mutation commits its self-audit traces in its own transaction through the trace append
 * (PgTraceAppender), so a change is never without its audit record, on any node.
 *
 * Many nodes: every check-then-write rests on a constraint or a row lock. Two nodes registering
 * the same new project both INSERT … ON CONFLICT DO NOTHING; the second waits for the first's
 * commit and finds the row, so only one calls `onNew()`. Two inserts of one tracker or
 * notification name: the unique key refuses the second (OCTS_ERR_CONFLICT /
 * OCTS_ERR_NOTIFICATION_EXISTS). A health change locks the tracker row (SELECT … FOR UPDATE).
 */
import { OpenCtsError } from '../../errors/index.js'
import type { Notification, TraceRecord, Tracker, TrackerErrorDetail } from '../../model/index.js'
import type { ConfigStore, Tag, TrackerQuery } from '../store.js'
import { isUniqueViolation } from './driver-errors.js'
import type { PgDatabase, PgExecutor, PgTraceAppender } from './pg-database.js'

const parseAll = <T>(rows: readonly { doc: string }[]): T[] =>
  rows.map((r) => JSON.parse(r.doc) as T)

export class PgConfigStore implements ConfigStore {
  readonly #db: PgDatabase
  readonly #traces: PgTraceAppender

  constructor(db: PgDatabase, traces: PgTraceAppender) {
    this.#db = db
    this.#traces = traces
  }

  /** Runs `fn` and appends `audit` in one write transaction. */
  #write<T>(audit: readonly TraceRecord[], fn: (tx: PgExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const result = await fn(tx)
      if (audit.length > 0) await this.#traces.appendIn(tx, audit)
      return result
    })
  }

  ensureProject(
    projectId: string,
    now: number,
    onNew: () => { tracker: Tracker; audit: TraceRecord[] },
  ): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      // A concurrent registration of the same project makes this wait for its commit, then skip.
      const added = await tx.query(
        `INSERT INTO projects (project_id, created_at) VALUES ($1, $2)
         ON CONFLICT (project_id) DO NOTHING`,
        [projectId, now],
      )
      if (added.rowCount === 0) return false
      const { tracker, audit } = onNew()
      await insertTrackerRow(tx, tracker)
      if (audit.length > 0) await this.#traces.appendIn(tx, audit)
      return true
    })
  }

  async listTrackers(projectId: string, query: TrackerQuery = {}): Promise<Tracker[]> {
    const where = ['project_id = $1']
    const params: unknown[] = [projectId]
    if (query.name !== undefined) {
      params.push(query.name)
      where.push(`tracker_name = $${params.length}`)
    }
    if (query.type !== undefined) {
      params.push(query.type)
      where.push(`tracker_type = $${params.length}`)
    }
    const rows = await this.#db.query<{ doc: string }>(
      'read',
      `SELECT doc FROM trackers WHERE ${where.join(' AND ')}
       ORDER BY tracker_type DESC, tracker_name`,
      params,
    )
    return parseAll<Tracker>(rows)
  }

  async listAllTrackers(): Promise<Tracker[]> {
    const rows = await this.#db.query<{ doc: string }>(
      'read',
      'SELECT doc FROM trackers ORDER BY project_id, tracker_name',
    )
    return parseAll<Tracker>(rows)
  }

  setTrackerHealth(
    trackerId: string,
    health: { status: 'enabled' } | { status: 'error'; detail: TrackerErrorDetail },
  ): Promise<Tracker | undefined> {
    return this.#db.transaction(async (tx) => {
      const { rows } = await tx.query<{ project_id: string; doc: string }>(
        'SELECT project_id, doc FROM trackers WHERE id = $1 LIMIT 1 FOR UPDATE',
        [trackerId],
      )
      const row = rows[0]
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
      await tx.query('UPDATE trackers SET doc = $1 WHERE project_id = $2 AND id = $3', [
        JSON.stringify(next),
        row.project_id,
        trackerId,
      ])
      return next
    })
  }

  insertTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, (tx) => insertTrackerRow(tx, tracker))
  }

  updateTracker(tracker: Tracker, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, async (tx) => {
      const result = await tx.query(
        `UPDATE trackers SET tracker_name = $1, tracker_type = $2, doc = $3
         WHERE project_id = $4 AND id = $5`,
        [
          tracker.tracker_name,
          tracker.tracker_type,
          JSON.stringify(tracker),
          tracker.project_id,
          tracker.id,
        ],
      )
      if (result.rowCount === 0) throw new OpenCtsError('OCTS_ERR_TRACKER_NOT_FOUND')
    })
  }

  deleteTrackers(
    projectId: string,
    ids: readonly string[],
    audit: readonly TraceRecord[],
  ): Promise<number> {
    return this.#write(audit, async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        'DELETE FROM trackers WHERE project_id = $1 AND id = ANY($2::text[]) RETURNING id',
        [projectId, ids],
      )
      await tx.query('DELETE FROM tags WHERE project_id = $1 AND resource_id = ANY($2::text[])', [
        projectId,
        ids,
      ])
      if (rows.length > 0) {
        // Transfer progress goes with the tracker: a new tracker of that name starts afresh.
        const removed = rows.map((r) => r.id)
        await tx.query('DELETE FROM transfer_state WHERE tracker_id = ANY($1::text[])', [removed])
        await tx.query('DELETE FROM transfer_files WHERE tracker_id = ANY($1::text[])', [removed])
      }
      return rows.length
    })
  }

  async countActiveNotifications(): Promise<number> {
    // An index-only scan of the partial index `notifications_active`.
    const rows = await this.#db.query<{ n: number }>(
      'read',
      'SELECT count(*) AS n FROM notifications WHERE active',
    )
    return rows[0]?.n ?? 0
  }

  async listNotifications(projectId: string): Promise<Notification[]> {
    const rows = await this.#db.query<{ doc: string }>(
      'read',
      'SELECT doc FROM notifications WHERE project_id = $1 ORDER BY name',
      [projectId],
    )
    return parseAll<Notification>(rows)
  }

  insertNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, async (tx) => {
      try {
        await tx.query(
          'INSERT INTO notifications (project_id, id, name, doc) VALUES ($1, $2, $3, $4)',
          [
            notification.project_id,
            notification.notification_id,
            notification.notification_name,
            JSON.stringify(notification),
          ],
        )
      } catch (error) {
        if (isUniqueViolation(error))
          throw new OpenCtsError('OCTS_ERR_NOTIFICATION_EXISTS', { cause: error })
        throw error
      }
    })
  }

  updateNotification(notification: Notification, audit: readonly TraceRecord[]): Promise<void> {
    return this.#write(audit, async (tx) => {
      let changes: number | null
      try {
        changes = (
          await tx.query(
            'UPDATE notifications SET name = $1, doc = $2 WHERE project_id = $3 AND id = $4',
            [
              notification.notification_name,
              JSON.stringify(notification),
              notification.project_id,
              notification.notification_id,
            ],
          )
        ).rowCount
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
    return this.#write(audit, async (tx) => {
      const result = await tx.query(
        'DELETE FROM notifications WHERE project_id = $1 AND id = ANY($2::text[])',
        [projectId, ids],
      )
      return result.rowCount ?? 0
    })
  }

  getTags(projectId: string, resourceType: string, resourceId: string): Promise<Tag[]> {
    return this.#db.query<Tag>(
      'read',
      `SELECT key, value FROM tags WHERE project_id = $1 AND resource_type = $2 AND resource_id = $3
       ORDER BY key`,
      [projectId, resourceType, resourceId],
    )
  }

  listTags(projectId: string, resourceType: string): Promise<(Tag & { resourceId: string })[]> {
    return this.#db.query<Tag & { resourceId: string }>(
      'read',
      `SELECT resource_id AS "resourceId", key, value FROM tags
       WHERE project_id = $1 AND resource_type = $2 ORDER BY resource_id, key`,
      [projectId, resourceType],
    )
  }

  putTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly Tag[],
    audit: readonly TraceRecord[],
  ): Promise<void> {
    // A key given twice: the last value wins (one statement cannot set a row twice).
    const byKey = new Map(tags.map((t) => [t.key, t.value]))
    return this.#write(audit, async (tx) => {
      if (byKey.size === 0) return
      await tx.query(
        `INSERT INTO tags (project_id, resource_type, resource_id, key, value)
         SELECT $1, $2, $3, k, v FROM unnest($4::text[], $5::text[]) AS t (k, v)
         ON CONFLICT (project_id, resource_type, resource_id, key)
         DO UPDATE SET value = excluded.value`,
        [projectId, resourceType, resourceId, [...byKey.keys()], [...byKey.values()]],
      )
    })
  }

  deleteTags(
    projectId: string,
    resourceType: string,
    resourceId: string,
    tags: readonly { key: string; value?: string }[],
    audit: readonly TraceRecord[],
  ): Promise<void> {
    return this.#write(audit, async (tx) => {
      if (tags.length === 0) return
      // A null value matches any value (delete by key).
      await tx.query(
        `DELETE FROM tags USING unnest($4::text[], $5::text[]) AS d (k, v)
         WHERE project_id = $1 AND resource_type = $2 AND resource_id = $3
         AND key = d.k AND (d.v IS NULL OR value = d.v)`,
        [
          projectId,
          resourceType,
          resourceId,
          tags.map((t) => t.key),
          tags.map((t) => t.value ?? null),
        ],
      )
    })
  }
}

/** Inserts a tracker row; a taken (project, name) or id → OCTS_ERR_CONFLICT. */
async function insertTrackerRow(tx: PgExecutor, tracker: Tracker): Promise<void> {
  try {
    await tx.query(
      `INSERT INTO trackers (project_id, id, tracker_name, tracker_type, doc)
       VALUES ($1, $2, $3, $4, $5)`,
      [
        tracker.project_id,
        tracker.id,
        tracker.tracker_name,
        tracker.tracker_type,
        JSON.stringify(tracker),
      ],
    )
  } catch (error) {
    if (isUniqueViolation(error))
      throw new OpenCtsError('OCTS_ERR_CONFLICT', {
        message: `tracker ${tracker.tracker_name} already exists`,
        cause: error,
      })
    throw error
  }
}
