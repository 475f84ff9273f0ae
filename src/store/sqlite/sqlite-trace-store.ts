/**
 * @module store/sqlite/sqlite-trace-store
 * TraceStore on SQLite. One transaction per batch; rows carry the filter columns plus the full stored
 * form as JSON (`doc`). Page order is `(time desc, seq desc)`: `seq` (the rowid) breaks ties, so
 * paging is exact even when many traces share a millisecond. With MerkleHashing, each newly stored
 * trace is also appended to its project's Merkle log in the same transaction (`leaf_index` set by
 * the insert itself).
 */
import { ctsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import type {
  AppendResult,
  CatalogueEntry,
  MerkleHashing,
  PageCursor,
  SequencedTrace,
  TraceActivity,
  TraceFilter,
  TracePage,
  TraceStore,
} from '../store.js'
import { guard, run } from './driver-errors.js'
import type { StorageCondition } from '../../platform/storage-condition.js'
import { FILTER_SQL, traceColumns, type FILTER_COLUMNS } from '../trace-columns.js'
import { activityBuckets } from '../rows.js'
import { MerkleAppender } from './sqlite-merkle-store.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

/**
 * Filters from the most to the least selective, as CTS data usually is: a resource id names a few
 * traces, a rating a third of them. Without table statistics SQLite would often scan the whole time
 * window by `(project_id, time)`; choosing the index of the most selective filter given makes every
 * filtered page one short range scan of `(project_id, column, time)` in the wanted order.
 */
const INDEX_PREFERENCE: readonly (readonly [keyof TraceFilter, (typeof FILTER_COLUMNS)[number]])[] =
  [
    ['resourceId', 'resource_id'],
    ['resourceName', 'resource_name'],
    ['accessKeyId', 'access_key_id'],
    ['userName', 'user_name'],
    ['traceName', 'trace_name'],
    ['resourceType', 'resource_type'],
    ['serviceType', 'service_type'],
    ['trackerName', 'tracker_name'],
    ['traceRating', 'trace_rating'],
  ]

export function chooseIndex(filter: TraceFilter): string {
  for (const [key, column] of INDEX_PREFERENCE) {
    if (filter[key] !== undefined) return `traces_by_${column}`
  }
  return 'traces_by_project_time'
}

/** The row parameters of the insert statement: the indexed columns, then the document. */
export function traceRow(t: TraceRecord, doc: string = JSON.stringify(t)): unknown[] {
  return [...traceColumns(t), doc]
}

export const INSERT_TRACE_SQL = `INSERT OR IGNORE INTO traces (trace_id, project_id, time, category, tracker_name,
  service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user_name, access_key_id,
  enterprise_project_id, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/** INSERT_TRACE_SQL plus the trace's leaf index in its project's Merkle log (16th parameter). */
const INSERT_TRACE_LEAF_SQL = `INSERT OR IGNORE INTO traces (trace_id, project_id, time, category, tracker_name,
  service_type, resource_type, resource_id, resource_name, trace_name, trace_rating, user_name, access_key_id,
  enterprise_project_id, doc, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

/** The WHERE terms and parameters of a filter; `params[3]` is the `time < to` bound. */
function filterSql(filter: TraceFilter): { where: string[]; params: unknown[] } {
  const where = ['project_id = ?', 'category = ?', 'time > ?', 'time < ?']
  const params: unknown[] = [filter.projectId, filter.category, filter.from, filter.to]
  for (const [key, column] of FILTER_SQL) {
    const value = filter[key]
    if (value !== undefined) {
      where.push(`${column} = ?`)
      params.push(value)
    }
  }
  return { where, params }
}

/** The documents and leaf hashes of a batch, computed before its transaction (same order). */
interface HashedBatch {
  readonly documents: readonly string[]
  readonly leafHashes: readonly Buffer[]
}

/** Batches at least this large have their leaves hashed off the event loop (when possible). */
const OFFLOAD_MIN_TRACES = 64

export class SqliteTraceStore implements TraceStore {
  readonly #db: SqliteDatabase
  readonly #insert: SqliteStatement
  /** The Merkle log's appender and leaf-indexed insert; undefined when the log is off. */
  readonly #merkle: { readonly log: MerkleAppender; readonly insert: SqliteStatement } | undefined
  readonly #upsertOperator: SqliteStatement
  readonly #upsertCatalogue: SqliteStatement
  readonly #appendTx: (traces: readonly TraceRecord[], hashed?: HashedBatch) => AppendResult
  readonly #statements = new Map<string, SqliteStatement>()

  /** Without `merkle` the Merkle log is off: traces are stored without a leaf index. */
  /** Cleared by a batch that stored new traces (they needed space); see StorageCondition. */
  readonly #storage: StorageCondition | undefined

  constructor(db: SqliteDatabase, merkle?: MerkleHashing, storage?: StorageCondition) {
    this.#db = db
    this.#storage = storage
    this.#insert = db.prepare(INSERT_TRACE_SQL)
    this.#merkle =
      merkle === undefined
        ? undefined
        : { log: new MerkleAppender(db, merkle), insert: db.prepare(INSERT_TRACE_LEAF_SQL) }
    this.#upsertOperator = db.prepare(
      `INSERT INTO operators (project_id, user_name, last_seen) VALUES (?, ?, ?)
       ON CONFLICT (project_id, user_name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    )
    this.#upsertCatalogue = db.prepare(
      `INSERT INTO catalogue (project_id, service_type, resource_type, trace_name, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
    )
    this.#appendTx = db.transaction((traces: readonly TraceRecord[], hashed?: HashedBatch) =>
      this.appendInTransaction(traces, hashed),
    )
  }

  /** A prepared statement, compiled once per SQL text. */
  #stmt(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /**
   * Inserts a batch, appending the new traces to the Merkle log in batch order; must run inside a
   * transaction (used by the config store to commit audit traces with a configuration change).
   * `hashed` holds the documents and leaf hashes of `traces` when computed beforehand.
   */
  appendInTransaction(traces: readonly TraceRecord[], hashed?: HashedBatch): AppendResult {
    const inserted: string[] = []
    const duplicates: string[] = []
    const leafIndexes = new Map<string, number | null>()
    const operators = new Map<string, number>()
    const catalogue = new Map<string, [string, string, string, string, number]>()
    const merkle = this.#merkle
    const log = merkle?.log.begin()
    for (const [i, t] of traces.entries()) {
      // With the log on, the row holds the canonical document the leaf is computed from, and the
      // leaf index the trace gets if it is new.
      let stored: boolean
      if (merkle === undefined || log === undefined)
        stored = this.#insert.run(...traceRow(t)).changes === 1
      else {
        const doc = hashed?.documents[i] ?? merkle.log.hashing.document(t)
        const index = log.nextIndex(t.project_id)
        stored = merkle.insert.run(...traceRow(t, doc), index).changes === 1
        if (stored) {
          log.append(t.project_id, doc, hashed?.leafHashes[i])
          leafIndexes.set(t.trace_id, index)
        } else if (!leafIndexes.has(t.trace_id)) {
          const row = this.#stmt(
            'SELECT leaf_index FROM traces WHERE trace_id = ? AND project_id = ?',
          ).get(t.trace_id, t.project_id) as { leaf_index: number | null } | undefined
          leafIndexes.set(t.trace_id, row?.leaf_index ?? null)
        }
      }
      if (stored) inserted.push(t.trace_id)
      else {
        duplicates.push(t.trace_id)
        continue
      }
      if (t.user_name !== null) {
        const key = `${t.project_id}\u0000${t.user_name}`
        operators.set(key, Math.max(operators.get(key) ?? 0, t.time))
      }
      const ckey = `${t.project_id}\u0000${t.service_type}\u0000${t.resource_type}\u0000${t.trace_name}`
      const prev = catalogue.get(ckey)
      if (prev === undefined || prev[4] < t.time)
        catalogue.set(ckey, [t.project_id, t.service_type, t.resource_type, t.trace_name, t.time])
    }
    for (const [key, time] of operators) {
      const [project, user] = key.split('\u0000')
      this.#upsertOperator.run(project, user, time)
    }
    for (const row of catalogue.values()) this.#upsertCatalogue.run(...row)
    log?.finish()
    return { inserted, duplicates, leafIndexes }
  }

  async append(traces: readonly TraceRecord[]): Promise<AppendResult> {
    const hashing = this.#merkle?.log.hashing
    // Large batches are encoded here and hashed off the event loop before the write transaction.
    let hashed: HashedBatch | undefined
    if (hashing?.leafHashes !== undefined && traces.length >= OFFLOAD_MIN_TRACES) {
      const documents = guard('write', () => traces.map((t) => hashing.document(t)))
      hashed = { documents, leafHashes: await hashing.leafHashes(documents) }
    }
    return run('write', () => {
      const result = this.#appendTx(traces, hashed)
      this.#merkle?.log.committed()
      if (result.inserted.length > 0) this.#storage?.markWritable()
      return result
    })
  }

  page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage> {
    return run('read', () => this.#page(filter, after, limit))
  }

  #page(filter: TraceFilter, after: PageCursor | null, limit: number): TracePage {
    const { where, params } = filterSql(filter)
    if (after !== null) {
      const anchor = guard('read', () =>
        this.#stmt('SELECT seq, time FROM traces WHERE trace_id = ? AND project_id = ?').get(
          after.traceId,
          filter.projectId,
        ),
      ) as { seq: number; time: number } | undefined
      if (anchor === undefined) {
        throw ctsError(
          'OCTS_ERR_QUERY',
          `Query failed: the next marker ${after.traceId} does not identify a stored trace of this project (expired after 7 days, or not a marker).`,
        )
      }
      // Lower the `time < to` bound to just above the anchor, so the index range scan starts at the
      // anchor rather than at `to`; the OR only breaks ties on the anchor's own millisecond.
      params[3] = Math.min(filter.to, anchor.time + 1)
      where.push('(time < ? OR seq < ?)')
      params.push(anchor.time, anchor.seq)
    }
    const index = chooseIndex(filter)
    const sql = `SELECT doc FROM traces INDEXED BY ${index} WHERE ${where.join(' AND ')} ORDER BY time DESC, seq DESC LIMIT ?`
    const rows = this.#stmt(sql).all(...params, limit + 1) as { doc: string }[]
    const hasMore = rows.length > limit
    const traces = rows.slice(0, limit).map((r) => JSON.parse(r.doc) as TraceRecord)
    return { traces, hasMore }
  }

  activity(filter: TraceFilter, start: number, step: number, top: number): Promise<TraceActivity> {
    return run('read', () => {
      const { where, params } = filterSql(filter)
      const index = chooseIndex(filter)
      const from = `FROM traces INDEXED BY ${index} WHERE ${where.join(' AND ')}`
      const rows = this.#stmt(
        `SELECT CAST((time - ?) / ? AS INTEGER) AS b, trace_rating AS r, count(*) AS n ${from}
         GROUP BY b, r ORDER BY b`,
      ).all(start, step, ...params) as { b: number; r: string; n: number }[]
      const { buckets, total } = activityBuckets(rows)
      const operations = (
        this.#stmt(
          `SELECT service_type AS serviceType, trace_name AS traceName, count(*) AS count,
             sum(trace_rating = 'warning') AS warning, sum(trace_rating = 'incident') AS incident
           ${from} GROUP BY service_type, trace_name
           ORDER BY count DESC, service_type, trace_name LIMIT ?`,
        ).all(...params, top) as TraceActivity['operations']
      ).map((o) => ({ ...o }))
      return { buckets, operations, total }
    })
  }

  get(projectId: string, traceId: string): Promise<TraceRecord | undefined> {
    return run('read', () => {
      const row = this.#stmt('SELECT doc FROM traces WHERE trace_id = ? AND project_id = ?').get(
        traceId,
        projectId,
      ) as { doc: string } | undefined
      return row === undefined ? undefined : (JSON.parse(row.doc) as TraceRecord)
    })
  }

  purgeBefore(time: number, maxRows: number): Promise<number> {
    return run('write', () => {
      const result = this.#stmt(
        'DELETE FROM traces WHERE seq IN (SELECT seq FROM traces WHERE time < ? LIMIT ?)',
      ).run(time, maxRows)
      return result.changes
    })
  }

  readFrom(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): Promise<SequencedTrace[]> {
    return run('read', () => {
      const rows = (
        scope === undefined
          ? this.#stmt('SELECT seq, doc FROM traces WHERE seq > ? ORDER BY seq LIMIT ?').all(
              afterSeq,
              limit,
            )
          : this.#stmt(
              `SELECT seq, doc FROM traces WHERE seq > ? AND seq <= ? AND project_id = ?
               ORDER BY seq LIMIT ?`,
            ).all(afterSeq, scope.maxSeq, scope.projectId, limit)
      ) as { seq: number; doc: string }[]
      return rows.map((r) => ({ seq: r.seq, trace: JSON.parse(r.doc) as TraceRecord }))
    })
  }

  headSeq(): Promise<number> {
    return run('read', () => {
      // AUTOINCREMENT keeps the highest seq ever used in sqlite_sequence, even after purges.
      const row = this.#stmt("SELECT seq FROM sqlite_sequence WHERE name = 'traces'").get() as
        { seq: number } | undefined
      return row?.seq ?? 0
    })
  }

  operators(projectId: string, since: number): Promise<string[]> {
    return run('read', () => {
      const rows = this.#stmt(
        'SELECT user_name FROM operators WHERE project_id = ? AND last_seen >= ? ORDER BY user_name',
      ).all(projectId, since) as { user_name: string }[]
      return rows.map((r) => r.user_name)
    })
  }

  catalogue(projectId: string): Promise<CatalogueEntry[]> {
    return run(
      'read',
      () =>
        this.#stmt(
          'SELECT service_type, resource_type, trace_name FROM catalogue WHERE project_id = ? ORDER BY service_type, resource_type, trace_name',
        ).all(projectId) as CatalogueEntry[],
    )
  }
}
