/**
 * @module bench/report
 * The benchmark's markdown: machine facts; the embedded engine's section (issue 16's targets table,
 * embedded-report); then one table of the other figures with their baseline and the ratio against
 * it (the Merkle log's cost, notifications, sign-in, and the PostgreSQL section's rows from
 * postgres-report).
 */
import type { EmbeddedResult } from './embedded-bench.js'
import { renderEmbedded } from './embedded-report.js'
import type { IngestResult } from './ingest-bench.js'
import type { MachineFacts } from './machine-facts.js'
import type { Latency } from './percentiles.js'
import type { NotifyResult } from './notify-bench.js'
import type { SignInResult } from './sign-in-bench.js'
import { postgresFacts, postgresRows, type PostgresSection } from './postgres-report.js'
import { HASH_CONCURRENCY } from '../src/auth/password-hash.js'

export interface Report {
  readonly facts: MachineFacts
  readonly command: string
  readonly embedded: EmbeddedResult<{
    readonly notify: NotifyResult
    readonly signIn: SignInResult
  }>
  readonly ingest: IngestResult
  readonly postgres: PostgresSection
  readonly totalSeconds: number
}

const n = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (l: Latency): string => `${n(l.p50, 2)} / ${n(l.p99, 2)}`

export function renderReport(r: Report): string {
  const f = r.facts
  const { notify, signIn } = r.embedded.extra
  const disk = r.embedded.disk
  const lines = [
    `Machine: ${f.cpu}, ${f.cores} cores, ${f.memoryGiB} GiB RAM, ${f.os}; Node ${f.node}, SQLite ${f.sqlite} (better-sqlite3 ${f.betterSqlite3}).`,
    `Command: \`${r.command}\` (one run, ${n(r.totalSeconds)} s in all).`,
    '',
    ...renderEmbedded(r.embedded),
    '',
    postgresFacts(r.postgres, disk.traces),
    '',
    '| measure | OpenCTS | baseline | OpenCTS / baseline |',
    '|---|---:|---:|---:|',
    `| ingest with the Merkle log on vs off, traces/s over HTTP (the same ${n(r.ingest.traces)} traces of one project to two servers, \`OPENCTS_MERKLE_LOG=true\` and \`false\`, in alternating rounds, ${r.embedded.clients} clients; goal: on / off >= 0.85) | ${n(r.ingest.httpTracesPerSecond)} | ${n(r.ingest.httpLogOffTracesPerSecond)} | ${n(r.ingest.httpTracesPerSecond / r.ingest.httpLogOffTracesPerSecond, 2)} |`,
    `| ingest-to-receipt p50 / p99 ms: POST of one trace until a webhook on loopback has its signed key-event notification (${n(notify.samples)} traces, at full size; goal p99 < 1,000) vs the POST's 201 | ${ms(notify.received)} | ${ms(notify.acknowledged)} | ${n(notify.received.p50 / notify.acknowledged.p50, 2)} |`,
    `| sign-in p50 / p99 ms, \`POST /v3/auth/tokens\` one at a time (${n(signIn.samples)}) vs one scrypt hash in-process (N=2^17, r=8, p=1) | ${ms(signIn.sequential)} | ${ms(signIn.hash)} | ${n(signIn.sequential.p50 / signIn.hash.p50, 2)} |`,
    `| sign-in p50 / p99 ms, ${signIn.concurrency} at once (at most ${HASH_CONCURRENCY} hashes run at a time) vs one at a time | ${ms(signIn.concurrent)} | ${ms(signIn.sequential)} | ${n(signIn.concurrent.p50 / signIn.sequential.p50, 2)} |`,
    `| GET /health p50 / p99 ms during ${signIn.concurrency} concurrent sign-ins vs idle (the event loop keeps answering) | ${ms(signIn.healthDuringSignIns)} | ${ms(signIn.healthIdle)} | ${n(signIn.healthDuringSignIns.p99 / signIn.healthIdle.p99, 2)} |`,
    ...postgresRows(r.postgres, disk.closedBytes / disk.traces),
    '',
  ]
  return lines.join('\n')
}
