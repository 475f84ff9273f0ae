/**
 * @module bench/postgres-bench
 * The PostgreSQL section of `npm run bench`. Every run works in its own fresh database on the
 * server of BENCH_POSTGRES (dropped afterwards):
 *
 * 1. Baseline: raw `COPY` of the same normalised rows into a table with the engine's indexes
 *    (pg-copy-baseline), one COPY + COMMIT per 1,000 rows.
 * 2. Ingest over HTTP into 1 node and into 2 nodes on one database (`opencts serve` child processes
 *    with `OPENCTS_STORE=postgres://…`, one master key file and one object folder), the same
 *    batches of 1,000 traces, first spread over many projects (batch i to project i mod P), then
 *    into one hot project. The 1-node and 2-node deployments run side by side, each on its own
 *    database, fed in alternating rounds (the order swapped every round) so that drift of a shared,
 *    noisy machine affects both alike. Batches go to the nodes in turn. Per deployment: traces/s
 *    and the CPU time per trace summed over its node processes and PostgreSQL processes (proc-cpu).
 * 3. Query latency per CTS filter over HTTP against one node, at BENCH_PG_TRACES traces loaded
 *    through the store (as the SQLite section loads its data), with the same query in-process
 *    (TraceQuery.list on the engine) as the baseline; `ANALYZE` runs after loading, as autovacuum
 *    would on a server that has it on.
 * 4. Bytes per trace on disk: `pg_database_size` after loading minus its size with the schema alone,
 *    divided by the traces.
 *
 * Tokens for the many projects are minted straight into the store (the projects are created in
 * the administrator's account, whose grant covers every project of it), not by P password
 * sign-ins: a scrypt hash per project would cost the run tens of seconds and measures nothing here.
 */
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { newToken, tokenHash } from '../src/auth/secrets.js'
import { systemClock } from '../src/platform/clock.js'
import { TraceQuery } from '../src/query/index.js'
import type { Store } from '../src/store/index.js'
import { openStore } from '../src/store/open-store.js'
import { makeBodies, post } from './ingest-bench.js'
import { appendBaseTraces } from './load-base-data.js'
import {
  createBenchDatabase,
  serverFacts,
  type BenchDatabase,
  type ServerFacts,
} from './pg-bench-database.js'
import { copyBaseline, type CopyResult } from './pg-copy-baseline.js'
import { clockTicks, CpuMeter, type ClockTicks } from './proc-cpu.js'
import { ProgressBar } from './progress-bar.js'
import { benchQueries, queryCases, type QueryResult } from './query-bench.js'
import { BENCH_ADMIN, startServerProcess, type ServerProcess } from './server-process.js'
import { vocabulary } from './trace-generator.js'

export interface PostgresBenchOptions {
  /** Working folder (node data folders, the shared master key and object folder). */
  readonly dir: string
  /** A database on the server to create the benchmark's databases from (BENCH_POSTGRES). */
  readonly adminUrl: string
  /** Traces per ingest run (BENCH_PG_INGEST_TRACES). */
  readonly ingestTraces: number
  /** Projects of the many-projects runs (BENCH_PG_PROJECTS). */
  readonly projects: number
  /** Traces of the query data (BENCH_PG_TRACES). */
  readonly queryTraces: number
  readonly clients: number
  readonly queries: number
  readonly secondsPerFilter: number
  /** Told of every server process started (alive) and stopped, for clean-up on interruption. */
  readonly track: (server: ServerProcess, alive: boolean) => void
}

/** One ingest deployment: N nodes on one database. */
export interface IngestRun {
  readonly nodes: number
  readonly projects: number
  readonly traces: number
  readonly tracesPerSecond: number
  /** CPU µs per trace, node processes + PostgreSQL processes. */
  readonly cpuMicrosPerTrace: number
  readonly nodeCpuMicrosPerTrace: number
  readonly postgresCpuMicrosPerTrace: number
  /** Growth of the database during the run (Merkle log on) per trace ingested. */
  readonly bytesPerTrace: number
}

export interface IngestPair {
  readonly oneNode: IngestRun
  readonly twoNodes: IngestRun
  /** twoNodes.tracesPerSecond / oneNode.tracesPerSecond (goal ≥ 0.9 into many projects). */
  readonly throughputRatio: number
  /** twoNodes.cpuMicrosPerTrace / oneNode.cpuMicrosPerTrace − 1 (goal ≤ 0.15). */
  readonly cpuGrowth: number
}

export interface QueryData {
  readonly traces: number
  readonly loadSeconds: number
  /** `pg_database_size` with the schema only, and after loading and ANALYZE. */
  readonly emptyBytes: number
  readonly loadedBytes: number
  readonly bytesPerTrace: number
}

export interface PostgresResult {
  readonly server: ServerFacts
  readonly clockTicks: ClockTicks
  readonly ingestTraces: number
  readonly projects: number
  readonly meanBodyBytes: number
  readonly copy: CopyResult
  readonly manyProjects: IngestPair
  readonly hotProject: IngestPair
  readonly queryData: QueryData
  readonly queries: readonly QueryResult[]
  readonly seconds: number
}

/** Rounds of the alternating 1-node / 2-node measurement. */
const ROUNDS = 10
/** Batches each node ingests before the measurement (JIT, pools, partitions), not timed. */
const WARMUP_BATCHES = 5

/** Project i of a many-projects run: the administrator's project first, then generated ids. */
export function projectId(index: number): string {
  return index === 0
    ? BENCH_ADMIN.projectId
    : createHash('sha256').update(`bench-project-${index}`).digest('hex').slice(0, 32)
}

export interface Target {
  readonly projectId: string
  readonly token: string
}

/** N `opencts serve` nodes on one database and the tokens of its projects. */
interface Deployment {
  readonly label: string
  readonly database: BenchDatabase
  readonly nodes: readonly ServerProcess[]
  readonly targets: readonly Target[]
  readonly meter: CpuMeter
  /** Database size after the warm-up batches. */
  startBytes: number
  seconds: number
  traces: number
}

/** Creates projects 1..count-1 in the administrator's account and a token for each project. */
export async function mintTargets(store: Store, count: number): Promise<Target[]> {
  const account = await store.identity.findAccount(BENCH_ADMIN.account)
  const user =
    account === undefined ? undefined : await store.identity.findUser(account.id, BENCH_ADMIN.user)
  if (account === undefined || user === undefined)
    throw new Error('the first node did not create the benchmark administrator')
  const now = Date.now()
  const targets: Target[] = []
  for (let index = 0; index < count; index++) {
    const id = projectId(index)
    if (index > 0)
      await store.identity.insertProject({
        id,
        accountId: account.id,
        name: `bench-${index}`,
        createdAt: now,
      })
    const token = newToken()
    await store.identity.insertToken({
      tokenHash: tokenHash(token),
      userId: user.id,
      projectId: id,
      issuedAt: now,
      expiresAt: now + 86_400_000,
    })
    targets.push({ projectId: id, token })
  }
  return targets
}

/**
 * Starts `nodes` servers on a fresh database, one after the other (the first creates the schema and
 * the administrator), sharing one master key file and one object folder as a deployment must.
 */
async function deploy(
  options: PostgresBenchOptions,
  label: string,
  nodes: number,
  projects: number,
): Promise<Deployment> {
  const database = await createBenchDatabase(options.adminUrl, label)
  const dir = join(options.dir, database.name)
  mkdirSync(dir, { recursive: true })
  const env = {
    OPENCTS_STORE: database.url,
    OPENCTS_MASTER_KEY_FILE: join(dir, 'master.key'),
    OPENCTS_OBJECTS_DIR: join(dir, 'objects'),
  }
  const servers: ServerProcess[] = []
  for (let index = 0; index < nodes; index++) {
    const server = await startServerProcess(join(dir, `node-${index}`), 60_000, env)
    options.track(server, true)
    servers.push(server)
  }
  const store = await openStore({ url: database.url, poolSize: 2 })
  let targets: Target[]
  try {
    targets = await mintTargets(store, projects)
  } finally {
    await store.close()
  }
  const pids = servers.map((server) => server.child.pid ?? 0).filter((pid) => pid > 0)
  return {
    label,
    database,
    nodes: servers,
    targets,
    meter: new CpuMeter({ nodePids: pids, database: database.name }),
    startBytes: 0,
    seconds: 0,
    traces: 0,
  }
}

/** Fails unless every node holds connections to the deployment's database (OPENCTS_STORE used). */
async function checkConnected(deployment: Deployment): Promise<void> {
  const rows = await deployment.database.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'opencts'`,
    [deployment.database.name],
  )
  const connections = Number(rows[0]?.n ?? 0)
  if (connections < deployment.nodes.length)
    throw new Error(
      `${deployment.label}: ${deployment.nodes.length} node(s) but ${connections} connection(s) of opencts to ${deployment.database.name}: do the nodes store in PostgreSQL?`,
    )
}

async function undeploy(options: PostgresBenchOptions, deployment: Deployment): Promise<void> {
  await Promise.all(
    deployment.nodes.map(async (server) => {
      await server.stop()
      options.track(server, false)
    }),
  )
  await deployment.database.drop()
}

/**
 * Posts `bodies` (global batch numbers from `first`) from `clients` concurrent clients: batch i
 * goes to target i mod targets, through node i mod nodes. Returns the seconds until the last 201.
 */
async function postChunk(
  deployment: Deployment,
  bodies: readonly string[],
  first: number,
  clients: number,
  onPosted: () => void,
): Promise<number> {
  let next = 0
  const started = performance.now()
  const client = async (): Promise<void> => {
    while (next < bodies.length) {
      const index = next++
      const batch = first + index
      const target = deployment.targets[batch % deployment.targets.length] as Target
      const node = deployment.nodes[batch % deployment.nodes.length] as ServerProcess
      await post(`${node.url}/v3/${target.projectId}/traces`, target.token, bodies[index] ?? '')
      onPosted()
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  return (performance.now() - started) / 1000
}

function tracesIn(body: string): number {
  return (JSON.parse(body) as { traces: unknown[] }).traces.length
}

async function runOf(deployment: Deployment, projects: number): Promise<IngestRun> {
  const cpu = deployment.meter.totals()
  const perTrace = (seconds: number): number => (seconds * 1e6) / deployment.traces
  const grown = (await deployment.database.size()) - deployment.startBytes
  return {
    nodes: deployment.nodes.length,
    projects,
    traces: deployment.traces,
    tracesPerSecond: deployment.traces / deployment.seconds,
    cpuMicrosPerTrace: perTrace(cpu.nodeSeconds + cpu.postgresSeconds),
    nodeCpuMicrosPerTrace: perTrace(cpu.nodeSeconds),
    postgresCpuMicrosPerTrace: perTrace(cpu.postgresSeconds),
    bytesPerTrace: grown / deployment.traces,
  }
}

/** 1 node and 2 nodes, each on its own fresh database, fed the same bodies in alternating rounds. */
async function ingestPair(
  options: PostgresBenchOptions,
  label: string,
  projects: number,
  warmup: readonly string[],
  bodies: readonly string[],
): Promise<IngestPair> {
  const deployments: Deployment[] = []
  try {
    deployments.push(
      await deploy(options, `${label}1`, 1, projects),
      await deploy(options, `${label}2`, 2, projects),
    )
    // Each node gets its own warm-up batches (not timed); sizes count from after them.
    for (const deployment of deployments) {
      for (const [n, node] of deployment.nodes.entries())
        for (let k = 0; k < WARMUP_BATCHES; k++) {
          const index = n * WARMUP_BATCHES + k
          const target = deployment.targets[index % deployment.targets.length] as Target
          await post(`${node.url}/v3/${target.projectId}/traces`, target.token, warmup[index] ?? '')
        }
      await checkConnected(deployment)
      deployment.startBytes = await deployment.database.size()
    }
    const bar = new ProgressBar(
      `PostgreSQL ingest, ${projects} project${projects === 1 ? '' : 's'}, 1 and 2 nodes`,
      2 * bodies.length,
    )
    let done = 0
    const perRound = Math.ceil(bodies.length / ROUNDS)
    for (let round = 0; round < ROUNDS && round * perRound < bodies.length; round++) {
      const first = round * perRound
      const chunk = bodies.slice(first, first + perRound)
      const traces = chunk.reduce((sum, body) => sum + tracesIn(body), 0)
      for (const deployment of round % 2 === 0 ? deployments : [...deployments].reverse()) {
        deployment.meter.start()
        deployment.seconds += await postChunk(deployment, chunk, first, options.clients, () =>
          bar.update(++done),
        )
        deployment.meter.stop()
        deployment.traces += traces
      }
    }
    bar.done()
    const [one, two] = deployments as [Deployment, Deployment]
    const oneNode = await runOf(one, projects)
    const twoNodes = await runOf(two, projects)
    return {
      oneNode,
      twoNodes,
      throughputRatio: twoNodes.tracesPerSecond / oneNode.tracesPerSecond,
      cpuGrowth: twoNodes.cpuMicrosPerTrace / oneNode.cpuMicrosPerTrace - 1,
    }
  } finally {
    for (const deployment of deployments) await undeploy(options, deployment)
  }
}

/** Query latency per filter at `queryTraces` traces, and the bytes per trace of that data. */
async function queryRun(
  options: PostgresBenchOptions,
): Promise<{ data: QueryData; queries: QueryResult[] }> {
  const database = await createBenchDatabase(options.adminUrl, 'query')
  const servers: ServerProcess[] = []
  let store: Store | undefined
  try {
    store = await openStore({ url: database.url })
    const emptyBytes = await database.size()
    const loaded = await appendBaseTraces(store, BENCH_ADMIN.projectId, options.queryTraces)
    await database.query('ANALYZE')
    const loadedBytes = await database.size()
    const dir = join(options.dir, database.name)
    const server = await startServerProcess(join(dir, 'node-0'), 60_000, {
      OPENCTS_STORE: database.url,
      OPENCTS_OBJECTS_DIR: join(dir, 'objects'),
    })
    options.track(server, true)
    servers.push(server)
    const query = new TraceQuery({
      traces: store.traces,
      clock: systemClock,
      retentionMs: 7 * 86_400_000,
    })
    const queries = await benchQueries(queryCases(vocabulary(), loaded.sampleIds), {
      url: server.url,
      token: server.token,
      projectId: BENCH_ADMIN.projectId,
      query,
      queries: options.queries,
      warmup: 5,
      secondsPerFilter: options.secondsPerFilter,
    })
    return {
      data: {
        traces: options.queryTraces,
        loadSeconds: loaded.seconds,
        emptyBytes,
        loadedBytes,
        bytesPerTrace: (loadedBytes - emptyBytes) / options.queryTraces,
      },
      queries,
    }
  } finally {
    for (const server of servers) {
      await server.stop()
      options.track(server, false)
    }
    await store?.close()
    await database.drop()
  }
}

/** Runs the whole PostgreSQL section (see the module comment). */
export async function benchPostgres(options: PostgresBenchOptions): Promise<PostgresResult> {
  const started = performance.now()
  const server = await serverFacts(options.adminUrl)
  process.stderr.write(
    `PostgreSQL ${server.version}: generating ${options.ingestTraces.toLocaleString('en-US')} traces for ingest\n`,
  )
  // Warm-up batches: WARMUP_BATCHES per node of the 2-node deployment, then the measured ones.
  const all = makeBodies(options.ingestTraces + 2 * WARMUP_BATCHES * 1000, 1000)
  const warmup = all.slice(0, 2 * WARMUP_BATCHES)
  const bodies = all.slice(2 * WARMUP_BATCHES)
  const meanBodyBytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length

  const copyDatabase = await createBenchDatabase(options.adminUrl, 'copy')
  let copy: CopyResult
  try {
    copy = await copyBaseline(copyDatabase, warmup, bodies, (batch) =>
      projectId(batch % options.projects),
    )
  } finally {
    await copyDatabase.drop()
  }
  const manyProjects = await ingestPair(options, 'many', options.projects, warmup, bodies)
  const hotProject = await ingestPair(options, 'hot', 1, warmup, bodies)
  const query = await queryRun(options)
  return {
    server,
    clockTicks: clockTicks(),
    ingestTraces: options.ingestTraces,
    projects: options.projects,
    meanBodyBytes,
    copy,
    manyProjects,
    hotProject,
    queryData: query.data,
    queries: query.queries,
    seconds: (performance.now() - started) / 1000,
  }
}
