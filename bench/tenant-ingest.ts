/**
 * @module bench/tenant-ingest
 * Durable batch ingest over HTTP into many tenants: batches of 1,000 traces, each to a project drawn
 * by Zipf(1.0) (the same seeded sequence for every run, so the PostgreSQL COPY baseline gets the
 * same rows into the same projects), posted by a few concurrent clients to one `opencts serve`;
 * each counts once the server answered 201 (committed). As JSON (`{"traces": [...]}`) or as NDJSON
 * (one trace per line, `Content-Type: application/x-ndjson`), when the server accepts it: the first
 * warm-up post tells (415 → not supported).
 */
import { seededRandom } from './trace-generator.js'
import { makeBodies } from './ingest-bench.js'
import type { Target } from './postgres-bench.js'
import { ProgressBar } from './progress-bar.js'
import { ZipfPicker } from './zipf.js'

export type WireForm = 'json' | 'ndjson'

const CONTENT_TYPE: Readonly<Record<WireForm, string>> = {
  json: 'application/json',
  ndjson: 'application/x-ndjson',
}

/** Batches not timed before each run (JIT, caches, pools). */
export const WARMUP_BATCHES = 3

/** Batches of one run: warm-up bodies, measured bodies, and the project rank of each. */
export interface Batches {
  readonly warmup: readonly string[]
  readonly bodies: readonly string[]
  /** Rank of the project of warm-up batch i is ranks[i], of body i ranks[WARMUP_BATCHES + i]. */
  readonly ranks: readonly number[]
  readonly traces: number
  readonly meanBodyBytes: number
}

/** The same JSON batch as NDJSON: one trace per line. */
export function toNdjson(body: string): string {
  const { traces } = JSON.parse(body) as { traces: unknown[] }
  return traces.map((trace) => JSON.stringify(trace)).join('\n') + '\n'
}

/** Fresh traces (new ids) for one run, and their projects' ranks (seeded Zipf over `projects`). */
export function makeBatches(traces: number, projects: number, form: WireForm): Batches {
  const all = makeBodies(traces + WARMUP_BATCHES * 1000, 1000).map((body) =>
    form === 'json' ? body : toNdjson(body),
  )
  const zipf = new ZipfPicker(projects, 1.0, seededRandom(23))
  const bodies = all.slice(WARMUP_BATCHES)
  return {
    warmup: all.slice(0, WARMUP_BATCHES),
    bodies,
    ranks: all.map(() => zipf.pick()),
    traces,
    meanBodyBytes: bodies.reduce((sum, b) => sum + Buffer.byteLength(b), 0) / bodies.length,
  }
}

/** One POST; returns the status (201 expected, 415 when the form is not accepted). */
async function postBatch(
  url: string,
  target: Target,
  body: string,
  form: WireForm,
): Promise<number> {
  const response = await fetch(`${url}/v3/${target.projectId}/traces`, {
    method: 'POST',
    headers: { 'content-type': CONTENT_TYPE[form], 'x-auth-token': target.token },
    body,
    signal: AbortSignal.timeout(120_000),
  })
  const text = await response.text()
  if (response.status !== 201 && response.status !== 415)
    throw new Error(`ingest (${form}) answered ${response.status}: ${text.slice(0, 300)}`)
  return response.status
}

export interface IngestRate {
  readonly form: WireForm
  /** False when the server answered 415 to the first warm-up batch (nothing measured). */
  readonly supported: boolean
  readonly traces: number
  readonly tracesPerSecond: number
  readonly meanBodyBytes: number
}

/**
 * Posts the warm-up batches, then the measured ones from `clients` concurrent clients; the rate is
 * the measured traces over the seconds until the last 201.
 */
export async function ingestRun(
  url: string,
  targets: readonly Target[],
  batches: Batches,
  form: WireForm,
  clients: number,
  label: string,
): Promise<IngestRate> {
  const target = (index: number): Target =>
    targets[(batches.ranks[index] ?? 0) % targets.length] as Target
  const unsupported = {
    form,
    supported: false,
    traces: 0,
    tracesPerSecond: Number.NaN,
    meanBodyBytes: batches.meanBodyBytes,
  }
  for (const [index, body] of batches.warmup.entries())
    if ((await postBatch(url, target(index), body, form)) === 415) return unsupported
  const bar = new ProgressBar(label, batches.bodies.length)
  let next = 0
  let done = 0
  const started = performance.now()
  const client = async (): Promise<void> => {
    while (next < batches.bodies.length) {
      const index = next++
      const status = await postBatch(
        url,
        target(WARMUP_BATCHES + index),
        batches.bodies[index] ?? '',
        form,
      )
      if (status !== 201) throw new Error(`ingest (${form}) answered ${status} after the warm-up`)
      bar.update(++done)
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  const seconds = (performance.now() - started) / 1000
  bar.done()
  return {
    form,
    supported: true,
    traces: batches.traces,
    tracesPerSecond: batches.traces / seconds,
    meanBodyBytes: batches.meanBodyBytes,
  }
}

/** Traces stored by a run (warm-up batches included): what the store holds more afterwards. */
export function storedBy(batches: Batches, rate: IngestRate): number {
  return rate.supported ? batches.traces + batches.warmup.length * 1000 : 0
}
