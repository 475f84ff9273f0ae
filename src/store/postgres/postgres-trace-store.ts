/**
 * @module store/postgres/postgres-trace-store
 * TraceStore on PostgreSQL, shared by many nodes. An append numbers its traces in commit order:
 * it locks the one `trace_head` row, takes `head + 1 …`, writes and commits, so the lock is released
 * only once its rows are visible, and the next append (on any node) numbers after them. A reader of
 * `readFrom(seq)` therefore never passes a trace that commits later with a smaller seq, and each
 * project's Merkle appends are ordered the same way (no fork). The price: appends are serialised
 * on the database. The heavy work (documents, leaf hashes — off the event loop for large batches —,
 * day partitions) is done before BEGIN; under the lock an append reads the batch's stored keys, the
 * tree sizes and frontier nodes, and writes everything in one statement (UNNEST arrays).
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { ctsError, OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import { appendLeaves, frontierKeys, nodeKey } from '../merkle-append.js'
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
import { toStoreError } from './driver-errors.js'
import {
  COMMIT_CHANNEL,
  type PgDatabase,
  type PgExecutor,
  type PgTraceAppender,
} from './pg-database.js'
import type { PgReader } from './pg-snapshot.js'
import { FILTER_SQL, traceColumns } from './trace-columns.js'
import { isMissingPartition, TracePartitions } from './trace-partitions.js'

/** Batches at least this large have their leaves hashed off the event loop (when possible). */
const OFFLOAD_MIN_TRACES = 64

/** The documents and leaf hashes of a batch, computed before its transaction (batch order). */
interface PreparedBatch {
  readonly documents: readonly string[]
  /** Undefined when the log is off. */
  readonly leafHashes: readonly Buffer[] | undefined
}

/** The columns of `traces` an append writes, in the order of `#appendLocked`'s rows. */
const TRACE_INSERT_COLUMNS = `seq, trace_id, project_id, time, category, tracker_name, service_type,
  resource_type, resource_id, resource_name, trace_name, trace_rating, user_name, access_key_id,
  enterprise_project_id, doc, leaf_index`

/**
 * Everything but the `traces` rows, in one statement: keys ($1 seq, $2 trace_id, $3 project_id,
 * $4 time, $5 leaf_index), nodes, sizes, operators, catalogue, the head and the wake-up of other
 * nodes (NOTIFY is delivered at commit). With `traces`, also the rows from UNNEST ($23… are the
 * columns category … doc).
 */
function writeSql(traces: boolean): string {
  const rows = traces
    ? `, t AS (
  INSERT INTO traces (${TRACE_INSERT_COLUMNS})
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $23::text[], $24::text[],
    $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[],
    $32::text[], $33::text[], $34::text[], $5::bigint[])
)`
    : ''
  return `
WITH k AS (
  INSERT INTO trace_keys (seq, trace_id, project_id, time, leaf_index)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
)${rows}, n AS (
  INSERT INTO merkle_nodes (project_id, level, idx, hash)
  SELECT * FROM unnest($6::text[], $7::smallint[], $8::bigint[], $9::bytea[])
), s AS (
  INSERT INTO merkle_trees (project_id, size) SELECT * FROM unnest($10::text[], $11::bigint[])
  ON CONFLICT (project_id) DO UPDATE SET size = excluded.size
), o AS (
  INSERT INTO trace_operators (project_id, user_name, last_seen)
  SELECT * FROM unnest($12::text[], $13::text[], $14::bigint[])
  ON CONFLICT (project_id, user_name)
  DO UPDATE SET last_seen = greatest(trace_operators.last_seen, excluded.last_seen)
), c AS (
  INSERT INTO trace_catalogue (project_id, service_type, resource_type, trace_name, last_seen)
  SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[])
  ON CONFLICT (project_id, service_type, resource_type, trace_name)
  DO UPDATE SET last_seen = greatest(trace_catalogue.last_seen, excluded.last_seen)
), h AS (
  UPDATE trace_head SET seq = $20 WHERE id = 1
)
SELECT pg_notify($21, $22)`
}

const WRITE_SQL = writeSql(false)
const WRITE_WITH_TRACES_SQL = writeSql(true)

/** A value in COPY's text format. */
function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  return String(value as string | number).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}

/** Rows per chunk written to the COPY stream. */
const COPY_CHUNK_ROWS = 256

/**
 * Writes the rows (TRACE_INSERT_COLUMNS order) with COPY FROM STDIN: 1,000 rows take about 40 %
 * less time than one INSERT … SELECT FROM unnest (see README.md), time spent under the head lock.
 */
async function copyTraces(
  client: pg.ClientBase,
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  const chunks = function* (): Generator<string> {
    for (let at = 0; at < rows.length; at += COPY_CHUNK_ROWS)
      yield rows
        .slice(at, at + COPY_CHUNK_ROWS)
        .map((row) => `${row.map(copyText).join('\t')}\n`)
        .join('')
  }
  await pipeline(
    Readable.from(chunks()),
    client.query(copyFrom(`COPY traces (${TRACE_INSERT_COLUMNS}) FROM STDIN`)),
  )
}

/** The WHERE clause of a filter, its parameters numbered from $1 (more can be pushed). */
function filterSql(filter: TraceFilter): { where: string[]; params: unknown[] } {
  const params: unknown[] = [filter.projectId, filter.category, filter.from, filter.to]
  const where = ['project_id = $1', 'category = $2', 'time > $3', 'time < $4']
  for (const [key, column] of FILTER_SQL) {
    const value = filter[key]
    if (value !== undefined) where.push(`${column} = $${params.push(value)}`)
  }
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
  readonly #nodeName: string
  readonly #readonly: boolean
  readonly #partitions: TracePartitions

  constructor(db: PgDatabase, options: PgTraceStoreOptions) {
    this.#db = db
    this.#reader = options.reader ?? db
    this.#merkle = options.merkle
    this.#nodeName = options.nodeName
    this.#readonly = options.readonly === true
    this.#partitions = new TracePartitions(db)
  }

  /** The day partitions (retention drops them; tests inspect them). */
  get partitions(): TracePartitions {
    return this.#partitions
  }

  #writable(): void {
    if (this.#readonly)
      throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', { message: 'the store is open read-only' })
  }

  /** Documents and leaf hashes, before any transaction (large batches hashed off the loop). */
  async #prepare(traces: readonly TraceRecord[]): Promise<PreparedBatch> {
    const hashing = this.#merkle
    try {
      if (hashing === undefined)
        return { documents: traces.map((t) => JSON.stringify(t)), leafHashes: undefined }
      const documents = traces.map((t) => hashing.document(t))
      const leafHashes =
        hashing.leafHashes !== undefined && traces.length >= OFFLOAD_MIN_TRACES
          ? await hashing.leafHashes(documents)
          : documents.map((d) => hashing.leafHash(d))
      return { documents, leafHashes }
    } catch (error) {
      throw toStoreError('write', error)
    }
  }

  async append(traces: readonly TraceRecord[]): Promise<AppendResult> {
    this.#writable()
    if (traces.length === 0) return { inserted: [], duplicates: [], leafIndexes: new Map() }
    const prepared = await this.#prepare(traces)
    // Bounded: one retry, after another node dropped a day partition this node had cached.
    for (let attempt = 0; ; attempt++) {
      await this.#partitions.ensure(traces.map((t) => t.time))
      try {
        const result = await this.#db.transaction((tx) => this.#appendLocked(tx, traces, prepared))
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
   * The day partitions are created beforehand on another connection of the pool.
   */
  async appendIn(tx: PgExecutor, traces: readonly TraceRecord[]): Promise<AppendResult> {
    this.#writable()
    if (traces.length === 0) return { inserted: [], duplicates: [], leafIndexes: new Map() }
    const prepared = await this.#prepare(traces)
    await this.#partitions.ensure(traces.map((t) => t.time))
    return this.#appendLocked(tx, traces, prepared)
  }

  /** The append under the head lock (see the module comment); `tx` is in a transaction. */
  async #appendLocked(
    tx: PgExecutor,
    traces: readonly TraceRecord[],
    prepared: PreparedBatch,
  ): Promise<AppendResult> {
    const locked = await tx.query<{ seq: number }>(
      'SELECT seq FROM trace_head WHERE id = 1 FOR UPDATE',
    )
    let seq = locked.rows[0]?.seq
    if (seq === undefined) throw new Error('trace_head has no row')
    // The first occurrence of each (project, id) of the batch; later ones are duplicates.
    const key = (t: TraceRecord): string => `${t.project_id}\u0000${t.trace_id}`
    const first = new Map<string, number>()
    for (const [i, t] of traces.entries()) if (!first.has(key(t))) first.set(key(t), i)
    const candidates = [...first.values()].map((i) => traces[i] as TraceRecord)
    // Under the lock no other append can store one of these keys before this one commits.
    const existing = await tx.query<TraceRecord & { leaf_index: number | null }>(
      `SELECT k.project_id, k.trace_id, k.leaf_index FROM trace_keys k
       JOIN unnest($1::text[], $2::text[]) AS b (project_id, trace_id) USING (project_id, trace_id)`,
      [candidates.map((t) => t.project_id), candidates.map((t) => t.trace_id)],
    )
    const stored = new Map(existing.rows.map((r) => [key(r), r.leaf_index]))
    const hashing = this.#merkle
    const trees = new Map<string, { from: number; leaves: Buffer[] }>()
    if (hashing !== undefined) {
      const projects = [
        ...new Set(candidates.filter((t) => !stored.has(key(t))).map((t) => t.project_id)),
      ]
      const sizes = await tx.query<{ project_id: string; size: number }>(
        'SELECT project_id, size FROM merkle_trees WHERE project_id = ANY($1::text[])',
        [projects],
      )
      const size = new Map(sizes.rows.map((r) => [r.project_id, r.size]))
      for (const p of projects) trees.set(p, { from: size.get(p) ?? 0, leaves: [] })
    }

    const inserted: string[] = []
    const duplicates: string[] = []
    const leafIndexes = new Map<string, number | null>()
    const rows: unknown[][] = []
    const operators = new Map<string, [string, string, number]>()
    const catalogue = new Map<string, [string, string, string, string, number]>()
    for (const [i, t] of traces.entries()) {
      const k = key(t)
      if (first.get(k) !== i || stored.has(k)) {
        duplicates.push(t.trace_id)
        if (hashing !== undefined && !leafIndexes.has(t.trace_id))
          leafIndexes.set(t.trace_id, stored.get(k) ?? null)
        continue
      }
      seq++
      let leaf: number | null = null
      const tree = trees.get(t.project_id)
      if (tree !== undefined) {
        leaf = tree.from + tree.leaves.length
        tree.leaves.push(prepared.leafHashes?.[i] as Buffer)
        leafIndexes.set(t.trace_id, leaf)
      }
      rows.push([seq, ...traceColumns(t), prepared.documents[i], leaf])
      inserted.push(t.trace_id)
      if (t.user_name !== null) {
        const ok = `${t.project_id}\u0000${t.user_name}`
        const prev = operators.get(ok)
        if (prev === undefined || prev[2] < t.time)
          operators.set(ok, [t.project_id, t.user_name, t.time])
      }
      const ck = `${t.project_id}\u0000${t.service_type}\u0000${t.resource_type}\u0000${t.trace_name}`
      const prev = catalogue.get(ck)
      if (prev === undefined || prev[4] < t.time)
        catalogue.set(ck, [t.project_id, t.service_type, t.resource_type, t.trace_name, t.time])
    }
    if (inserted.length === 0) return { inserted, duplicates, leafIndexes }

    const nodes = await this.#merkleNodes(tx, trees)
    const column = <T>(rows: readonly (readonly unknown[])[], c: number): T[] =>
      rows.map((r) => r[c] as T)
    const ops = [...operators.values()]
    const cat = [...catalogue.values()]
    const sizes = [...trees].filter(([, tree]) => tree.leaves.length > 0)
    // rows: seq, trace_id, project_id, time, category … doc (traceColumns order), leaf_index.
    const params = [
      column<number>(rows, 0),
      column<string>(rows, 1),
      column<string>(rows, 2),
      column<number>(rows, 3),
      column<number | null>(rows, 16),
      column<string>(nodes, 0),
      column<number>(nodes, 1),
      column<number>(nodes, 2),
      column<Buffer>(nodes, 3),
      sizes.map(([p]) => p),
      sizes.map(([, tree]) => tree.from + tree.leaves.length),
      column<string>(ops, 0),
      column<string>(ops, 1),
      column<number>(ops, 2),
      column<string>(cat, 0),
      column<string>(cat, 1),
      column<string>(cat, 2),
      column<string>(cat, 3),
      column<number>(cat, 4),
      seq,
      COMMIT_CHANNEL,
      this.#nodeName,
    ]
    // COPY needs the driver's client (a pool client always is one); else the rows go by UNNEST.
    if (tx instanceof pg.Client) {
      await copyTraces(tx, rows)
      await tx.query(WRITE_SQL, params)
    } else
      await tx.query(WRITE_WITH_TRACES_SQL, [
        ...params,
        ...Array.from({ length: 12 }, (_, c) => column<string | null>(rows, 4 + c)),
      ])
    return { inserted, duplicates, leafIndexes }
  }

  /** Reads each tree's frontier in one query and computes the new subtrees `[p, level, idx, hash]`. */
  async #merkleNodes(
    tx: PgExecutor,
    trees: ReadonlyMap<string, { from: number; leaves: Buffer[] }>,
  ): Promise<[string, number, number, Buffer][]> {
    const hashing = this.#merkle
    if (hashing === undefined) return []
    const want: [string, number, number][] = []
    for (const [p, tree] of trees)
      if (tree.leaves.length > 0)
        for (const [level, index] of frontierKeys(tree.from)) want.push([p, level, index])
    const frontiers = new Map<string, Map<string, Buffer>>()
    if (want.length > 0) {
      const rows = await tx.query<{ project_id: string; level: number; idx: number; hash: Buffer }>(
        `SELECT n.project_id, n.level, n.idx, n.hash FROM merkle_nodes n
         JOIN unnest($1::text[], $2::smallint[], $3::bigint[]) AS f (project_id, level, idx)
         USING (project_id, level, idx)`,
        [want.map((w) => w[0]), want.map((w) => w[1]), want.map((w) => w[2])],
      )
      for (const r of rows.rows) {
        let frontier = frontiers.get(r.project_id)
        if (frontier === undefined) {
          frontier = new Map()
          frontiers.set(r.project_id, frontier)
        }
        frontier.set(nodeKey(r.level, r.idx), r.hash)
      }
    }
    const out: [string, number, number, Buffer][] = []
    for (const [p, tree] of trees) {
      if (tree.leaves.length === 0) continue
      const { nodes } = appendLeaves(
        hashing,
        tree.from,
        frontiers.get(p) ?? new Map(),
        tree.leaves,
        p,
      )
      for (const [level, index, hash] of nodes) out.push([p, level, index, hash])
    }
    return out
  }

  async page(filter: TraceFilter, after: PageCursor | null, limit: number): Promise<TracePage> {
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

  async activity(
    filter: TraceFilter,
    start: number,
    step: number,
    top: number,
  ): Promise<TraceActivity> {
    const { where, params } = filterSql(filter)
    const from = `FROM traces WHERE ${where.join(' AND ')}`
    const n = params.length
    const rows = await this.#reader.query<{ b: number; r: string; n: number }>(
      'read',
      `SELECT (time - $${n + 1}::bigint) / $${n + 2}::bigint AS b, trace_rating AS r, count(*)::int AS n
       ${from} GROUP BY 1, 2 ORDER BY 1`,
      [...params, start, step],
    )
    const buckets = new Map<number, TraceActivity['buckets'][number]>()
    let total = 0
    for (const row of rows) {
      let bucket = buckets.get(row.b)
      if (bucket === undefined) {
        bucket = { index: row.b, normal: 0, warning: 0, incident: 0 }
        buckets.set(row.b, bucket)
      }
      if (row.r === 'warning' || row.r === 'incident') bucket[row.r] += row.n
      else bucket.normal += row.n
      total += row.n
    }
    const operations = await this.#reader.query<TraceActivity['operations'][number]>(
      'read',
      `SELECT service_type AS "serviceType", trace_name AS "traceName", count(*)::int AS count,
         (count(*) FILTER (WHERE trace_rating = 'warning'))::int AS warning,
         (count(*) FILTER (WHERE trace_rating = 'incident'))::int AS incident
       ${from} GROUP BY service_type, trace_name
       ORDER BY 3 DESC, service_type COLLATE "C", trace_name COLLATE "C" LIMIT $${n + 1}`,
      [...params, top],
    )
    return { buckets: [...buckets.values()], operations: operations.map((o) => ({ ...o })), total }
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
  async purgeBefore(time: number, maxRows: number): Promise<number> {
    this.#writable()
    let purged = 0
    for (const day of await this.#partitions.list()) {
      if ((day + 1) * 86_400_000 > time || purged >= maxRows) break
      const dropped = await this.#partitions.drop(day, maxRows - purged)
      if (dropped === undefined) break
      purged += dropped
    }
    if (purged >= maxRows) return purged
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH v AS (
         SELECT project_id, category, time, seq FROM traces WHERE time < $1 LIMIT $2
       ), d AS (
         DELETE FROM traces t USING v
         WHERE t.project_id = v.project_id AND t.category = v.category AND t.time = v.time
           AND t.seq = v.seq
         RETURNING t.project_id, t.trace_id, t.seq
       ), k AS (
         DELETE FROM trace_keys k USING d
         WHERE k.project_id = d.project_id AND k.trace_id = d.trace_id AND k.seq = d.seq
       )
       SELECT count(*)::int AS n FROM d`,
      [time, maxRows - purged],
    )
    return purged + (rows[0]?.n ?? 0)
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
