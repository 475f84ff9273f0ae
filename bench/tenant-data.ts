/**
 * @module bench/tenant-data
 * The embedded engine's benchmark data: P projects (tenants) in the administrator's account with a
 * token each, and base traces filled straight through the store (`openStore` + `traces.append`,
 * faster than HTTP; the stored traces are the same), Merkle log on as the server keeps it.
 *
 * Each trace goes to a tenant drawn by Zipf(1.0) (a few big tenants, many small ones); times run in
 * order over the base window (the last 7 days less a margin at each end, so the retention job does
 * not purge the oldest during a long run and ingested traces come after them), with jitter. A
 * tenant's traces are appended in batches of up to 1,000, or sooner once its oldest pending trace is
 * an hour (of trace time) older than the newest trace: small tenants make small batches, as they
 * would in a region. The fill runs in stages (`fill` up to a count, later on to a larger one) along
 * one time line, and keeps a reservoir of stored trace ids per tenant for id lookups.
 */
import { randomUUID } from 'node:crypto'
import { normalizeTrace, type TraceRecord } from '../src/model/index.js'
import type { Store } from '../src/store/index.js'
import { ProgressBar } from './progress-bar.js'
import { seededRandom, TraceGenerator } from './trace-generator.js'
import { ZipfPicker } from './zipf.js'

const HOUR_MS = 3_600_000
/** Oldest base trace: 7 days minus this before the start of the run. */
const OLD_MARGIN_MS = 4 * HOUR_MS
/** Newest base trace: this before the start of the run. */
const NEW_MARGIN_MS = 2 * HOUR_MS
const BATCH = 1000
const RESERVOIR = 200

export class TenantData {
  readonly projectIds: readonly string[]
  readonly zipf: ZipfPicker
  /** Traces stored by the fill so far (HTTP ingest is counted by its caller). */
  filled = 0
  /** Seconds spent in `fill` (all stages). */
  seconds = 0
  readonly #total: number
  readonly #start: number
  readonly #span: number
  readonly #generator = new TraceGenerator(1)
  readonly #random = seededRandom(5)
  readonly #pending: TraceRecord[][]
  readonly #samples: string[][]
  readonly #seen: number[]

  /** `total`: the traces the fill will have made at its last stage (spreads the time line). */
  constructor(projectIds: readonly string[], total: number, now = Date.now()) {
    this.projectIds = projectIds
    this.zipf = new ZipfPicker(projectIds.length, 1.0, seededRandom(11))
    this.#total = total
    this.#start = now - 7 * 24 * HOUR_MS + OLD_MARGIN_MS
    this.#span = 7 * 24 * HOUR_MS - OLD_MARGIN_MS - NEW_MARGIN_MS
    this.#pending = projectIds.map(() => [])
    this.#samples = projectIds.map(() => [])
    this.#seen = projectIds.map(() => 0)
  }

  /** Stored trace ids of tenant `rank` (a uniform sample of at most RESERVOIR). */
  samples(rank: number): readonly string[] {
    return this.#samples[rank] ?? []
  }

  /** Appends base traces until `upTo` have been filled in all (every tenant flushed at the end). */
  async fill(store: Store, upTo: number): Promise<void> {
    const from = this.filled
    if (upTo <= from) return
    const bar = new ProgressBar(
      `filling the store, ${from.toLocaleString('en-US')} → ${upTo.toLocaleString('en-US')} traces in ${this.projectIds.length} projects`,
      upTo - from,
    )
    const started = performance.now()
    let appended = 0
    const flush = async (rank: number): Promise<void> => {
      const batch = this.#pending[rank] ?? []
      if (batch.length === 0) return
      this.#pending[rank] = []
      await store.traces.append(batch)
      appended += batch.length
      bar.update(appended)
    }
    for (let i = from; i < upTo; i++) {
      const rank = this.zipf.pick()
      const time =
        this.#start + Math.floor((i / this.#total) * this.#span) + this.#generator.pick(2000)
      const trace = this.#trace(rank, time)
      const pending = this.#pending[rank] ?? []
      pending.push(trace)
      this.#pending[rank] = pending
      this.#sample(rank, trace.trace_id)
      if (pending.length >= BATCH || time - (pending[0]?.time ?? time) > HOUR_MS) await flush(rank)
    }
    for (let rank = 0; rank < this.projectIds.length; rank++) await flush(rank)
    this.filled = upTo
    this.seconds += (performance.now() - started) / 1000
    bar.done()
  }

  #trace(rank: number, time: number): TraceRecord {
    const result = normalizeTrace(this.#generator.next(time), {
      projectId: this.projectIds[rank] ?? '',
      now: time + 200 + this.#generator.pick(2000),
      newId: randomUUID,
    })
    if (!result.ok) throw new Error(`generated trace invalid: ${result.problem.message}`)
    return result.trace
  }

  /** Reservoir sampling (algorithm R) of each tenant's trace ids. */
  #sample(rank: number, traceId: string): void {
    const seen = (this.#seen[rank] ?? 0) + 1
    this.#seen[rank] = seen
    const samples = this.#samples[rank] ?? []
    if (samples.length < RESERVOIR) samples.push(traceId)
    else {
      const slot = Math.floor(this.#random() * seen)
      if (slot < RESERVOIR) samples[slot] = traceId
    }
  }
}
