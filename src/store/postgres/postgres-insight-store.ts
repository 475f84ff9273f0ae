/**
 * @module store/postgres/postgres-insight-store
 * InsightStore on PostgreSQL: `insights` and `insight_state` (schema-insights.ts), with the SQLite
 * engine's semantics. `commitDetectors` is one transaction; only the holder of the `insights`
 * lease writes the state, so no lock beyond the transaction's is needed.
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
import type { PgDatabase } from './pg-database.js'

/** The state key holding the cursor. */
const CURSOR_KEY = ''

const UPSERT = `INSERT INTO insight_state (key, value) SELECT * FROM unnest($1::text[], $2::text[])
  ON CONFLICT (key) DO UPDATE SET value = excluded.value`

export class PostgresInsightStore implements InsightStore {
  readonly #db: PgDatabase

  constructor(db: PgDatabase) {
    this.#db = db
  }

  commitDetectors(commit: DetectorCommit): Promise<string[]> {
    return this.#db.transaction(async (tx) => {
      let stored: string[] = []
      if (commit.insights.length > 0) {
        // One row per id: a repeat within the batch keeps the first, as SQLite's row-by-row insert.
        const first = new Map<string, InsightRecord>()
        for (const i of commit.insights)
          if (!first.has(`${i.project_id}\n${i.id}`)) first.set(`${i.project_id}\n${i.id}`, i)
        const rows = [...first.values()]
        const { rows: inserted } = await tx.query<{ id: string }>(
          `INSERT INTO insights (project_id, id, insight_id, insight_type, state, time,
             service_type, doc)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::bigint[], $7::text[], $8::text[])
           ON CONFLICT DO NOTHING RETURNING id`,
          [
            rows.map((i) => i.project_id),
            rows.map((i) => i.id),
            rows.map((i) => i.insight_id),
            rows.map((i) => i.insight_type),
            rows.map((i) => i.state),
            rows.map((i) => i.time),
            rows.map((i) => i.service_type ?? ''),
            rows.map((i) => JSON.stringify(i)),
          ],
        )
        const fresh = new Set(inserted.map((r) => r.id))
        stored = rows.filter((i) => fresh.has(i.id)).map((i) => i.id)
      }
      const upserts = [...new Map(commit.upserts.map(([k, v]) => [k, v]))]
      if (upserts.length > 0)
        await tx.query(UPSERT, [upserts.map(([k]) => k), upserts.map(([, v]) => v)])
      if (commit.deletes.length > 0)
        await tx.query('DELETE FROM insight_state WHERE key = ANY($1::text[])', [
          [...commit.deletes],
        ])
      await tx.query(UPSERT, [[CURSOR_KEY], [String(commit.cursor)]])
      return stored
    })
  }

  async loadDetectors(): Promise<DetectorState> {
    const rows = await this.#db.query<{ key: string; value: string }>(
      'read',
      'SELECT key, value FROM insight_state',
    )
    let cursor: number | undefined
    const entries = new Map<string, string>()
    for (const row of rows) {
      if (row.key === CURSOR_KEY) cursor = Number(row.value)
      else entries.set(row.key, row.value)
    }
    return { cursor, entries }
  }

  async listInsights(
    filter: InsightFilter,
    after: string | null,
    limit: number,
  ): Promise<InsightPage> {
    const where = ['project_id = $1', 'time > $2', 'time < $3']
    const params: unknown[] = [filter.projectId, filter.from, filter.to]
    const add = (sql: (n: number) => string, ...values: unknown[]): void => {
      where.push(sql(params.length + 1))
      params.push(...values)
    }
    if (filter.insightType !== undefined) add((n) => `insight_type = $${n}`, filter.insightType)
    if (filter.serviceType !== undefined) add((n) => `service_type = $${n}`, filter.serviceType)
    if (filter.state !== undefined) add((n) => `state = $${n}`, filter.state)
    if (after !== null) {
      const marks = await this.#db.query<{ time: number }>(
        'read',
        'SELECT time FROM insights WHERE project_id = $1 AND id = $2',
        [filter.projectId, after],
      )
      const mark = marks[0]
      if (mark === undefined)
        throw ctsError('OCTS_ERR_QUERY', `Query failed: next ${after} is not an insight marker`)
      add((n) => `(time, id) < ($${n}, $${n + 1})`, mark.time, after)
    }
    const rows = await this.#db.query<{ doc: string }>(
      'read',
      `SELECT doc FROM insights WHERE ${where.join(' AND ')}
       ORDER BY time DESC, id DESC LIMIT $${params.length + 1}`,
      [...params, limit + 1],
    )
    return {
      insights: rows.slice(0, limit).map((r) => JSON.parse(r.doc) as InsightRecord),
      hasMore: rows.length > limit,
    }
  }

  async purgeInsights(time: number): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH gone AS (DELETE FROM insights WHERE time < $1 RETURNING 1)
       SELECT count(*)::integer AS n FROM gone`,
      [time],
    )
    return rows[0]?.n ?? 0
  }
}
