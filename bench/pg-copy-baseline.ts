/**
 * @module bench/pg-copy-baseline
 * The PostgreSQL baseline of the ingest figures: raw `COPY … FROM STDIN` (pg-copy-streams, text
 * format) of the same normalised rows the servers store, into a table with the indexes of the
 * engine's traces table, one COPY + COMMIT per 1,000 rows on one connection. Rows are prepared
 * (parsed, normalised, encoded as COPY text) before the clock starts: only the COPY and its COMMIT
 * are timed, as the SQLite baseline times only its insert transactions. The CPU of the database's
 * PostgreSQL processes is measured over the same timed phases.
 *
 * BASELINE_TABLE_SQL mirrors the PostgreSQL engine's traces schema (src/store/postgres/
 * schema-traces.ts): `traces` range-partitioned by day on `time` with the primary key `(project_id,
 * category, time, seq)` and its indexes `(seq)`, `(project_id, seq)` and one `(project_id, <filter
 * column>, time, seq)` per CTS filter column, and `trace_keys`, the per-project idempotency key
 * `(project_id, trace_id)` with its `(time)` index (the SQLite baseline's table has the same unique
 * key). Each batch is two COPYs (the rows, their keys) in one transaction; `seq` is numbered by the
 * benchmark and the day partitions exist before the clock starts. So the baseline is the cheapest
 * way PostgreSQL can take the same rows into the same tables and indexes; what the engine adds (the
 * head-row lock, the idempotency check, the Merkle log, operators and catalogue) is the difference.
 */
import { randomUUID } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { normalizeTrace } from '../src/model/index.js'
import { FILTER_COLUMNS } from '../src/store/sqlite/schema.js'
import { traceRow } from '../src/store/sqlite/sqlite-trace-store.js'
import { clientConfig, type BenchDatabase } from './pg-bench-database.js'
import { CpuMeter } from './proc-cpu.js'
import { ProgressBar } from './progress-bar.js'

/** The columns of `traceRow`, in its order. */
const COLUMNS = [
  'trace_id',
  'project_id',
  'time',
  'category',
  'tracker_name',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user_name',
  'access_key_id',
  'enterprise_project_id',
  'doc',
] as const

const DAY_MS = 86_400_000

export const BASELINE_TABLE_SQL = `
CREATE TABLE traces (
  seq bigint NOT NULL,
  trace_id text NOT NULL,
  project_id text NOT NULL,
  time bigint NOT NULL,
  category text NOT NULL,
  tracker_name text,
  service_type text NOT NULL,
  resource_type text NOT NULL,
  resource_id text,
  resource_name text,
  trace_name text NOT NULL,
  trace_rating text NOT NULL,
  user_name text,
  access_key_id text,
  enterprise_project_id text,
  doc text NOT NULL,
  leaf_index bigint,
  PRIMARY KEY (project_id, category, time, seq)
) PARTITION BY RANGE (time);
CREATE INDEX traces_by_seq ON traces (seq);
CREATE INDEX traces_by_project_seq ON traces (project_id, seq);
${FILTER_COLUMNS.map((c) => `CREATE INDEX traces_by_${c} ON traces (project_id, ${c}, time, seq);`).join('\n')}
CREATE TABLE trace_keys (
  project_id text NOT NULL,
  trace_id text NOT NULL,
  time bigint NOT NULL,
  seq bigint NOT NULL,
  leaf_index bigint,
  PRIMARY KEY (project_id, trace_id)
);
CREATE INDEX trace_keys_by_time ON trace_keys (time);
`

/** The day partition of `traces` holding `time` (bounds are computed integers). */
function partitionSql(time: number): string {
  const day = Math.floor(time / DAY_MS)
  return `CREATE TABLE IF NOT EXISTS traces_day_${day} PARTITION OF traces
    FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`
}

/** One value in COPY text format: `\N` for null, backslash escapes for the special characters. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}

/** One batch as COPY text: the `traces` rows and their `trace_keys` rows. */
interface CopyBatch {
  readonly traces: string
  readonly keys: string
  readonly count: number
  readonly times: readonly number[]
}

/** The COPY text of one batch body (`{"traces": [...]}`) stored under `projectId`. */
function copyBatch(body: string, projectId: string, seq: { next: number }): CopyBatch {
  const rows: string[] = []
  const keys: string[] = []
  const times: number[] = []
  for (const input of (JSON.parse(body) as { traces: unknown[] }).traces) {
    const result = normalizeTrace(input, { projectId, now: Date.now(), newId: randomUUID })
    if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
    const t = result.trace
    const n = seq.next++
    rows.push([n, ...traceRow(t)].map(copyText).join('\t'))
    keys.push([t.project_id, t.trace_id, t.time, n].map(copyText).join('\t'))
    times.push(t.time)
  }
  return { traces: rows.join('\n') + '\n', keys: keys.join('\n') + '\n', count: rows.length, times }
}

export interface CopyResult {
  readonly tracesPerSecond: number
  /** CPU µs per trace of the database's PostgreSQL processes during the timed COPYs. */
  readonly postgresCpuMicrosPerTrace: number
  /** `pg_total_relation_size` of the day partitions and `trace_keys` after the COPYs, per trace. */
  readonly bytesPerTrace: number
}

/**
 * COPYs `bodies` (batch i stored under `projectOf(i)`) into BASELINE_TABLE_SQL in `database`, after
 * the warm-up bodies (not timed).
 */
export async function copyBaseline(
  database: BenchDatabase,
  warmup: readonly string[],
  bodies: readonly string[],
  projectOf: (batch: number) => string,
): Promise<CopyResult> {
  const client = new pg.Client(clientConfig(database.url))
  client.on('error', () => undefined)
  await client.connect()
  try {
    await client.query(BASELINE_TABLE_SQL)
    const copyInto = (table: string, columns: readonly string[], text: string): Promise<void> =>
      pipeline(
        Readable.from([text]),
        client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)),
      )
    const copy = async (batch: CopyBatch): Promise<void> => {
      await client.query('BEGIN')
      await copyInto('traces', ['seq', ...COLUMNS], batch.traces)
      await copyInto('trace_keys', ['project_id', 'trace_id', 'time', 'seq'], batch.keys)
      await client.query('COMMIT')
    }
    const seq = { next: 1 }
    const prepare = (body: string, index: number): CopyBatch =>
      copyBatch(body, projectOf(index), seq)
    const warm = warmup.map(prepare)
    const batches = bodies.map(prepare)
    const days = new Set([...warm, ...batches].flatMap((b) => b.times.map((t) => partitionSql(t))))
    for (const sql of days) await client.query(sql)
    for (const batch of warm) await copy(batch)
    const meter = new CpuMeter({ nodePids: [], database: database.name })
    const bar = new ProgressBar('PostgreSQL COPY baseline', batches.length)
    let seconds = 0
    let traces = 0
    for (const [index, batch] of batches.entries()) {
      meter.start()
      const started = performance.now()
      await copy(batch)
      seconds += (performance.now() - started) / 1000
      meter.stop()
      traces += batch.count
      bar.update(index + 1)
    }
    bar.done()
    const size = await client.query<{ bytes: number | string }>(
      `SELECT sum(pg_total_relation_size(c.oid)) AS bytes FROM pg_class c
       WHERE c.relname IN ('trace_keys') OR c.oid IN
         (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'traces'::regclass)`,
    )
    const rows = await client.query<{ n: number | string }>('SELECT count(*) AS n FROM traces')
    return {
      tracesPerSecond: traces / seconds,
      postgresCpuMicrosPerTrace: (meter.totals().postgresSeconds * 1e6) / traces,
      bytesPerTrace: Number(size.rows[0]?.bytes ?? 0) / Number(rows.rows[0]?.n ?? 1),
    }
  } finally {
    await client.end()
  }
}
