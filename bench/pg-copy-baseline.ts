/**
 * @module bench/pg-copy-baseline
 * The PostgreSQL baseline of the ingest figures: raw `COPY … FROM STDIN` (pg-copy-streams, text
 * format) of the same normalised rows the servers store, into a table with the indexes of the
 * engine's traces table, one COPY + COMMIT per 1,000 rows on one connection. Rows are prepared
 * (parsed, normalised, encoded as COPY text) before the clock starts: only the COPY and its COMMIT
 * are timed, as the SQLite baseline times only its insert transactions. The CPU of the database's
 * PostgreSQL processes is measured over the same timed phases.
 *
 * BASELINE_TABLE_SQL is a copy of the SQLite engine's traces table (the same columns, the unique
 * `(project_id, trace_id)` and its 11 indexes: `(project_id, time)`, `(time)` and one
 * `(project_id, <filter column>, time)` per CTS filter column), since the benchmark compares the
 * engine with the cheapest way PostgreSQL can take the same rows and the same indexes.
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

export const BASELINE_TABLE_SQL = `
CREATE TABLE traces (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  trace_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  time BIGINT NOT NULL,
  category TEXT NOT NULL,
  tracker_name TEXT,
  service_type TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT,
  resource_name TEXT,
  trace_name TEXT NOT NULL,
  trace_rating TEXT NOT NULL,
  user_name TEXT,
  access_key_id TEXT,
  enterprise_project_id TEXT,
  doc TEXT NOT NULL,
  leaf_index BIGINT,
  UNIQUE (project_id, trace_id)
);
CREATE INDEX traces_by_project_time ON traces (project_id, time);
CREATE INDEX traces_by_time ON traces (time);
${FILTER_COLUMNS.map((c) => `CREATE INDEX traces_by_${c} ON traces (project_id, ${c}, time);`).join('\n')}
`

/** One value in COPY text format: `\N` for null, backslash escapes for the special characters. */
export function copyText(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}

/** The COPY text of one batch body (`{"traces": [...]}`) stored under `projectId`. */
export function copyBatch(body: string, projectId: string): string {
  const lines: string[] = []
  for (const input of (JSON.parse(body) as { traces: unknown[] }).traces) {
    const result = normalizeTrace(input, { projectId, now: Date.now(), newId: randomUUID })
    if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
    lines.push(traceRow(result.trace).map(copyText).join('\t'))
  }
  return lines.join('\n') + '\n'
}

export interface CopyResult {
  readonly tracesPerSecond: number
  /** CPU µs per trace of the database's PostgreSQL processes during the timed COPYs. */
  readonly postgresCpuMicrosPerTrace: number
  /** `pg_total_relation_size` of the table after the COPYs, per trace. */
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
    const copy = async (text: string): Promise<void> => {
      await client.query('BEGIN')
      await pipeline(
        Readable.from([text]),
        client.query(copyFrom(`COPY traces (${COLUMNS.join(', ')}) FROM STDIN`)),
      )
      await client.query('COMMIT')
    }
    for (const [index, body] of warmup.entries()) await copy(copyBatch(body, projectOf(index)))
    const batches = bodies.map((body, index) => copyBatch(body, projectOf(index)))
    const meter = new CpuMeter({ nodePids: [], database: database.name })
    const bar = new ProgressBar('PostgreSQL COPY baseline', batches.length)
    let seconds = 0
    let traces = 0
    for (const [index, text] of batches.entries()) {
      meter.start()
      const started = performance.now()
      await copy(text)
      seconds += (performance.now() - started) / 1000
      meter.stop()
      traces += text.split('\n').length - 1
      bar.update(index + 1)
    }
    bar.done()
    const size = await client.query<{ bytes: number | string }>(
      `SELECT pg_total_relation_size('traces') AS bytes`,
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
