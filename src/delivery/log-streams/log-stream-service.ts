/**
 * @module delivery/log-streams/log-stream-service
 * The durable streamer: one cursor per sink (`DeliveryStore.getCursor('log-stream:<sink>')`), read
 * from the store's commit order, so that every sink gets every streamed trace at least once, in
 * commit order, whatever happens to the process or to the other sinks.
 *
 * A cycle runs every `intervalMs` and right after commits (the in-process Publisher wakes it).
 * Cycles never overlap. Per cycle the trackers are listed once (a tracker enabled, disabled or
 * given LTS takes effect in the next cycle); then every sink, concurrently:
 * 1. a sink whose cursor was never set (a new sink) starts at the store's head: it streams what
 *    is committed from now on. A cursor set to 0 (the sink was added to an empty store) is a
 *    cursor like any other: after a restart nothing committed since is skipped;
 * 2. read up to `batchSize` (500) traces after the cursor; keep those a streaming tracker takes
 *    (stream-selection.ts); send them as one batch;
 * 3. only when the sink accepted the batch (or it was empty), set the cursor to the window's last
 *    `seq`; repeat until caught up, at most MAX_WINDOWS_PER_CYCLE times.
 * A failing sink keeps its cursor and is tried again after a backoff (one interval, doubling per
 * further failure up to MAX_BACKOFF_MS); the other sinks go on. A crash between a send and the
 * cursor update sends the batch again: receivers may see duplicates, never gaps.
 */
import type { Clock } from '../../platform/clock.js'
import type { ConfigStore, DeliveryStore, TraceStore } from '../../store/index.js'
import type { LogSink } from './log-sink.js'
import { selectRecords, streamIndex, type StreamIndex } from './stream-selection.js'

export const DEFAULT_BATCH_SIZE = 500
/** Windows read per sink and cycle at most; the rest follows in the next cycle. */
export const MAX_WINDOWS_PER_CYCLE = 20
/** The longest wait before a failing sink is tried again. */
export const MAX_BACKOFF_MS = 60_000

export type LogStreamOutcome = 'sent' | 'failed'

export interface LogStreamServiceDeps {
  readonly traces: Pick<TraceStore, 'readFrom' | 'headSeq'>
  readonly cursors: Pick<DeliveryStore, 'getCursor' | 'setCursor'>
  readonly trackers: Pick<ConfigStore, 'listAllTrackers'>
  /** Owned by the service from now on: `stop()` closes them. Names must be distinct. */
  readonly sinks: readonly LogSink[]
  readonly clock: Clock
  /** Time between cycles, ms; also the first backoff of a failing sink. */
  readonly intervalMs: number
  /** Wakes the streamer right after commits; without it only the interval runs cycles. */
  readonly publisher?: { subscribe(listener: () => void): () => void }
  /** Records of each batch a sink took (`sent`) or refused (`failed`), for metrics. */
  readonly onOutcome?: (sink: string, outcome: LogStreamOutcome, count: number) => void
  /** A failed batch or store call; `sink` is null when the cycle failed before any sink ran. */
  readonly onError?: (error: unknown, sink: string | null) => void
  /** Records per batch at most (1..500). Default 500. */
  readonly batchSize?: number
}

/** What one cycle did to one sink, for tests and logs. */
export interface SinkCycleReport {
  readonly sink: string
  /** Records the sink took. */
  readonly sent: number
  /** The sink was waiting out its backoff and not tried. */
  readonly deferred: boolean
  /** Set when the sink (or the store) failed; its cursor stays before the failed batch. */
  readonly error?: unknown
}

interface SinkState {
  readonly sink: LogSink
  readonly cursorName: string
  failures: number
  retryAt: number
}

export function cursorName(sink: string): string {
  return `log-stream:${sink}`
}

export class LogStreamService {
  readonly #deps: LogStreamServiceDeps
  readonly #states: SinkState[]
  readonly #batchSize: number
  #timer: NodeJS.Timeout | undefined
  #running: Promise<SinkCycleReport[]> | undefined
  #unsubscribe: (() => void) | undefined
  #stopped = true
  /** Set by stop(): a cycle in flight ends after its current batch. */
  #stopRequested = false
  #again = false

  constructor(deps: LogStreamServiceDeps) {
    const names = new Set(deps.sinks.map((s) => s.name))
    if (names.size !== deps.sinks.length) throw new RangeError('log sink names must be distinct')
    const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE
    if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= DEFAULT_BATCH_SIZE))
      throw new RangeError(
        `batchSize ${batchSize}, want an integer from 1 to ${DEFAULT_BATCH_SIZE}`,
      )
    this.#deps = deps
    this.#batchSize = batchSize
    this.#states = deps.sinks.map((sink) => ({
      sink,
      cursorName: cursorName(sink.name),
      failures: 0,
      retryAt: 0,
    }))
  }

  /** Runs a cycle now, then every `intervalMs` and after commits, until `stop()`. */
  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#stopRequested = false
    this.#unsubscribe = this.#deps.publisher?.subscribe(() => this.#wake())
    this.#schedule(0)
  }

  /** Stops the timer, waits for the cycle in flight, then closes the sinks. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#stopRequested = true
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    clearTimeout(this.#timer)
    await this.#running?.catch(() => undefined)
    await Promise.allSettled(this.#states.map((s) => s.sink.close()))
  }

  /**
   * One cycle over every sink (a call during a cycle waits for it, then runs its own). Does
   * nothing after `stop()` (every sink reported `deferred`) until `start()`.
   */
  async runCycle(): Promise<SinkCycleReport[]> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined)
    const run = this.#cycle()
    this.#running = run
    try {
      return await run
    } finally {
      this.#running = undefined
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#again = false
      void this.runCycle()
        .catch((error: unknown) => this.#deps.onError?.(error, null))
        .finally(() => this.#schedule(this.#again ? 0 : this.#deps.intervalMs))
    }, delayMs)
    this.#timer.unref()
  }

  /** A commit happened: run a cycle soon (after the one in flight, if any). */
  #wake(): void {
    if (this.#stopped) return
    if (this.#running !== undefined) this.#again = true
    else this.#schedule(0)
  }

  async #cycle(): Promise<SinkCycleReport[]> {
    // After stop() the sinks are closed (and the store may be): nothing more is sent.
    if (this.#stopRequested)
      return this.#states.map((s) => ({ sink: s.sink.name, sent: 0, deferred: true }))
    let index: StreamIndex
    try {
      index = streamIndex(await this.#deps.trackers.listAllTrackers())
    } catch (error) {
      this.#deps.onError?.(error, null)
      return this.#states.map((s) => ({ sink: s.sink.name, sent: 0, deferred: false, error }))
    }
    return Promise.all(this.#states.map((state) => this.#runSink(state, index)))
  }

  async #runSink(state: SinkState, index: StreamIndex): Promise<SinkCycleReport> {
    const { traces, cursors, clock } = this.#deps
    const name = state.sink.name
    if (clock.now() < state.retryAt) return { sink: name, sent: 0, deferred: true }
    let sent = 0
    try {
      let cursor = await cursors.getCursor(state.cursorName)
      if (cursor === undefined) {
        cursor = await traces.headSeq()
        await cursors.setCursor(state.cursorName, cursor)
      }
      for (let step = 0; step < MAX_WINDOWS_PER_CYCLE && !this.#stopRequested; step++) {
        const window = await traces.readFrom(cursor, this.#batchSize)
        const last = window.at(-1)
        if (last === undefined) break
        const records = selectRecords(window, index)
        if (records.length > 0) {
          try {
            await state.sink.send(records)
          } catch (error) {
            this.#deps.onOutcome?.(name, 'failed', records.length)
            throw error
          }
          sent += records.length
          this.#deps.onOutcome?.(name, 'sent', records.length)
        }
        cursor = last.seq
        await cursors.setCursor(state.cursorName, cursor)
        if (window.length < this.#batchSize) break
      }
    } catch (error) {
      state.failures++
      const backoff = Math.min(
        this.#deps.intervalMs * 2 ** (state.failures - 1),
        Math.max(MAX_BACKOFF_MS, this.#deps.intervalMs),
      )
      state.retryAt = clock.now() + backoff
      this.#deps.onError?.(error, name)
      return { sink: name, sent, deferred: false, error }
    }
    state.failures = 0
    state.retryAt = 0
    return { sink: name, sent, deferred: false }
  }
}
