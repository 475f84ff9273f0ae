/**
 * @module store/retention-job
 * Deletes traces older than the retention period (default 7 days) in bounded steps, on a timer and
 * once at start. Each step deletes at most `batchRows` rows so that ingest is never blocked for long.
 * The same run also drops expired tokens (`purgeTokens`), which are of no use to anyone, and
 * notification deliveries that are finished (delivered or dead) and as old as the traces purged
 * (`purgeDeliveries`); pending ones are kept whatever their age. Checkpoints of the verifiable log
 * as old as the traces purged are thinned to one per hour per project (`thinCheckpoints`): the tree
 * itself is kept, so consistency proofs between any sizes still work. Insights as old as the traces
 * purged go too (`purgeInsights`).
 */
import type { Clock } from '../platform/clock.js'
import type { TraceStore } from './store.js'

export interface RetentionJobOptions {
  readonly traces: TraceStore
  readonly clock: Clock
  readonly retentionMs: number
  readonly intervalMs: number
  /** Rows per delete step. Default 5,000. */
  readonly batchRows?: number
  /** Max steps per run, so one run is bounded in time. Default 200 (1 M rows). */
  readonly maxSteps?: number
  readonly onError?: (error: unknown) => void
  readonly onPurged?: (count: number) => void
  /** Deletes expired tokens; returns how many. */
  readonly purgeTokens?: () => Promise<number>
  /** Deletes delivered and dead notification deliveries created before the cutoff. */
  readonly purgeDeliveries?: (cutoff: number) => Promise<number>
  /** Keeps one checkpoint per hour per project among those signed before the cutoff. */
  readonly thinCheckpoints?: (cutoff: number) => Promise<number>
  /** Deletes insights whose time is before the cutoff. */
  readonly purgeInsights?: (cutoff: number) => Promise<number>
}

export class RetentionJob {
  readonly #options: RetentionJobOptions
  #timer: NodeJS.Timeout | undefined
  #running: Promise<number> | undefined

  constructor(options: RetentionJobOptions) {
    this.#options = options
  }

  start(): void {
    if (this.#timer !== undefined) return
    void this.runOnce()
    this.#timer = setInterval(() => void this.runOnce(), this.#options.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** One purge run; concurrent calls share the run in progress. Never rejects; returns rows deleted. */
  runOnce(): Promise<number> {
    this.#running ??= this.#purge().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #purge(): Promise<number> {
    const { traces, clock, retentionMs, batchRows = 5000, maxSteps = 200 } = this.#options
    const cutoff = clock.now() - retentionMs
    let total = 0
    try {
      for (let step = 0; step < maxSteps; step++) {
        const deleted = await traces.purgeBefore(cutoff, batchRows)
        total += deleted
        if (deleted < batchRows) break
      }
      await this.#options.purgeTokens?.()
      await this.#options.purgeDeliveries?.(cutoff)
      await this.#options.thinCheckpoints?.(cutoff)
      await this.#options.purgeInsights?.(cutoff)
    } catch (error) {
      this.#options.onError?.(error)
    }
    if (total > 0) this.#options.onPurged?.(total)
    return total
  }
}
