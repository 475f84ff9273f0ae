/**
 * @module bench/postgres-report
 * The PostgreSQL section's lines of the benchmark's markdown: a facts line, and rows of the one
 * table (measure, OpenCTS, baseline, ratio) — ingest vs raw COPY, 2 nodes vs 1 node (traces/s and
 * CPU per trace) into many projects and into one hot project, query latency per filter, and bytes
 * per trace of each engine.
 */
import type { Latency } from './percentiles.js'
import type { IngestPair, PostgresResult } from './postgres-bench.js'

/** The section's outcome: figures, or why there are none. */
export type PostgresSection =
  | { readonly status: 'done'; readonly result: PostgresResult }
  | { readonly status: 'skipped' | 'failed'; readonly reason: string }

const n = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (l: Latency): string => `${n(l.p50, 2)} / ${n(l.p99, 2)}`
const percent = (value: number): string => `${value >= 0 ? '+' : ''}${n(value * 100, 1)}%`

/** The facts line under the machine facts. */
export function postgresFacts(section: PostgresSection, sqliteTraces: number): string {
  if (section.status !== 'done')
    return `PostgreSQL section ${section.status}: ${section.reason.split('\n')[0] ?? ''}`
  const r = section.result
  const s = r.server
  return (
    `PostgreSQL ${s.version} on the same machine (max_connections ${s.maxConnections}, shared_buffers ${s.sharedBuffers}, ` +
    `synchronous_commit ${s.synchronousCommit}, autovacuum ${s.autovacuum}; ANALYZE after loading the query data); every run in its own fresh database, dropped afterwards; ` +
    `${n(r.seconds)} s of the run. Ingest runs: ${n(r.ingestTraces)} traces each, 1,000 per POST (~${n(r.meanBodyBytes / 2 ** 20, 1)} MiB), ` +
    `1 node and 2 nodes on their own databases fed in alternating rounds. CPU per trace: utime + stime from /proc of the node processes, ` +
    `the database's backends and PostgreSQL's own processes (CLK_TCK ${r.clockTicks.perSecond}${r.clockTicks.assumed ? ', assumed: getconf failed' : ''}). ` +
    `Query data: ${n(r.queryData.traces)} traces of one project (SQLite section: ${n(sqliteTraces)}).`
  )
}

function pairRows(pair: IngestPair, what: string, copyRate: number): string[] {
  const one = pair.oneNode
  const two = pair.twoNodes
  const cpu = (run: typeof one): string =>
    `${n(run.cpuMicrosPerTrace)} (${n(run.nodeCpuMicrosPerTrace)} + ${n(run.postgresCpuMicrosPerTrace)})`
  return [
    `| PostgreSQL: batch ingest over HTTP, 1 node, ${what}, traces/s vs raw COPY of the same rows and indexes, 1 COPY + COMMIT per 1,000 | ${n(one.tracesPerSecond)} | ${n(copyRate)} | ${n(one.tracesPerSecond / copyRate, 2)} |`,
    `| PostgreSQL: batch ingest over HTTP, 2 nodes vs 1 node on one database, ${what}, traces/s${what.includes('projects') ? ' (goal: 2 / 1 >= 0.9)' : ''} | ${n(two.tracesPerSecond)} | ${n(one.tracesPerSecond)} | ${n(pair.throughputRatio, 2)} |`,
    `| PostgreSQL: CPU µs per trace summed over every process, shown as total (nodes + PostgreSQL), 2 nodes vs 1 node, ${what} (growth ${percent(pair.cpuGrowth)}${what.includes('projects') ? '; goal <= +15%' : ''}) | ${cpu(two)} | ${cpu(one)} | ${n(two.cpuMicrosPerTrace / one.cpuMicrosPerTrace, 2)} |`,
  ]
}

/** Rows of the table; `sqliteBytesPerTrace` is the SQLite file's size per trace of its query data. */
export function postgresRows(section: PostgresSection, sqliteBytesPerTrace: number): string[] {
  if (section.status !== 'done')
    return [
      `| bytes per trace on disk, SQLite (file size / traces; PostgreSQL section ${section.status}) | ${n(sqliteBytesPerTrace)} | - | - |`,
    ]
  const r = section.result
  return [
    ...pairRows(r.manyProjects, `${n(r.projects)} projects`, r.copy.tracesPerSecond),
    ...pairRows(r.hotProject, 'one hot project', r.copy.tracesPerSecond),
    `| PostgreSQL: CPU µs per trace of PostgreSQL's processes, 1 node into ${n(r.projects)} projects vs the COPY baseline | ${n(r.manyProjects.oneNode.postgresCpuMicrosPerTrace)} | ${n(r.copy.postgresCpuMicrosPerTrace)} | ${n(r.manyProjects.oneNode.postgresCpuMicrosPerTrace / r.copy.postgresCpuMicrosPerTrace, 2)} |`,
    ...r.queries.map(
      (q) =>
        `| PostgreSQL: ListTraces p50 / p99 ms, ${q.name} (${n(q.meanCount, 1)} traces per answer, ${q.samples} queries) vs the same query in-process on PostgreSQL | ${ms(q.http)} | ${ms(q.inProcess)} | ${n(q.http.p50 / q.inProcess.p50, 1)} |`,
    ),
    `| bytes per trace on disk, PostgreSQL (pg_database_size growth over ${n(r.queryData.traces)} traces) vs SQLite (file size / traces) | ${n(r.queryData.bytesPerTrace)} | ${n(sqliteBytesPerTrace)} | ${n(r.queryData.bytesPerTrace / sqliteBytesPerTrace, 2)} |`,
  ]
}
