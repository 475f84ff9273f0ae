/**
 * @module bench/bench
 * `npm run bench`: one run on this machine, markdown on stdout (progress on stderr).
 * 1. The embedded engine against issue 16's targets (embedded-bench): durable ingest over HTTP into
 *    BENCH_PROJECTS tenants with Zipf skew at BENCH_FIRST_TRACES and at BENCH_TRACES stored traces
 *    (JSON, and NDJSON when accepted), the ratio to raw PostgreSQL COPY of the same rows, bytes per
 *    trace, ListTraces per filter / combined / deep paging at limit 10 and 200 across big and small
 *    tenants, activity counts, time-to-searchable, server RSS, the ingest CPU split; on the same
 *    server at full size, key-event notifications (ingest-to-receipt) and password sign-in (one
 *    scrypt hash, sign-ins one at a time and BENCH_SIGNIN_CONCURRENCY at once, GET /health
 *    meanwhile);
 * 2. batch ingest over HTTP with the Merkle log on vs off (two servers, same traces, one project);
 * 3. PostgreSQL (postgres-bench): ingest into 1 and 2 nodes on one database vs raw COPY, CPU per
 *    trace, query latency per filter, bytes per trace of each engine.
 * Settings (environment): BENCH_TRACES (1,000,000 stored traces at full size), BENCH_FIRST_TRACES
 * (BENCH_TRACES / 10: stored at the first ingest measurement), BENCH_PROJECTS (100),
 * BENCH_INGEST_TRACES (200,000 per measured ingest run), BENCH_QUERIES (200 per filter and limit),
 * BENCH_FILTER_SECONDS (60: time budget per filter and limit), BENCH_CLIENTS (4), BENCH_SEARCHABLE
 * (200), BENCH_NOTIFY (200), BENCH_SIGNINS (16), BENCH_SIGNIN_CONCURRENCY (8), BENCH_LOG_TRACES
 * (BENCH_INGEST_TRACES: traces of the log on / off comparison), BENCH_MAX_SECONDS (3,600: the whole
 * run is stopped after this); BENCH_POSTGRES (postgres://127.0.0.1/test: the server the COPY
 * baseline and the PostgreSQL section create their databases on; `off` skips both, as does a
 * server that cannot be reached), BENCH_PG_INGEST_TRACES (20,000 per ingest run), BENCH_PG_TRACES
 * (100,000: query data), BENCH_PG_PROJECTS (100). Everything lives in one temporary folder, removed
 * at the end, and in databases dropped at the end. `--json FILE` also writes every figure of the
 * run to FILE as JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { benchEmbedded } from './embedded-bench.js'
import { benchIngest } from './ingest-bench.js'
import { machineFacts } from './machine-facts.js'
import { renderReport } from './report.js'
import { benchNotify } from './notify-bench.js'
import { dropAll, serverFacts } from './pg-bench-database.js'
import { benchPostgres } from './postgres-bench.js'
import type { PostgresSection } from './postgres-report.js'
import type { Report } from './report.js'
import { benchSignIn } from './sign-in-bench.js'
import { BENCH_ADMIN, type ServerProcess } from './server-process.js'

const PROJECT = BENCH_ADMIN.projectId

function jsonFile(): string | undefined {
  try {
    const { values } = parseArgs({ options: { json: { type: 'string' } }, strict: true })
    return values.json === undefined ? undefined : resolve(values.json)
  } catch (error) {
    process.stderr.write(
      `${error instanceof Error ? error.message : String(error)}\nusage: npm run bench [-- --json FILE]\n`,
    )
    process.exit(2)
  }
}

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
const firstTraces = setting(
  'BENCH_FIRST_TRACES',
  Math.max(1000, Math.floor(baseTraces / 10)),
  0,
  baseTraces,
)
const projects = setting('BENCH_PROJECTS', 100, 1, 10_000)
const ingestTraces = setting('BENCH_INGEST_TRACES', 200_000, 1000, 10_000_000)
const logTraces = setting('BENCH_LOG_TRACES', ingestTraces, 1000, 10_000_000)
const queries = setting('BENCH_QUERIES', 200, 10, 100_000)
const clients = setting('BENCH_CLIENTS', 4, 1, 64)
const searchableSamples = setting('BENCH_SEARCHABLE', 200, 10, 100_000)
const notifySamples = setting('BENCH_NOTIFY', 200, 10, 100_000)
const signIns = setting('BENCH_SIGNINS', 16, 2, 10_000)
const signInConcurrency = setting('BENCH_SIGNIN_CONCURRENCY', 8, 1, 64)
const secondsPerFilter = setting('BENCH_FILTER_SECONDS', 60, 1, 3600)
const maxSeconds = setting('BENCH_MAX_SECONDS', 3600, 10, 86_400)
const postgresUrl = process.env.BENCH_POSTGRES ?? 'postgres://127.0.0.1/test'
const pgIngestTraces = setting('BENCH_PG_INGEST_TRACES', 20_000, 1000, 10_000_000)
const pgTraces = setting('BENCH_PG_TRACES', 100_000, 1000, 50_000_000)
const pgProjects = setting('BENCH_PG_PROJECTS', 100, 1, 10_000)
const json = jsonFile()

const dir = mkdtempSync(join(tmpdir(), 'opencts-bench-'))
const servers = new Set<ServerProcess>()

/** Kills the servers, drops the benchmark's databases (bounded), removes the folder. */
async function cleanUp(): Promise<void> {
  for (const server of servers) server.child.kill('SIGKILL')
  await dropAll()
  rmSync(dir, { recursive: true, force: true })
}

const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench: stopped after BENCH_MAX_SECONDS=${maxSeconds} s\n`)
  void cleanUp().finally(() => process.exit(1))
}, maxSeconds * 1000)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\nbench: ${signal}, cleaning up\n`)
    void cleanUp().finally(() => process.exit(130))
  })
}

/** The PostgreSQL section, or why it was skipped or failed (the rest of the run stands). */
async function postgresSection(): Promise<PostgresSection> {
  if (postgresUrl === 'off') return { status: 'skipped', reason: 'BENCH_POSTGRES=off' }
  try {
    await serverFacts(postgresUrl)
  } catch (error) {
    const reason = `no PostgreSQL at ${postgresUrl}: ${error instanceof Error ? error.message : String(error)}`
    process.stderr.write(`bench: PostgreSQL section skipped, ${reason}\n`)
    return { status: 'skipped', reason }
  }
  try {
    const result = await benchPostgres({
      dir: join(dir, 'postgres'),
      adminUrl: postgresUrl,
      ingestTraces: pgIngestTraces,
      projects: pgProjects,
      queryTraces: pgTraces,
      clients,
      queries,
      secondsPerFilter,
      track: (server, alive) => (alive ? servers.add(server) : servers.delete(server)),
    })
    return { status: 'done', result }
  } catch (error) {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error)
    process.stderr.write(`bench: PostgreSQL section failed: ${reason}\n`)
    return { status: 'failed', reason }
  }
}

function command(): string {
  const settings = Object.entries(process.env)
    .filter(([name, value]) => name.startsWith('BENCH_') && value !== undefined && value !== '')
    .map(([name, value]) => `${name}=${value ?? ''} `)
    .sort()
  return `${settings.join('')}npm run bench${json === undefined ? '' : ' -- --json FILE'}`
}

async function main(): Promise<Report> {
  const started = performance.now()
  const facts = machineFacts()
  process.stderr.write(`bench: working in ${dir}\n`)
  const embedded = await benchEmbedded(
    {
      dir,
      projects,
      firstTraces,
      traces: baseTraces,
      ingestTraces,
      clients,
      queries,
      secondsPerFilter,
      searchable: searchableSamples,
      postgresUrl: postgresUrl === 'off' ? undefined : postgresUrl,
      track: (server, alive) => (alive ? servers.add(server) : servers.delete(server)),
    },
    async (server, admin) => {
      const notify = await benchNotify(server.url, admin.token, admin.projectId, notifySamples)
      process.stderr.write('sign-in...\n')
      const signIn = await benchSignIn(server.url, signIns, signInConcurrency)
      return { notify, signIn }
    },
  )
  rmSync(join(dir, 'embedded'), { recursive: true, force: true })
  const ingest = await benchIngest({
    dir,
    projectId: PROJECT,
    traces: logTraces,
    clients,
    batchSize: 1000,
    onServer: (server) => {
      if (server !== undefined) servers.add(server)
      else servers.clear()
    },
  })
  rmSync(join(dir, 'ingest-http'), { recursive: true, force: true })
  const postgres = await postgresSection()
  return {
    facts,
    command: command(),
    embedded,
    ingest,
    postgres,
    totalSeconds: (performance.now() - started) / 1000,
  }
}

try {
  const report = await main()
  process.stdout.write(renderReport(report))
  if (json !== undefined) {
    // The sample of stored trace ids (thousands) is an input of the queries, not a figure.
    const figures = JSON.stringify(
      report,
      (key, value: unknown) => (key === 'sampleIds' ? undefined : value),
      2,
    )
    writeFileSync(json, figures + '\n')
    process.stderr.write(`bench: every figure written to ${json}\n`)
  }
  await cleanUp()
  clearTimeout(watchdog)
  if (report.postgres.status === 'failed' || report.embedded.copy.status === 'failed')
    process.exitCode = 1
} catch (error) {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  await cleanUp()
  process.exit(1)
}
