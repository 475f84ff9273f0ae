/**
 * @module store/postgres/postgres-trace-store
 * TraceStore on PostgreSQL, shared by many nodes. An append numbers its traces in commit order:
 * it locks the one `trace_head` row, takes `head + 1 …`, writes and commits, so the lock is released
 * only once its rows are visible, and the next append (on any node) numbers after them. A reader of
 * `readFrom(seq)` therefore never passes a trace that commits later with a smaller seq, and each
 * project's Merkle appends are ordered the same way (no fork). The price: appends are serialised
 * on the database. The heavy work (documents, leaf hashes — off the event loop for large batches —,
 * day partitions) is done before BEGIN; under the lock an append reads the batch's stored keys, the
 * tree sizes and frontier nodes, and writes the rows by COPY and the rest in one statement
 * (trace-append.ts). Reads go through a PgReader: the pool, or a read-only store's snapshot.
 */
import { searchTooWide } from '../search-bound.js'
import { ctsError, OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import type {
  AppendResult,
  CatalogueEntry,
  MerkleHashing,
  PageCursor,
  SequencedTrace,
  StatField,
  StatisticsSpec,
  TraceActivity,
  TraceFilter,
  TracePage,
  TraceStatistics,
  TraceStore,
} from '../store.js'
import { StatisticsTally, STATISTICS_MAX_CELLS } from '../statistics-tally.js'
import { EXTRA_COLUMN_SQL } from './schema-traces.js'
import { searchSql } from './search-sql.js'
import type { PgDatabase, PgExecutor, PgTraceAppender } from './pg-database.js'
import type { PgReader } from './pg-snapshot.js'
import { appendLocked, prepareBatch, type AppendOptions } from './trace-append.js'
import { FILTER_SQL } from '../trace-columns.js'
import { activityBuckets } from '../rows.js'
import { DAY_MS, isMissingPartition, TracePartitions } from './trace-partitions.js'

/** The SQL value of a statistics field. */
function statColumn(field: StatField): string {
  return field === 'source_ip' || field === 'code' ? EXTRA_COLUMN_SQL[field] : field
}

/** The WHERE clause of a filter, its parameters numbered from $1 (more can be pushed). */
function filterSql(filter: TraceFilter, withSearch = true): { where: string[]; params: unknown[] } {
  const params: unknown[] = [filter.projectId, filter.category, filter.from, filter.to]
  const where = ['project_id = $1', 'category = $2', 'time > $3', 'time < $4']
  for (const [key, column] of FILTER_SQL) {
    const value = filter[key]
    if (typeof value === 'string') where.push(`${column} = $${params.push(value)}`)
  }
  if (withSearch && filter.search !== undefined) where.push(searchSql(filter.search.root, params))
  return { where, params }
}

export interface PgTraceStoreOptions {
  /** The Merkle log's hashing; without it the log is off (no leaf index, no node). */
  readonly merkle?: MerkleHashing
  /** Sent on COMMIT_CHANNEL by every append that stored traces. */
  readonly nodeName: string
  /** Reads go through this (the snapshot of a read-only store); default the database. */
  readonly reader?: PgReader
  /** Every write fails with OCTS_ERR_WRITE_FAILED. */
  readonly readonly?: boolean
}

export class PgTraceStore implements TraceStore, PgTraceAppender {
  readonly #db: PgDatabase
  readonly #reader: PgReader
  readonly #merkle: MerkleHashing | undefined
  readonly #readonly: boolean
  readonly #partitions: TracePartitions
  readonly #appendOptions: AppendOptions

  constructor(db: PgDatabase, options: PgTraceStoreOptions) {
    this.#db = db
    this.#reader = options.reader ?? db
    this.#merkle = options.merkle
    this.#readonly = options.readonly === true
    this.#partitions = new TracePartitions(db)
    this.#appendOptions = { merkle: options.merkle, nodeName: options.nodeName }
  }

  #writable(): void {
    if (this.#readonly)
      throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', { message: 'the store is open read-only' })
  }

  async append(traces: readonly TraceRecord[]): Promise<AppendResult> {
    this.#writable()
    if (traces.length === 0) return { inserted: [], duplicates: [], leafIndexes: new Map() }
    const prepared = await prepareBatch(traces, this.#merkle)
    // Bounded: one retry, after another node dropped a day partition this node had cached.
    for (let attempt = 0; ; attempt++) {
      await this.#partitions.ensure(traces.map((t) => t.time))
      try {
        const result = await this.#db.transaction((tx) =>
          appendLocked(tx, traces, prepared, this.#appendOptions),
        )
        if (result.inserted.length > 0) this.#db.storage?.markWritable()
        return result
      } catch (error) {
        if (attempt > 0 || !isMissingPartition(error)) throw error
        this.#partitions.forget()
      }
    }
  }

  /**
   * Appends inside the caller's READ COMMITTED transaction (a configuration change's self-audit
   * traces commit with the change): the same head lock, numbering and Merkle append as `append`.
   * The day partitions are created beforehand on another connection of the pool (usually cached).
   * Sets the transaction's `idle_in_transaction_session_timeout` (30 s), as `append` does.
   */
  async appendIn(tx: PgExecutor, traces: readonly TraceRecord[]): Promise<AppendResult> {
    this.#writable()
    if (traces.length === 0) return { inserted: [], duplicates: [], leafIndexes: new Map() }
    const prepared = await prepareBatch(traces, this.#merkle)
    await this.#partitions.ensure(traces.map((t) => t.time))
    return appendLocked(tx, traces, prepared, this.#appendOptions)
  }

  /**
   * Refuses a search whose window and exact filters select more than its bound (counted on the
   * filters' indexes, stopping past the bound), as the other engine does.
   */
  async #searchScope(filter: TraceFilter): Promise<void> {
    const search = filter.search
    if (search === undefined) return
    const { where, params } = filterSql(filter, false)
    const rows = await this.#reader.query<{ n: number }>(
      'read',
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM traces WHERE ${where.join(' AND ')}
         LIMIT ${search.maxScan + 1}) s`,
      params,
    )
    if ((rows[0]?.n ?? 0) > search.maxScan) throw searchTooWide(search.maxScan)
  }

  async page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage> {
    await this.#searchScope(filter)
    const { where, params } = filterSql(filter)
    if (after !== null) {
      const anchor = await this.#reader.query<{ time: number; seq: number }>(
        'read',
        'SELECT time, seq FROM trace_keys WHERE project_id = $1 AND trace_id = $2',
        [filter.projectId, after.traceId],
      )
      const at = anchor[0]
      if (at === undefined)
        throw ctsError(
          'OCTS_ERR_QUERY',
          `Query failed: the next marker ${after.traceId} does not identify a stored trace of this project (expired after 7 days, or not a marker).`,
        )
      where.push(`(time, seq) < ($${params.push(at.time)}, $${params.push(at.seq)})`)
    }
    const rows = await this.#reader.query<{ doc: string }>(
      'read',
      `SELECT doc FROM traces WHERE ${where.join(' AND ')}
       ORDER BY time DESC, seq DESC LIMIT $${params.push(limit + 1)}`,
      params,
    )
    return {
      traces: rows.slice(0, limit).map((r) => JSON.parse(r.doc) as TraceRecord),
      hasMore: rows.length > limit,
    }
  }

  async statistics(filter: TraceFilter, spec: StatisticsSpec): Promise<TraceStatistics> {
    await this.#searchScope(filter)
    const { where, params } = filterSql(filter)
    const from = `FROM traces WHERE ${where.join(' AND ')}`
    const groups = spec.groupBy.map((f, i) => `${statColumn(f)} AS g${i}`)
    const groupCols = spec.groupBy.map((_, i) => `g${i}`)
    const valuesOf = (row: Record<string, unknown>): (string | null)[] =>
      spec.groupBy.map((_, i) => (row[`g${i}`] as string | null | undefined) ?? null)
    // Bounded: one row past what the tally may keep is enough for it to refuse the query.
    const cap = STATISTICS_MAX_CELLS + 1
    const tally = new StatisticsTally(spec)
    const select = (extra: string[], group: string[]): string =>
      `SELECT ${[...groups, ...extra, 'count(*)::int AS n'].join(', ')} ${from}
       ${group.length > 0 ? `GROUP BY ${group.join(', ')}` : ''} LIMIT ${cap}`
    const counted = await this.#reader.query<Record<string, unknown> & { n: number; d?: string }>(
      'read',
      spec.distinct === null
        ? select([], groupCols)
        : select([`${statColumn(spec.distinct)} AS d`], [...groupCols, 'd']),
      params,
    )
    for (const row of counted) {
      const values = valuesOf(row)
      tally.count(values, row.n)
      if (spec.distinct !== null) tally.distinct(values, row.d ?? null)
    }
    if (spec.buckets !== null) {
      const n = params.length
      const rows = await this.#reader.query<Record<string, unknown> & { n: number; b: string }>(
        'read',
        select([`(time - $${n + 1}::bigint) / $${n + 2}::bigint AS b`], [...groupCols, 'b']),
        [...params, spec.buckets.start, spec.buckets.step],
      )
      for (const row of rows) tally.bucket(valuesOf(row), Number(row.b), row.n)
    }
    return tally.result()
  }

  async activity(
    filter: TraceFilter,
    start: number,
    step: number,
    top: number,
  ): Promise<TraceActivity> {
    await this.#searchScope(filter)
    const { where, params } = filterSql(filter)
    const from = `FROM traces WHERE ${where.join(' AND ')}`
    const n = params.length
    const rows = await this.#reader.query<{ b: number; r: string; n: number }>(
      'read',
      `SELECT (time - $${n + 1}::bigint) / $${n + 2}::bigint AS b, trace_rating AS r, count(*)::int AS n
       ${from} GROUP BY 1, 2 ORDER BY 1`,
      [...params, start, step],
    )
    const { buckets, total } = activityBuckets(rows)
    const operations = await this.#reader.query<TraceActivity['operations'][number]>(
      'read',
      `SELECT service_type AS "serviceType", trace_name AS "traceName", count(*)::int AS count,
         (count(*) FILTER (WHERE trace_rating = 'warning'))::int AS warning,
         (count(*) FILTER (WHERE trace_rating = 'incident'))::int AS incident
       ${from} GROUP BY service_type, trace_name
       ORDER BY 3 DESC, service_type COLLATE "C", trace_name COLLATE "C" LIMIT $${n + 1}`,
      [...params, top],
    )
    return { buckets, operations: operations.map((o) => ({ ...o })), total }
  }

  async get(projectId: string, traceId: string): Promise<TraceRecord | undefined> {
    const rows = await this.#reader.query<{ doc: string }>(
      'read',
      `SELECT t.doc FROM trace_keys k JOIN traces t
         ON t.project_id = k.project_id AND t.time = k.time AND t.seq = k.seq
       WHERE k.project_id = $1 AND k.trace_id = $2`,
      [projectId, traceId],
    )
    const row = rows[0]
    return row === undefined ? undefined : (JSON.parse(row.doc) as TraceRecord)
  }

  /**
   * Deletes at most `maxRows` traces older than `time`: first whole day partitions entirely before
   * `time` that hold no more than the remaining budget (dropped with their keys: no per-row work
   * on `traces`), then row by row. A day larger than the budget is emptied row-wise over several
   * calls and dropped once it fits. The Merkle nodes are never deleted.
   */
  /**
   * Retention by whole days: a day whose partition ends at or before `time` is purged — its
   * idempotency keys deleted (at most `maxRows` per call, they are small rows), then its
   * partition dropped at once (the trace rows and their indexes: no row-by-row delete, no vacuum
   * debt). The day `time` falls in is kept whole until it has passed: its traces older than `time`
   * stay stored up to a day longer, never shown (queries and `get` answer within the retention).
   * Returns the traces purged (their keys deleted).
   */
  async purgeBefore(time: number, maxRows: number): Promise<number> {
    this.#writable()
    let purged = 0
    for (const day of await this.#partitions.list()) {
      if ((day + 1) * DAY_MS > time || purged >= maxRows) break
      const budget = maxRows - purged
      const deleted = await this.#partitions.deleteKeys(day, budget)
      purged += deleted
      if (deleted === budget) break
      if (!(await this.#partitions.dropDay(day))) break
    }
    return purged
  }

  async readFrom(
    afterSeq: number,
    limit: number,
    scope?: { readonly projectId: string; readonly maxSeq: number },
  ): Promise<SequencedTrace[]> {
    const rows =
      scope === undefined
        ? await this.#reader.query<{ seq: number; doc: string }>(
            'read',
            'SELECT seq, doc FROM traces WHERE seq > $1 ORDER BY seq LIMIT $2',
            [afterSeq, limit],
          )
        : await this.#reader.query<{ seq: number; doc: string }>(
            'read',
            `SELECT seq, doc FROM traces WHERE project_id = $1 AND seq > $2 AND seq <= $3
             ORDER BY seq LIMIT $4`,
            [scope.projectId, afterSeq, scope.maxSeq, limit],
          )
    return rows.map((r) => ({ seq: r.seq, trace: JSON.parse(r.doc) as TraceRecord }))
  }

  async headSeq(): Promise<number> {
    const rows = await this.#reader.query<{ seq: number }>(
      'read',
      'SELECT seq FROM trace_head WHERE id = 1',
    )
    return rows[0]?.seq ?? 0
  }

  async operators(projectId: string, since: number): Promise<string[]> {
    const rows = await this.#reader.query<{ user_name: string }>(
      'read',
      `SELECT user_name FROM trace_operators WHERE project_id = $1 AND last_seen >= $2
       ORDER BY user_name COLLATE "C"`,
      [projectId, since],
    )
    return rows.map((r) => r.user_name)
  }

  async catalogue(projectId: string): Promise<CatalogueEntry[]> {
    return (
      await this.#reader.query<CatalogueEntry>(
        'read',
        `SELECT service_type, resource_type, trace_name FROM trace_catalogue WHERE project_id = $1
         ORDER BY service_type COLLATE "C", resource_type COLLATE "C", trace_name COLLATE "C"`,
        [projectId],
      )
    ).map((r) => ({ ...r }))
  }
}
