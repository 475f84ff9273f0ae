/**
 * @module bench/ingest-bench
 * Batch ingest throughput: OpenCTS over HTTP (a real server process, batches of 1,000 traces posted
 * by a few concurrent fetch clients, each acknowledged only once committed) against the baseline of
 * raw better-sqlite3 inserts of the same rows into the same table and indexes (TRACE_TABLE_SQL,
 * INSERT_TRACE_SQL, traceRow), one transaction per 1,000 rows, WAL, synchronous=NORMAL. Only the
 * insert transactions of the baseline are timed; its row preparation is not.
 *
 * The cost of the Merkle log: two server processes, `OPENCTS_MERKLE_LOG=true` and `false`, ingest
 * the same bodies in the same run, in alternating rounds (each round's chunk to one, then the
 * other, the order swapped every round) so that drift of the machine affects both alike.
 */
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { normalizeTrace } from '../src/model/index.js'
import { CONNECTION_PRAGMAS, TRACE_TABLE_SQL } from '../src/store/sqlite/schema.js'
import { INSERT_TRACE_SQL, traceRow } from '../src/store/sqlite/sqlite-trace-store.js'
import { ProgressBar } from './progress-bar.js'
import { startServerProcess, type ServerProcess } from './server-process.js'
import { TraceGenerator } from './trace-generator.js'

export interface IngestOptions {
  readonly dir: string
  readonly projectId: string
  readonly traces: number
  readonly clients: number
  readonly batchSize: number
  readonly onServer: (server: ServerProcess | undefined) => void
}

export interface IngestResult {
  readonly traces: number
  /** Over HTTP with the Merkle log on (the default). */
  readonly httpTracesPerSecond: number
  /** Over HTTP with the Merkle log off, same traces, same run. */
  readonly httpLogOffTracesPerSecond: number
  readonly rawTracesPerSecond: number
  readonly meanBodyBytes: number
}

export const WARMUP_BATCHES = 3
/** Rounds of the alternating log-on / log-off measurement. */
const ROUNDS = 10

export function makeBodies(count: number, batchSize: number): string[] {
  const generator = new TraceGenerator(42)
  const now = Date.now()
  const bodies: string[] = []
  for (let start = 0; start < count; start += batchSize) {
    const traces = []
    for (let i = start; i < Math.min(count, start + batchSize); i++)
      traces.push(generator.next(now - 1_800_000 + Math.floor((i / count) * 1_700_000)))
    bodies.push(JSON.stringify({ traces }))
  }
  return bodies
}

export async function post(url: string, token: string, body: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body,
    signal: AbortSignal.timeout(120_000),
  })
  const text = await response.text()
  if (response.status !== 201)
    throw new Error(`ingest answered ${response.status}: ${text.slice(0, 300)}`)
}

/** Posts `bodies` from `clients` concurrent clients; returns the seconds until the last 201. */
async function postAll(
  url: string,
  token: string,
  bodies: readonly string[],
  clients: number,
  onPosted: () => void,
): Promise<number> {
  let next = 0
  const started = performance.now()
  const client = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++] ?? ''
      await post(url, token, body)
      onPosted()
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  return (performance.now() - started) / 1000
}

/** Traces per second over HTTP with the Merkle log on and off (two servers, alternating rounds). */
async function httpRates(
  options: IngestOptions,
  warmup: string[],
  bodies: string[],
): Promise<{ on: number; off: number }> {
  const start = async (log: 'on' | 'off'): Promise<ServerProcess> => {
    const server = await startServerProcess(join(options.dir, 'ingest-http', log), 60_000, {
      OPENCTS_MERKLE_LOG: String(log === 'on'),
    })
    options.onServer(server)
    return server
  }
  const servers: ServerProcess[] = []
  try {
    servers.push(await start('on'), await start('off'))
    const targets = servers.map((server) => ({
      url: `${server.url}/v3/${options.projectId}/traces`,
      token: server.token,
      seconds: 0,
    }))
    for (const target of targets)
      for (const body of warmup) await post(target.url, target.token, body)
    const bar = new ProgressBar('ingest over HTTP, Merkle log on and off', 2 * bodies.length)
    let done = 0
    const perRound = Math.ceil(bodies.length / ROUNDS)
    for (let round = 0; round * perRound < bodies.length; round++) {
      const chunk = bodies.slice(round * perRound, (round + 1) * perRound)
      for (const target of round % 2 === 0 ? targets : [...targets].reverse())
        target.seconds += await postAll(target.url, target.token, chunk, options.clients, () =>
          bar.update(++done),
        )
    }
    bar.done()
    const [on, off] = targets.map((target) => options.traces / target.seconds)
    return { on: on ?? 0, off: off ?? 0 }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
    options.onServer(undefined)
  }
}

function rawRate(options: IngestOptions, warmup: string[], bodies: string[]): number {
  const db = new Database(join(options.dir, 'ingest-raw.db'))
  try {
    for (const pragma of CONNECTION_PRAGMAS) db.pragma(pragma)
    db.pragma('synchronous = NORMAL')
    db.exec(TRACE_TABLE_SQL)
    const insert = db.prepare(INSERT_TRACE_SQL)
    const insertAll = db.transaction((rows: unknown[][]) => {
      for (const row of rows) insert.run(...row)
    })
    const rowsOf = (body: string): unknown[][] =>
      (JSON.parse(body) as { traces: unknown[] }).traces.map((input) => {
        const result = normalizeTrace(input, {
          projectId: options.projectId,
          now: Date.now(),
          newId: randomUUID,
        })
        if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
        return traceRow(result.trace)
      })
    for (const body of warmup) insertAll(rowsOf(body))
    const bar = new ProgressBar('raw better-sqlite3 inserts', bodies.length)
    let seconds = 0
    bodies.forEach((body, index) => {
      const rows = rowsOf(body)
      const started = performance.now()
      insertAll(rows)
      seconds += (performance.now() - started) / 1000
      bar.update(index + 1)
    })
    bar.done()
    return options.traces / seconds
  } finally {
    db.close()
  }
}

export async function benchIngest(options: IngestOptions): Promise<IngestResult> {
  process.stderr.write(`generating ${options.traces.toLocaleString('en-US')} traces for ingest\n`)
  const all = makeBodies(options.traces + WARMUP_BATCHES * options.batchSize, options.batchSize)
  const warmup = all.slice(0, WARMUP_BATCHES)
  const bodies = all.slice(WARMUP_BATCHES)
  const meanBodyBytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length
  const http = await httpRates(options, warmup, bodies)
  const raw = rawRate(options, warmup, bodies)
  return {
    traces: options.traces,
    httpTracesPerSecond: http.on,
    httpLogOffTracesPerSecond: http.off,
    rawTracesPerSecond: raw,
    meanBodyBytes,
  }
}
