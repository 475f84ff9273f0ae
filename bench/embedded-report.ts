/**
 * @module bench/embedded-report
 * The embedded engine's section of the benchmark's markdown: a facts line and the targets table of
 * issue 16 (figure, target, PASS / FAIL).
 */
import type { EmbeddedResult } from './embedded-bench.js'
import { formatNumber as n, renderTargets, tally, type TargetRow } from './targets.js'
import { STATISTICS_SHAPES } from './tenant-queries.js'

const MIB = 2 ** 20
/** Issue 16's targets. */
export const TARGETS = {
  ingestPerSecond: { op: '>=', value: 25_000 },
  copyRatio: { op: '>=', value: 1.5 },
  flatRatio: { op: '>=', value: 0.8 },
  bytesPerTrace: { op: '<=', value: 400 },
  queryP99Ms: { op: '<', value: 50 },
  activityP99Ms: { op: '<', value: 100 },
  /** Issue 17: statistics over a day (the dashboard's window). */
  statisticsP99Ms: { op: '<', value: 100 },
  searchableP99Ms: { op: '<', value: 1000 },
  rssMiB: { op: '<', value: 600 },
} as const

/** Every row of the targets table (rows without a target are reported figures). */
export function embeddedRows(r: EmbeddedResult<unknown>): TargetRow[] {
  const rows: TargetRow[] = []
  const add = (measure: string, value: number, figure: string, target?: TargetRow['target']) =>
    rows.push({ measure, value, figure, ...(target === undefined ? {} : { target }) })
  const traces = (count: number): string => n(count)
  const ingest = `${n(r.first.json.traces)} traces in 1,000-trace batches into ${r.projects} projects (Zipf 1.0), ${r.clients} clients, Merkle log on`
  add(
    `durable ingest over HTTP, JSON, traces/s at ${traces(r.first.stored)} stored (${ingest})`,
    r.first.json.tracesPerSecond,
    n(r.first.json.tracesPerSecond),
    TARGETS.ingestPerSecond,
  )
  add(
    `durable ingest over HTTP, NDJSON (\`application/x-ndjson\`), traces/s at ${traces(r.first.ndjsonStored)} stored`,
    r.first.ndjson.tracesPerSecond,
    r.first.ndjson.supported ? n(r.first.ndjson.tracesPerSecond) : 'not supported (415)',
  )
  add(
    `durable ingest over HTTP, JSON, traces/s at ${traces(r.full.stored)} stored`,
    r.full.json.tracesPerSecond,
    n(r.full.json.tracesPerSecond),
    TARGETS.ingestPerSecond,
  )
  if (r.copy.status === 'done') {
    const copy = r.copy.result.tracesPerSecond
    add(
      `ingest over HTTP at ${traces(r.first.stored)} / raw PostgreSQL COPY of the same rows and indexes (${n(copy)} rows/s, 1 COPY + COMMIT per 1,000)`,
      r.first.json.tracesPerSecond / copy,
      n(r.first.json.tracesPerSecond / copy, 2),
      TARGETS.copyRatio,
    )
  } else
    add(
      `ingest over HTTP / raw PostgreSQL COPY (baseline ${r.copy.status}: ${r.copy.reason.split('\n')[0] ?? ''})`,
      Number.NaN,
      '-',
      TARGETS.copyRatio,
    )
  add(
    `cost flat with size: ingest rate at ${traces(r.full.stored)} / at ${traces(r.first.stored)} stored`,
    r.full.json.tracesPerSecond / r.first.json.tracesPerSecond,
    n(r.full.json.tracesPerSecond / r.first.json.tracesPerSecond, 2),
    TARGETS.flatRatio,
  )
  const live = r.disk.liveBytes / r.disk.traces
  add(
    `bytes on disk per trace, every file of the store (db + WAL) while serving, ${traces(r.disk.traces)} traces (${n(r.disk.liveBytes / MIB)} MiB; ${n(r.disk.closedBytes / r.disk.traces)} B/trace once stopped)`,
    live,
    n(live),
    TARGETS.bytesPerTrace,
  )
  for (const q of r.queries) {
    const short = q.shortWalks > 0 ? `, ${q.shortWalks} walks ended before page 20` : ''
    add(
      `ListTraces p50 / p99 ms, ${q.name}, limit ${q.limit} (${q.samples} queries, ${n(q.meanCount, 1)} traces per answer${short})`,
      q.latency.p99,
      `${n(q.latency.p50, 2)} / ${n(q.latency.p99, 2)}`,
      TARGETS.queryP99Ms,
    )
  }
  add(
    `activity counts p50 / p99 ms (${r.activity.samples} queries)`,
    r.activity.latency.p99,
    `${n(r.activity.latency.p50, 2)} / ${n(r.activity.latency.p99, 2)}`,
    TARGETS.activityP99Ms,
  )
  for (const st of r.statistics ?? []) {
    const refused = st.refused > 0 ? `, ${st.refused} refused by the bound` : ''
    const slowest = (st.slowest ?? [])
      .map((q) => `${n(q.ms, 0)} ms tenant rank ${q.rank} ${q.query}`)
      .join('; ')
    add(
      `statistics p50 / p99 ms over the last ${st.days === 1 ? 'day' : `${st.days} days`} (${st.samples} queries, ${STATISTICS_SHAPES.length} shapes rotated: ${STATISTICS_SHAPES.map(
        (q) =>
          Object.entries(q)
            .map(([k, v]) => `${k}=${v}`)
            .join('&'),
      ).join('; ')}${refused}${slowest === '' ? '' : `; slowest: ${slowest}`})`,
      st.latency.p99,
      `${n(st.latency.p50, 2)} / ${n(st.latency.p99, 2)}`,
      st.days === 1 ? TARGETS.statisticsP99Ms : undefined,
    )
  }
  add(
    `time-to-searchable p50 / p99 ms, POST of one trace until ListTraces ?trace_id= returns it (${r.searchable.samples} traces)`,
    r.searchable.searchable.p99,
    `${n(r.searchable.searchable.p50, 2)} / ${n(r.searchable.searchable.p99, 2)}`,
    TARGETS.searchableP99Ms,
  )
  for (const phase of ['ingest', 'query'] as const) {
    const bytes = r.rss[phase]
    add(
      `server RSS, largest sampled during the ${phase} phase${phase === 'ingest' ? 's' : ''}, MiB`,
      bytes === undefined ? Number.NaN : bytes / MIB,
      bytes === undefined ? 'not sampled (no /proc)' : n(bytes / MIB),
      TARGETS.rssMiB,
    )
  }
  const steps = r.cpu.steps
  const sum = steps.reduce((total, s) => total + s.microsPerTrace, 0)
  add(
    `ingest CPU µs per trace, ${r.cpu.source === 'server' ? "the server's ingest pool" : 'timed in-process on generator batches (the server publishes no split)'}: ${steps.map((s) => `${s.step} ${n(s.microsPerTrace, 1)}`).join(', ')}`,
    sum,
    `${n(sum, 1)} in all`,
  )
  return rows
}

export function embeddedFacts(r: EmbeddedResult<unknown>): string {
  return (
    `Embedded engine (issue 16): ${r.projects} projects, Zipf(1.0) (largest ${n(r.largestShare * 100, 1)}% of the traces, smallest ${n(r.smallestShare * 100, 2)}%), ` +
    `base traces over 7 days filled through the store in ${n(r.fillSeconds)} s; ingest into \`opencts serve\` in its own process; ` +
    `queries over the whole 7-day window, one at a time, to tenant ranks ${r.queryRanks.join(', ')} (0 = largest); ${n(r.seconds)} s of the run.`
  )
}

/** The section: facts, the targets table, and a PASS / FAIL summary line. */
export function renderEmbedded(r: EmbeddedResult<unknown>): string[] {
  const rows = embeddedRows(r)
  const counts = tally(rows)
  return [
    embeddedFacts(r),
    '',
    ...renderTargets(rows),
    '',
    `Targets: ${counts.PASS} PASS, ${counts.FAIL} FAIL, ${counts['n/a']} not measured.`,
  ]
}
