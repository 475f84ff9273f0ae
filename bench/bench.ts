/**
 * @module bench/bench
 * `npm run bench`: one run on this machine, one markdown table on stdout (progress on stderr).
 * 1. batch ingest throughput over HTTP vs raw better-sqlite3 inserts of the same rows, and with the
 *    Merkle log on vs off (two servers, same traces);
 * 2. ListTraces latency per filter over HTTP at BENCH_TRACES traces (default 1,000,000) vs in-process;
 * 3. time-to-searchable of single-trace posts;
 * 4. password sign-in: one scrypt hash, sign-ins one at a time and BENCH_SIGNIN_CONCURRENCY at once,
 *    and GET /health latency meanwhile.
 * Settings (environment): BENCH_TRACES, BENCH_INGEST_TRACES (200,000), BENCH_QUERIES (200 per
 * filter), BENCH_FILTER_SECONDS (60: time budget per filter), BENCH_CLIENTS (4), BENCH_SEARCHABLE
 * (200), BENCH_SIGNINS (16), BENCH_SIGNIN_CONCURRENCY (8), BENCH_MAX_SECONDS (3,600: the whole
 * run is stopped after this). Everything lives in one temporary folder, removed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../src/platform/clock.js'
import { TraceQuery } from '../src/query/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { benchIngest } from './ingest-bench.js'
import { loadBaseData } from './load-base-data.js'
import { machineFacts } from './machine-facts.js'
import { benchQueries, queryCases } from './query-bench.js'
import { renderReport } from './report.js'
import { benchSearchable } from './searchable-bench.js'
import { benchNotify } from './notify-bench.js'
import { benchSignIn } from './sign-in-bench.js'
import { BENCH_ADMIN, startServerProcess, type ServerProcess } from './server-process.js'
import { vocabulary } from './trace-generator.js'

const PROJECT = BENCH_ADMIN.projectId

function setting(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const value = Number(text.replaceAll('_', ''))
  if (!Number.isInteger(value) || value < min || value > max) {
    process.stderr.write(
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}\n`,
    )
    process.exit(2)
  }
  return value
}

const baseTraces = setting('BENCH_TRACES', 1_000_000, 1000, 50_000_000)
const ingestTraces = setting('BENCH_INGEST_TRACES', 200_000, 1000, 10_000_000)
const queries = setting('BENCH_QUERIES', 200, 10, 100_000)
const clients = setting('BENCH_CLIENTS', 4, 1, 64)
const searchableSamples = setting('BENCH_SEARCHABLE', 200, 10, 100_000)
const notifySamples = setting('BENCH_NOTIFY', 200, 10, 100_000)
const signIns = setting('BENCH_SIGNINS', 16, 2, 10_000)
const signInConcurrency = setting('BENCH_SIGNIN_CONCURRENCY', 8, 1, 64)
const secondsPerFilter = setting('BENCH_FILTER_SECONDS', 60, 1, 3600)
const maxSeconds = setting('BENCH_MAX_SECONDS', 3600, 10, 86_400)

const dir = mkdtempSync(join(tmpdir(), 'opencts-bench-'))
const servers = new Set<ServerProcess>()

function cleanUp(): void {
  for (const server of servers) server.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
}

const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench: stopped after BENCH_MAX_SECONDS=${maxSeconds} s\n`)
  cleanUp()
  process.exit(1)
}, maxSeconds * 1000)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`)
    cleanUp()
    process.exit(130)
  })
}

async function main(): Promise<string> {
  const started = performance.now()
  const facts = machineFacts()
  process.stderr.write(`bench: working in ${dir}\n`)
  const ingest = await benchIngest({
    dir,
    projectId: PROJECT,
    traces: ingestTraces,
    clients,
    batchSize: 1000,
    onServer: (server) => {
      if (server !== undefined) servers.add(server)
      else servers.clear()
    },
  })
  rmSync(join(dir, 'ingest-http'), { recursive: true, force: true })
  rmSync(join(dir, 'ingest-raw.db'), { force: true })

  const dataDir = join(dir, 'query-data')
  mkdirSync(dataDir, { recursive: true })
  const dbPath = join(dataDir, 'opencts.db')
  const base = await loadBaseData(dbPath, PROJECT, baseTraces)
  const server = await startServerProcess(dataDir)
  servers.add(server)
  const store = openSqliteStore({ path: dbPath })
  try {
    const query = new TraceQuery({
      traces: store.traces,
      clock: systemClock,
      retentionMs: 7 * 86_400_000,
    })
    const cases = queryCases(vocabulary(), base.sampleIds)
    const results = await benchQueries(cases, {
      url: server.url,
      token: server.token,
      projectId: PROJECT,
      query,
      queries,
      warmup: 5,
      secondsPerFilter,
    })
    const searchable = await benchSearchable(server.url, server.token, PROJECT, searchableSamples)
    const notify = await benchNotify(server.url, server.token, PROJECT, notifySamples)
    process.stderr.write('sign-in...\n')
    const signIn = await benchSignIn(server.url, signIns, signInConcurrency)
    const settings = Object.entries(process.env)
      .filter(([name, value]) => name.startsWith('BENCH_') && value !== undefined && value !== '')
      .map(([name, value]) => `${name}=${value ?? ''} `)
      .sort()
    const command = `${settings.join('')}npm run bench`
    return renderReport({
      facts,
      command,
      baseTraces,
      base,
      queriesPerFilter: queries,
      secondsPerFilter,
      clients,
      ingest,
      queries: results,
      searchable,
      notify,
      signIn,
      totalSeconds: (performance.now() - started) / 1000,
    })
  } finally {
    await store.close()
    await server.stop()
    servers.delete(server)
  }
}

try {
  const report = await main()
  process.stdout.write(report)
  cleanUp()
  clearTimeout(watchdog)
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  cleanUp()
  process.exit(1)
}
