/**
 * @module store/sqlite/sqlite-insight-store
 * InsightStore on SQLite: `insights` (one row per insight event, its document in `doc`; keyed by
 * project and id, listed newest first through `insights_by_time`) and `insight_state` (the
 * detectors' entries; the cursor is the entry of the empty key). `commitDetectors` is one
 * transaction.
 */
import { ctsError } from '../../errors/index.js'
import type {
  DetectorCommit,
  DetectorState,
  InsightFilter,
  InsightPage,
  InsightRecord,
  InsightStore,
} from '../store.js'
import { run } from './driver-errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

/** The state key holding the cursor. */
const CURSOR_KEY = ''

export class SqliteInsightStore implements InsightStore {
  readonly #db: SqliteDatabase

  constructor(db: SqliteDatabase) {
    this.#db = db
  }

  commitDetectors(commit: DetectorCommit): Promise<string[]> {
    return run('write', () =>
      this.#db.transaction(() => {
        const insert = this.#db.prepare(
          `INSERT INTO insights (project_id, id, insight_id, insight_type, state, time,
             service_type, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        const stored: string[] = []
        for (const i of commit.insights) {
          const result = insert.run(
            i.project_id,
            i.id,
            i.insight_id,
            i.insight_type,
            i.state,
            i.time,
            i.service_type ?? '',
            JSON.stringify(i),
          )
          if (result.changes > 0) stored.push(i.id)
        }
        const upsert = this.#db.prepare(
          `INSERT INTO insight_state (key, value) VALUES (?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        )
        for (const [key, value] of commit.upserts) upsert.run(key, value)
        const remove = this.#db.prepare('DELETE FROM insight_state WHERE key = ?')
        for (const key of commit.deletes) remove.run(key)
        upsert.run(CURSOR_KEY, String(commit.cursor))
        return stored
      })(),
    )
  }

  loadDetectors(): Promise<DetectorState> {
    return run('read', () => {
      const rows = this.#db.prepare('SELECT key, value FROM insight_state').all() as {
        key: string
        value: string
      }[]
      let cursor: number | undefined
      const entries = new Map<string, string>()
      for (const row of rows) {
        if (row.key === CURSOR_KEY) cursor = Number(row.value)
        else entries.set(row.key, row.value)
      }
      return { cursor, entries }
    })
  }

  listInsights(filter: InsightFilter, after: string | null, limit: number): Promise<InsightPage> {
    return run('read', () => {
      const where = ['project_id = ?', 'time > ?', 'time < ?']
      const params: (string | number)[] = [filter.projectId, filter.from, filter.to]
      if (filter.insightType !== undefined) {
        where.push('insight_type = ?')
        params.push(filter.insightType)
      }
      if (filter.serviceType !== undefined) {
        where.push('service_type = ?')
        params.push(filter.serviceType)
      }
      if (filter.state !== undefined) {
        where.push('state = ?')
        params.push(filter.state)
      }
      if (after !== null) {
        const mark = this.#db
          .prepare('SELECT time FROM insights WHERE project_id = ? AND id = ?')
          .get(filter.projectId, after) as { time: number } | undefined
        if (mark === undefined)
          throw ctsError('OCTS_ERR_QUERY', `Query failed: next ${after} is not an insight marker`)
        where.push('(time < ? OR (time = ? AND id < ?))')
        params.push(mark.time, mark.time, after)
      }
      const rows = this.#db
        .prepare(
          `SELECT doc FROM insights WHERE ${where.join(' AND ')}
           ORDER BY time DESC, id DESC LIMIT ?`,
        )
        .all(...params, limit + 1) as { doc: string }[]
      return {
        insights: rows.slice(0, limit).map((r) => JSON.parse(r.doc) as InsightRecord),
        hasMore: rows.length > limit,
      }
    })
  }

  purgeInsights(time: number): Promise<number> {
    return run(
      'write',
      () => this.#db.prepare('DELETE FROM insights WHERE time < ?').run(time).changes,
    )
  }
}
