/**
 * @module ingest/prepare-pool
 * The ingest worker threads: N threads (setting `ingestWorkers`) run `prepareIngest` (parse,
 * normalise, document, leaf hash, the engine's encoding) off the event loop; with 0 threads it runs
 * on the event loop, as it did before the pool.
 *
 * - Same answers everywhere: the threads run the event loop's code; an OpenCtsError comes back as
 *   its code and message and is rethrown as the same error.
 * - Never lost: a thread that cannot start or dies (its heap is bounded, `resourceLimits`) has its
 *   batches prepared on the event loop instead; the slot is restarted later with a backoff, and is
 *   left off after MAX_RESTARTS failures in a row (no successful batch between them).
 * - Bounded queue: every job is a request body the HTTP layer has admitted within the in-flight
 *   body budget (http/body-intake), held until its answer; so the jobs posted to the threads
 *   never exceed that budget. A job's bytes are copied to the thread (the event loop keeps them
 *   for the fallback until the job is done), so the budget's bytes count twice at most.
 * - Threads are started on first use and keep the process alive only while a batch is pending; a
 *   thread without a batch for IDLE_STOP_MS is stopped, which gives its heap back (~50 MB a thread
 *   after sustained ingest, more with its 64 MB young generation), and the next batch starts it
 *   again.
 */
import { Worker } from 'node:worker_threads'
import { OpenCtsError } from '../errors/index.js'
import type { ErrorCode } from '../errors/index.js'
import type { PrepareBatch } from '../store/index.js'
import {
  addTimes,
  emptyTimes,
  loadPrepareBatch,
  prepareIngest,
  type PrepareJob,
  type PrepareTimes,
  type PreparedIngest,
} from './prepare-batch.js'

/** What a thread posts back for a job. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly result: PreparedIngest }
  | {
      readonly id: number
      readonly ok: false
      /** The OpenCtsError code, or null for an unexpected error. */
      readonly code: ErrorCode | null
      readonly message: string
    }

/** Old-generation heap of a thread, MB: a 12 MB batch parses into well under 200 MB. */
const WORKER_HEAP_MB = 256
/**
 * Young generation of a thread, MB: a batch's parsed traces and encodings are short-lived, and
 * with V8's default the threads spent 10–14% of a `--cpu-prof` collecting. Measured on a
 * server spawned per run, one project, 290,000 bench traces in 1,000-trace batches, 4 clients, log
 * on: default 35.6k traces/s, 32 MB 35.4k, 64 MB 39.6–41.4k (four runs), 96 MB 39.6k; peak RSS
 * 344 → 399 MiB.
 */
const WORKER_YOUNG_MB = 64
/** Consecutive failures (start or death, no batch done between) after which a slot stays off. */
const MAX_RESTARTS = 8
const FIRST_RESTART_DELAY_MS = 250
const MAX_RESTART_DELAY_MS = 30_000
/** A thread with no batch for this long is stopped (see the module comment). */
export const IDLE_STOP_MS = 10_000

export interface PreparePoolOptions {
  /** Threads; 0: everything on the event loop. */
  readonly workers: number
  /** Ids of traces reported without one, for batches prepared on the event loop. */
  readonly newId: () => string
  /** Called when a thread fails (cannot start, dies); for the log. */
  readonly onWorkerError?: (error: unknown) => void
  /** Milliseconds without a batch after which a thread is stopped (default IDLE_STOP_MS). */
  readonly idleStopMs?: number
}

/** Cumulative figures of the pool (see PrepareTimes), for the benchmark. */
export interface PreparePoolStats extends PrepareTimes {
  /** Batches prepared (successfully or not), by a thread or on the event loop. */
  batches: number
  /** Batches prepared on the event loop because no thread could (0 threads, or a thread failed). */
  onEventLoop: number
  /** Thread failures (could not start, died). */
  workerFailures: number
}

interface Pending {
  readonly job: PrepareJob
  readonly resolve: (result: PreparedIngest) => void
  readonly reject: (error: unknown) => void
}

interface Slot {
  worker: Worker | null
  readonly pending: Map<number, Pending>
  /** Failures since the last batch this slot's thread prepared. */
  failures: number
  /** Set while the slot waits to restart. */
  restart: NodeJS.Timeout | null
  /** Set while the slot's thread has no batch: stops it when it fires. */
  idle: NodeJS.Timeout | null
}

export class PreparePool {
  readonly #options: PreparePoolOptions
  readonly #slots: Slot[]
  readonly #stats: PreparePoolStats = {
    ...emptyTimes(),
    batches: 0,
    onEventLoop: 0,
    workerFailures: 0,
  }
  readonly #preparers = new Map<string, Promise<PrepareBatch>>()
  readonly #idleStopMs: number
  #nextId = 0

  constructor(options: PreparePoolOptions) {
    this.#options = options
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS
    this.#slots = Array.from({ length: Math.max(0, options.workers) }, () => ({
      worker: null,
      pending: new Map(),
      failures: 0,
      restart: null,
      idle: null,
    }))
  }

  /** Prepares a batch; rejects with the OpenCtsError a client's mistake earns. */
  async run(job: PrepareJob): Promise<PreparedIngest> {
    const slot = this.#pick()
    const worker = slot === undefined ? null : this.#workerOf(slot)
    if (slot === undefined || worker === null) return this.#onEventLoop(job)
    return new Promise<PreparedIngest>((resolve, reject) => {
      const id = this.#nextId++
      slot.pending.set(id, { job, resolve, reject })
      this.#busy(slot)
      if (slot.pending.size === 1) worker.ref()
      try {
        // Copied, not moved: the bytes stay here for the fallback should the thread die.
        worker.postMessage({ id, job })
      } catch {
        this.#settleOnEventLoop(slot, id)
      }
    })
  }

  /** Cumulative figures (a copy). */
  stats(): PreparePoolStats {
    return { ...this.#stats }
  }

  /** Threads running now (for tests). */
  get liveWorkers(): number {
    return this.#slots.filter((s) => s.worker !== null).length
  }

  /**
   * Test hook: terminates the thread of slot `index` as a crash would (its pending batches are
   * prepared on the event loop, the slot is restarted later). Resolves once it has exited.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.#slots[index]?.worker?.terminate()
  }

  /**
   * Stops the threads (pending batches are prepared on the event loop) and the restarts. The pool
   * stays usable: a later batch starts threads again.
   */
  async close(): Promise<void> {
    const exits: Promise<number>[] = []
    for (const slot of this.#slots) {
      if (slot.restart !== null) clearTimeout(slot.restart)
      slot.restart = null
      this.#busy(slot)
      slot.failures = 0
      const worker = slot.worker
      slot.worker = null
      if (worker !== null) {
        this.#drain(slot)
        exits.push(worker.terminate())
      }
    }
    await Promise.all(exits)
  }

  /** The usable slot with the fewest pending batches. */
  #pick(): Slot | undefined {
    let best: Slot | undefined
    for (const slot of this.#slots) {
      if (slot.restart !== null || slot.failures >= MAX_RESTARTS) continue
      if (best === undefined || slot.pending.size < best.pending.size) best = slot
    }
    return best
  }

  /** The slot's thread, started when it has none; null when it cannot start. */
  #workerOf(slot: Slot): Worker | null {
    if (slot.worker !== null) return slot.worker
    let worker: Worker
    try {
      worker = new Worker(new URL('./prepare-worker.js', import.meta.url), {
        resourceLimits: {
          maxOldGenerationSizeMb: WORKER_HEAP_MB,
          maxYoungGenerationSizeMb: WORKER_YOUNG_MB,
        },
      })
    } catch (error) {
      this.#failed(slot, error)
      return null
    }
    slot.worker = worker
    worker.on('message', (reply: WorkerReply) => this.#answered(slot, reply))
    worker.on('error', (error) => this.#died(slot, worker, error))
    worker.on('exit', (code) => this.#died(slot, worker, new Error(`exited with ${code}`)))
    // After the listeners: attaching a 'message' listener refs the thread again.
    worker.unref()
    return worker
  }

  #answered(slot: Slot, reply: WorkerReply): void {
    const pending = slot.pending.get(reply.id)
    if (pending === undefined) return
    slot.pending.delete(reply.id)
    if (slot.pending.size === 0) this.#rest(slot)
    slot.failures = 0
    this.#stats.batches++
    if (reply.ok) {
      addTimes(this.#stats, reply.result.times)
      pending.resolve(reply.result)
    } else if (reply.code !== null) {
      pending.reject(new OpenCtsError(reply.code, { message: reply.message }))
    } else {
      pending.reject(new Error(`preparing an ingest batch failed: ${reply.message}`))
    }
  }

  /** The slot has a batch again: its thread is not stopped for idleness. */
  #busy(slot: Slot): void {
    if (slot.idle !== null) clearTimeout(slot.idle)
    slot.idle = null
  }

  /** The slot's thread has no batch left: it stops holding the process, and stops when idle. */
  #rest(slot: Slot): void {
    const worker = slot.worker
    if (worker === null) return
    worker.unref()
    this.#busy(slot)
    slot.idle = setTimeout(() => {
      slot.idle = null
      if (slot.worker !== worker || slot.pending.size > 0) return
      // Not a failure: #died ignores the exit of a thread that is no longer the slot's.
      slot.worker = null
      void worker.terminate()
    }, this.#idleStopMs)
    slot.idle.unref()
  }

  /** A thread failed (an error, then its exit, or only the exit): once per thread. */
  #died(slot: Slot, worker: Worker, error: unknown): void {
    if (slot.worker !== worker) return
    slot.worker = null
    this.#drain(slot)
    this.#failed(slot, error)
  }

  #failed(slot: Slot, error: unknown): void {
    this.#stats.workerFailures++
    slot.failures++
    this.#options.onWorkerError?.(error)
    if (slot.failures >= MAX_RESTARTS) return
    const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (slot.failures - 1))
    slot.restart = setTimeout(() => {
      slot.restart = null
    }, delay)
    slot.restart.unref()
  }

  /** Prepares the slot's pending batches on the event loop. */
  #drain(slot: Slot): void {
    for (const id of [...slot.pending.keys()]) this.#settleOnEventLoop(slot, id)
  }

  #settleOnEventLoop(slot: Slot, id: number): void {
    const pending = slot.pending.get(id)
    if (pending === undefined) return
    slot.pending.delete(id)
    if (slot.pending.size === 0) this.#rest(slot)
    this.#onEventLoop(pending.job).then(pending.resolve, pending.reject)
  }

  async #onEventLoop(job: PrepareJob): Promise<PreparedIngest> {
    this.#stats.batches++
    this.#stats.onEventLoop++
    const result = await prepareIngest(job, this.#options.newId, (module) => this.#preparer(module))
    addTimes(this.#stats, result.times)
    return result
  }

  #preparer(module: string): Promise<PrepareBatch> {
    let loaded = this.#preparers.get(module)
    if (loaded === undefined) {
      loaded = loadPrepareBatch(module)
      loaded.catch(() => this.#preparers.delete(module))
      this.#preparers.set(module, loaded)
    }
    return loaded
  }
}
