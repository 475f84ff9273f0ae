/**
 * @module bench/pg-copy-baseline
 * The PostgreSQL baseline of the ingest figures: raw `COPY … FROM STDIN` (pg-copy-streams, text
 * format) of the same normalised rows the servers store, into a table with the indexes of the
 * engine's traces table, one COPY + COMMIT per 1,000 rows on one connection. Rows are prepared
 * (parsed, normalised, encoded as COPY text) before the clock starts: only the COPY and its COMMIT
 * are timed, as the SQLite baseline times only its insert transactions. The CPU of the database's
 * PostgreSQL processes is measured over the same timed phases.
 *
 * The tables are the engine's own: the traces port's schema of the PostgreSQL engine (TRACES_SQL of
 * src/store/postgres/schema-traces.ts) is created in the baseline's database, so `traces` is
 * range-partitioned by day with the engine's primary key and indexes, and `trace_keys` holds the
 * per-project idempotency key (the SQLite baseline's table has the same unique key). Each batch is
 * two COPYs (the rows with their documents, their keys) in one transaction; `seq` is numbered by
 * the benchmark, and the day partitions (named and bounded as the engine does) exist before the
 * clock starts. So the baseline is the cheapest way PostgreSQL can take the same rows into the
 * same tables and indexes; what the engine adds (the head-row lock, the idempotency check, the
 * Merkle log, operators and catalogue) is the difference.
 */
import { randomUUID } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { normalizeTrace } from '../src/model/index.js'
import { TRACES_SQL } from '../src/store/postgres/schema-traces.js'
import { TRACE_COLUMNS, traceColumns } from '../src/store/trace-columns.js'
import { DAY_MS, dayOf, partitionName } from '../src/store/postgres/trace-partitions.js'
import { clientConfig, type BenchDatabase } from './pg-bench-database.js'
import { CpuMeter } from './proc-cpu.js'
import { ProgressBar } from './progress-bar.js'

/** The day partition of `traces` holding `time`, as the engine names and bounds it. */
function partitionSql(time: number): string {
  const day = dayOf(time)
  return `CREATE TABLE IF NOT EXISTS ${partitionName(day)} PARTITION OF traces
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
    rows.push([n, ...traceColumns(t), JSON.stringify(t)].map(copyText).join('\t'))
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
 * COPYs `bodies` (batch i stored under `projectOf(i)`) into the engine's tables in `database`, after
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
    await client.query(TRACES_SQL)
    const copyInto = (table: string, columns: readonly string[], text: string): Promise<void> =>
      pipeline(
        Readable.from([text]),
        client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)),
      )
    const copy = async (batch: CopyBatch): Promise<void> => {
      await client.query('BEGIN')
      await copyInto('traces', ['seq', ...TRACE_COLUMNS, 'doc'], batch.traces)
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
