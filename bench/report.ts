/**
 * @module bench/report
 * The benchmark's markdown: machine facts, then one table of every figure with its baseline and the
 * ratio against it (the PostgreSQL section's rows from postgres-report).
 */
import type { BaseData } from './load-base-data.js'
import type { IngestResult } from './ingest-bench.js'
import type { MachineFacts } from './machine-facts.js'
import type { Latency } from './percentiles.js'
import type { QueryResult } from './query-bench.js'
import type { SearchableResult } from './searchable-bench.js'
import type { NotifyResult } from './notify-bench.js'
import type { SignInResult } from './sign-in-bench.js'
import { postgresFacts, postgresRows, type PostgresSection } from './postgres-report.js'
import { HASH_CONCURRENCY } from '../src/auth/password-hash.js'

export interface Report {
  readonly facts: MachineFacts
  readonly command: string
  readonly baseTraces: number
  readonly base: BaseData
  readonly queriesPerFilter: number
  readonly secondsPerFilter: number
  readonly clients: number
  readonly ingest: IngestResult
  readonly queries: readonly QueryResult[]
  readonly searchable: SearchableResult
  readonly notify: NotifyResult
  readonly signIn: SignInResult
  readonly postgres: PostgresSection
  readonly totalSeconds: number
}

const n = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (l: Latency): string => `${n(l.p50, 2)} / ${n(l.p99, 2)}`

export function renderReport(r: Report): string {
  const f = r.facts
  const lines = [
    `Machine: ${f.cpu}, ${f.cores} cores, ${f.memoryGiB} GiB RAM, ${f.os}; Node ${f.node}, SQLite ${f.sqlite} (better-sqlite3 ${f.betterSqlite3}).`,
    `Command: \`${r.command}\` (one run, ${n(r.totalSeconds)} s in all).`,
    `Query data: ${n(r.baseTraces)} traces of one project over the last 6 days (20 services, 60 resource types, 10,000 resources, 200 users), ` +
      `loaded through the store in ${n(r.base.seconds)} s; SQLite file ${n(r.base.dbBytes / 2 ** 20)} MiB. ` +
      `Queries: ${n(r.queriesPerFilter)} per filter over the whole 7-day window, default page size 10, one at a time over HTTP keep-alive to \`opencts serve\` in its own process.`,
    postgresFacts(r.postgres, r.baseTraces),
    '',
    '| measure | OpenCTS | baseline | OpenCTS / baseline |',
    '|---|---:|---:|---:|',
    `| batch ingest over HTTP, traces/s (${n(r.ingest.traces)} traces, 1,000 per POST, ~${n(r.ingest.meanBodyBytes / 2 ** 20, 1)} MiB each, ${r.clients} concurrent clients) vs raw better-sqlite3 inserts of the same rows and indexes, 1 transaction per 1,000 | ${n(r.ingest.httpTracesPerSecond)} | ${n(r.ingest.rawTracesPerSecond)} | ${n(r.ingest.httpTracesPerSecond / r.ingest.rawTracesPerSecond, 2)} |`,
    `| ingest with the Merkle log on vs off, traces/s over HTTP (the same ${n(r.ingest.traces)} traces to two servers, \`OPENCTS_MERKLE_LOG=true\` and \`false\`, in alternating rounds; goal: on / off >= 0.85) | ${n(r.ingest.httpTracesPerSecond)} | ${n(r.ingest.httpLogOffTracesPerSecond)} | ${n(r.ingest.httpTracesPerSecond / r.ingest.httpLogOffTracesPerSecond, 2)} |`,
    ...r.queries.map(
      (q) =>
        `| ListTraces p50 / p99 ms, ${q.name} (${n(q.meanCount, 1)} traces per answer${q.samples < r.queriesPerFilter ? `; only ${q.samples} queries within the ${r.secondsPerFilter} s budget` : ''}) vs the same query in-process (TraceQuery.list) | ${ms(q.http)} | ${ms(q.inProcess)} | ${n(q.http.p50 / q.inProcess.p50, 1)} |`,
    ),
    `| time-to-searchable p50 / p99 ms: POST of one trace until GET ?trace_id= returns it (${n(r.searchable.samples)} traces) vs the POST's 201 | ${ms(r.searchable.searchable)} | ${ms(r.searchable.acknowledged)} | ${n(r.searchable.searchable.p50 / r.searchable.acknowledged.p50, 2)} |`,
    `| ingest-to-receipt p50 / p99 ms: POST of one trace until a webhook on loopback has its signed key-event notification (${n(r.notify.samples)} traces; goal p99 < 1,000) vs the POST's 201 | ${ms(r.notify.received)} | ${ms(r.notify.acknowledged)} | ${n(r.notify.received.p50 / r.notify.acknowledged.p50, 2)} |`,
    `| sign-in p50 / p99 ms, \`POST /v3/auth/tokens\` one at a time (${n(r.signIn.samples)}) vs one scrypt hash in-process (N=2^17, r=8, p=1) | ${ms(r.signIn.sequential)} | ${ms(r.signIn.hash)} | ${n(r.signIn.sequential.p50 / r.signIn.hash.p50, 2)} |`,
    `| sign-in p50 / p99 ms, ${r.signIn.concurrency} at once (at most ${HASH_CONCURRENCY} hashes run at a time) vs one at a time | ${ms(r.signIn.concurrent)} | ${ms(r.signIn.sequential)} | ${n(r.signIn.concurrent.p50 / r.signIn.sequential.p50, 2)} |`,
    `| GET /health p50 / p99 ms during ${r.signIn.concurrency} concurrent sign-ins vs idle (the event loop keeps answering) | ${ms(r.signIn.healthDuringSignIns)} | ${ms(r.signIn.healthIdle)} | ${n(r.signIn.healthDuringSignIns.p99 / r.signIn.healthIdle.p99, 2)} |`,
    ...postgresRows(r.postgres, r.base.dbBytes / r.baseTraces),
    '',
  ]
  return lines.join('\n')
}
