/**
 * @module bench/embedded-bench
 * The embedded (SQLite) engine's section of `npm run bench`, every figure of issue 16 in one run,
 * using only `openStore`, the HTTP API and `opencts serve` processes (so it keeps working whatever
 * the engine stores inside its file):
 *
 * 1. A data folder with P projects (tenants) and a token each; base traces filled through the store
 *    up to `firstTraces` (Zipf tenants, 7 days in time order; tenant-data).
 * 2. Durable ingest over HTTP, Merkle log on (the default), into the P projects with Zipf skew,
 *    1,000-trace batches, `clients` concurrent clients (tenant-ingest): as JSON, then as NDJSON
 *    when the server accepts it. The server's RSS is sampled meanwhile.
 * 3. The fill goes on to `traces` stored in all; the same JSON ingest again: the ratio of the two
 *    rates is the cost's growth with size. Bytes on disk per trace: every file of the SQLite store
 *    (`opencts.db`, its `-wal` and `-shm`) over the traces stored, right after this ingest (WAL
 *    included) and again once the server has stopped.
 * 4. At full size, ListTraces per CTS filter, combined and deep paging, limit 10 and 200, across
 *    big and small tenants; activity counts; time-to-searchable (tenant-queries, searchable-bench);
 *    RSS sampled again. `atFullSize` runs the caller's extra sections on the same server.
 * 5. The ingest CPU split per trace (cpu-split): the server's own when it publishes one.
 * 6. The PostgreSQL baseline: raw `COPY` of the same rows (the JSON run's batches, same projects)
 *    into the engine's tables and indexes (pg-copy-baseline), in a fresh database dropped after.
 */
import { readdirSync, statSync } from 'node:fs'
import { mkdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { openStore } from '../src/store/open-store.js'
import { cpuSplit, type CpuSplit } from './cpu-split.js'
import { createBenchDatabase, serverFacts } from './pg-bench-database.js'
import { copyBaseline, type CopyResult } from './pg-copy-baseline.js'
import { mintTargets, type Target } from './postgres-bench.js'
import { RssSampler } from './rss-sampler.js'
import { benchSearchable, type SearchableResult } from './searchable-bench.js'
import { startServerProcess, type ServerProcess } from './server-process.js'
import { TenantData } from './tenant-data.js'
import {
  ingestRun,
  makeBatches,
  storedBy,
  WARMUP_BATCHES,
  type Batches,
  type IngestRate,
} from './tenant-ingest.js'
import {
  benchActivity,
  benchStatistics,
  benchTenantQueries,
  queryRanks,
  tenantQueries,
  type ActivityResult,
  type StatisticsResult,
  type TenantQueryResult,
} from './tenant-queries.js'
import { vocabulary } from './trace-generator.js'

export interface EmbeddedOptions {
  readonly dir: string
  /** Projects (BENCH_PROJECTS, >= 100 for the figures). */
  readonly projects: number
  /** Stored traces at the first ingest measurement (BENCH_FIRST_TRACES). */
  readonly firstTraces: number
  /** Stored traces at the second one and for the queries (BENCH_TRACES). */
  readonly traces: number
  /** Traces per measured ingest run (BENCH_INGEST_TRACES). */
  readonly ingestTraces: number
  readonly clients: number
  readonly queries: number
  readonly secondsPerFilter: number
  readonly searchable: number
  /** PostgreSQL server for the COPY baseline, or undefined to skip it. */
  readonly postgresUrl: string | undefined
  readonly track: (server: ServerProcess, alive: boolean) => void
}

export type CopySection =
  | { readonly status: 'done'; readonly result: CopyResult }
  | { readonly status: 'skipped' | 'failed'; readonly reason: string }

export interface DiskUse {
  /** Traces stored when measured. */
  readonly traces: number
  /** Every file of the store while the server runs, after the ingest at full size. */
  readonly liveBytes: number
  /** The same once the server has stopped (WAL checkpointed). */
  readonly closedBytes: number
}

export interface EmbeddedResult<Extra> {
  readonly projects: number
  /** Share of the traces of the largest and the smallest tenant (Zipf). */
  readonly largestShare: number
  readonly smallestShare: number
  readonly clients: number
  readonly fillSeconds: number
  readonly first: {
    readonly stored: number
    readonly json: IngestRate
    /** Traces stored when the NDJSON run started (after the JSON run). */
    readonly ndjsonStored: number
    readonly ndjson: IngestRate
  }
  readonly full: { readonly stored: number; readonly json: IngestRate }
  readonly copy: CopySection
  readonly disk: DiskUse
  readonly queryRanks: readonly number[]
  readonly queries: readonly TenantQueryResult[]
  readonly activity: ActivityResult
  /** Statistics over the last day (the target) and the last week. */
  readonly statistics: readonly StatisticsResult[]
  readonly searchable: SearchableResult
  /** Largest RSS of the server process, bytes, per phase. */
  readonly rss: { readonly ingest: number | undefined; readonly query: number | undefined }
  readonly cpu: CpuSplit
  readonly extra: Extra
  readonly seconds: number
}

/** Bytes of every file of the SQLite store at `dbPath` (the file, its -wal, -shm, -journal). */
export function storeBytes(dbPath: string): number {
  const name = basename(dbPath)
  let bytes = 0
  for (const entry of readdirSync(dirname(dbPath)))
    if (entry === name || entry.startsWith(`${name}-`)) {
      try {
        bytes += statSync(join(dirname(dbPath), entry)).size
      } catch {
        // removed meanwhile (a -shm at close)
      }
    }
  return bytes
}

async function copySection(
  options: EmbeddedOptions,
  batches: Batches,
  targets: readonly Target[],
): Promise<CopySection> {
  const url = options.postgresUrl
  if (url === undefined) return { status: 'skipped', reason: 'BENCH_POSTGRES=off' }
  try {
    await serverFacts(url)
  } catch (error) {
    return {
      status: 'skipped',
      reason: `no PostgreSQL at ${url}: ${error instanceof Error ? error.message : String(error)}`,
    }
  }
  const database = await createBenchDatabase(url, 'embcopy')
  try {
    const project = (index: number): string =>
      (targets[(batches.ranks[index] ?? 0) % targets.length] as Target).projectId
    const result = await copyBaseline(database, batches.warmup, batches.bodies, (i) =>
      project(WARMUP_BATCHES + i),
    )
    return { status: 'done', result }
  } catch (error) {
    const reason = error instanceof Error ? (error.stack ?? error.message) : String(error)
    process.stderr.write(`bench: PostgreSQL COPY baseline failed: ${reason}\n`)
    return { status: 'failed', reason }
  } finally {
    await database.drop()
  }
}

export async function benchEmbedded<Extra>(
  options: EmbeddedOptions,
  atFullSize: (server: ServerProcess, admin: Target) => Promise<Extra>,
): Promise<EmbeddedResult<Extra>> {
  const started = performance.now()
  const dataDir = join(options.dir, 'embedded')
  mkdirSync(dataDir, { recursive: true })
  const dbPath = join(dataDir, 'opencts.db')
  const rss = new RssSampler()
  const start = async (): Promise<ServerProcess> => {
    const server = await startServerProcess(dataDir)
    options.track(server, true)
    return server
  }
  const stop = async (server: ServerProcess): Promise<void> => {
    rss.stop()
    await server.stop()
    options.track(server, false)
  }
  const pid = (server: ServerProcess): number => server.child.pid ?? 0

  // 1. The first start creates the schema and the administrator; projects and tokens follow.
  await stop(await start())
  let store = await openStore({ url: `sqlite:${dbPath}`, merkle: TRACE_LOG_HASHING })
  let targets: Target[]
  let data: TenantData
  try {
    targets = await mintTargets(store, options.projects)
    data = new TenantData(
      targets.map((target) => target.projectId),
      options.traces,
    )
    await data.fill(store, options.firstTraces)
  } finally {
    await store.close()
  }
  let stored = options.firstTraces

  // 2. Ingest at the first size, JSON then NDJSON.
  const jsonBatches = makeBatches(options.ingestTraces, options.projects, 'json')
  let server = await start()
  let first: EmbeddedResult<Extra>['first']
  try {
    rss.start('ingest', pid(server))
    const firstStored = stored
    const json = await ingestRun(
      server.url,
      targets,
      jsonBatches,
      'json',
      options.clients,
      `ingest over HTTP (JSON) at ${firstStored.toLocaleString('en-US')} traces`,
    )
    stored += storedBy(jsonBatches, json)
    const ndjsonStored = stored
    const ndjsonBatches = makeBatches(options.ingestTraces, options.projects, 'ndjson')
    const ndjson = await ingestRun(
      server.url,
      targets,
      ndjsonBatches,
      'ndjson',
      options.clients,
      `ingest over HTTP (NDJSON) at ${stored.toLocaleString('en-US')} traces`,
    )
    if (!ndjson.supported) process.stderr.write('bench: NDJSON ingest not supported (415)\n')
    stored += storedBy(ndjsonBatches, ndjson)
    first = { stored: firstStored, json, ndjsonStored, ndjson }
  } finally {
    await stop(server)
  }

  // 3. Fill on to the full size, ingest again, bytes per trace.
  store = await openStore({ url: `sqlite:${dbPath}`, merkle: TRACE_LOG_HASHING })
  try {
    await data.fill(store, data.filled + Math.max(0, options.traces - stored))
  } finally {
    await store.close()
  }
  stored = Math.max(stored, options.traces)
  server = await start()
  let full: EmbeddedResult<Extra>['full']
  let liveBytes: number
  let diskTraces: number
  let queries: TenantQueryResult[]
  let activity: ActivityResult
  let statistics: StatisticsResult[]
  let searchable: SearchableResult
  let cpu: CpuSplit
  let extra: Extra
  const ranks = queryRanks(options.projects)
  try {
    rss.start('ingest', pid(server))
    const fullBatches = makeBatches(options.ingestTraces, options.projects, 'json')
    const json = await ingestRun(
      server.url,
      targets,
      fullBatches,
      'json',
      options.clients,
      `ingest over HTTP (JSON) at ${stored.toLocaleString('en-US')} traces`,
    )
    full = { stored, json }
    stored += storedBy(fullBatches, json)
    rss.stop()
    liveBytes = storeBytes(dbPath)
    diskTraces = stored
    cpu = await cpuSplit(server.url)

    // 4. Queries at full size.
    rss.start('query', pid(server))
    const queryOptions = {
      url: server.url,
      targets,
      ranks,
      samplesOf: (rank: number) => data.samples(rank),
      queries: options.queries,
      warmup: 5,
      secondsPerCase: options.secondsPerFilter,
    }
    queries = await benchTenantQueries(tenantQueries(vocabulary()), queryOptions)
    activity = await benchActivity(vocabulary(), queryOptions)
    statistics = [await benchStatistics(queryOptions, 1), await benchStatistics(queryOptions, 7)]
    const admin = targets[0] as Target
    searchable = await benchSearchable(server.url, admin.token, admin.projectId, options.searchable)
    rss.stop()
    extra = await atFullSize(server, admin)
  } finally {
    await stop(server)
  }
  const closedBytes = storeBytes(dbPath)

  // 6. The PostgreSQL COPY baseline of the first JSON run's rows.
  const copy = await copySection(options, jsonBatches, targets)
  return {
    projects: options.projects,
    largestShare: data.zipf.share(0),
    smallestShare: data.zipf.share(options.projects - 1),
    clients: options.clients,
    fillSeconds: data.seconds,
    first,
    full,
    copy,
    disk: { traces: diskTraces, liveBytes, closedBytes },
    queryRanks: ranks,
    queries,
    activity,
    statistics,
    searchable,
    rss: { ingest: rss.max('ingest'), query: rss.max('query') },
    cpu,
    extra,
    seconds: (performance.now() - started) / 1000,
  }
}
