/**
 * @module bench/ingest-bench
 * The cost of the Merkle log in batch ingest over HTTP (real server processes, batches of 1,000
 * traces of one project posted by a few concurrent fetch clients, each acknowledged only once
 * committed). The raw better-sqlite3 baseline of the row store is gone: it wrote the row store's
 * table and indexes, which a new embedded engine need not have; embedded-bench compares with raw
 * PostgreSQL COPY instead. Two server processes, `OPENCTS_MERKLE_LOG=true` and `false`, ingest
 * the same bodies in the same run, in alternating rounds (each round's chunk to one, then the
 * other, the order swapped every round) so that drift of the machine affects both alike.
 */
import { join } from 'node:path'
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

export async function benchIngest(options: IngestOptions): Promise<IngestResult> {
  process.stderr.write(`generating ${options.traces.toLocaleString('en-US')} traces for ingest\n`)
  const all = makeBodies(options.traces + WARMUP_BATCHES * options.batchSize, options.batchSize)
  const warmup = all.slice(0, WARMUP_BATCHES)
  const bodies = all.slice(WARMUP_BATCHES)
  const meanBodyBytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length
  const http = await httpRates(options, warmup, bodies)
  return {
    traces: options.traces,
    httpTracesPerSecond: http.on,
    httpLogOffTracesPerSecond: http.off,
    meanBodyBytes,
  }
}
