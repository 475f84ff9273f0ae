/**
 * @module insights/insight-job
 * Feeds the detectors (detectors/) from the committed trace stream and stores what they find. It
 * runs under the `insights` lease (one node at a time), every `intervalMs`; cycles never overlap.
 *
 * A cycle:
 * 1. on the first cycle (or after a failure), loads the detectors' state and cursor from the store
 *    (`InsightStore.loadDetectors`; no cursor yet: from the start of the stream, seq 0);
 * 2. reads up to BATCH traces after the last one observed (`TraceStore.readFrom`) and feeds them
 *    in commit order; when the window is the last (caught up), tells the detectors the clock's
 *    time, which ends insights that went quiet;
 * 3. records each insight found as its self-audit trace (insight-trace.ts; deterministic ids,
 *    stored once), then stores the insights (`commitDetectors` with the stored cursor unchanged);
 * 4. when caught up, or CHECKPOINT_MS after the last checkpoint, writes a checkpoint: the state
 *    changed since the last one and the cursor (the last trace observed), in parts of at most
 *    CHECKPOINT_PART entries, each its own transaction, the cursor with the last;
 * repeats from 2 up to MAX_WINDOWS times, or (a scheduled cycle) until CYCLE_BUDGET_MS are spent,
 * letting the event loop serve what waits between windows and between a checkpoint's parts. What
 * a request may wait behind is one window or one part. A series rewritten by many traces between
 * checkpoints is written once (the bench's data rewrites a rate series nearly every trace), and
 * one transaction's pages are shared by many entries.
 *
 * A crash or failure replays the traces after the stored cursor from the stored state: the same
 * insights come out with the same ids, which the store and the trace append skip; insights are
 * stored before the state that follows from them. Each entry written carries `through`, the last
 * trace observed when it was written, and a counting detector skips the traces its entry already
 * counted: a checkpoint cut short between its parts (entries newer than the cursor) counts no
 * trace twice. Nothing is lost (the cursor moves only with the last part). After a failure the
 * detectors' memory is dropped and reloaded from the store; `stop` drops it too (the next holder
 * of the lease replays at most CHECKPOINT_MS of work).
 */
import type { TraceRecord } from '../model/index.js'
import type { SelfAudit } from '../ingest/index.js'
import type { Clock } from '../platform/clock.js'
import type { InsightRecord, InsightStore, TraceStore } from '../store/index.js'
import { InsightDetectors } from './detectors/insight-detectors.js'
import type { DetectorSettings } from './detectors/settings.js'
import { insightTrace } from './insight-trace.js'

/** Traces read and observed per window (on the bench's data ~80 µs a trace, a window ~8 ms). */
export const BATCH = 100
/** Time between checkpoints while behind, ms (caught up, every cycle writes one). */
export const CHECKPOINT_MS = 10_000
/** State entries written per transaction of a checkpoint (a part). */
export const CHECKPOINT_PART = 250
/** Windows per cycle at most; the rest follows in the next cycle. */
export const MAX_WINDOWS = 20
/**
 * Time a scheduled cycle may take before it stops after its window, ms (windows included, and the
 * turns of the event loop between them); while behind, the next cycle waits BEHIND_PAUSE_FACTOR
 * times what the last one took: detection keeps at most about a fifth of the event loop, which
 * ingest and queries need (see docs/insights.md, "Limits").
 */
export const CYCLE_BUDGET_MS = 20
export const BEHIND_PAUSE_FACTOR = 4

export interface InsightJobDeps {
  readonly traces: Pick<TraceStore, 'readFrom'>
  readonly insights: InsightStore
  /** Commits (and publishes) the insights' traces: ingest's commitTraces. */
  readonly commitTraces: (traces: readonly TraceRecord[]) => Promise<unknown>
  readonly audit: SelfAudit
  readonly clock: Clock
  readonly settings: DetectorSettings
  /** Time between cycles, ms. */
  readonly intervalMs: number
  /** State entries per transaction of a checkpoint; default CHECKPOINT_PART. */
  readonly checkpointPart?: number
  readonly onError?: (error: unknown) => void
  /** Told of every insight stored (logs, metrics). */
  readonly onInsight?: (insight: InsightRecord) => void
}

export interface InsightCycleReport {
  /** Traces fed to the detectors. */
  readonly read: number
  /** Insight events newly stored. */
  readonly stored: number
  /** Whether the stream was read to its end. */
  readonly caughtUp: boolean
}

export class InsightJob {
  readonly #deps: InsightJobDeps
  #detectors: InsightDetectors | undefined
  /** The last trace observed. */
  #cursor = 0
  /** The stored cursor: the last trace observed at the last complete checkpoint. */
  #checkpointed = 0
  /** When the last checkpoint was written (performance.now()). */
  #checkpointAt = 0
  #running: Promise<InsightCycleReport> | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = true

  constructor(deps: InsightJobDeps) {
    this.#deps = deps
  }

  /** Runs a cycle now, then every `intervalMs` (at once while behind), until `stop()`. */
  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#schedule(0)
  }

  /** Stops the timer and waits for the cycle in flight; the next start reloads the state. */
  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running?.catch(() => undefined)
    this.#detectors = undefined
  }

  /**
   * One cycle (a call during a cycle waits for it, then runs its own); with `budgetMs`, it stops
   * after the window that spends the budget (the scheduler's cycles).
   */
  async runCycle(budgetMs = Infinity): Promise<InsightCycleReport> {
    while (this.#running !== undefined) await this.#running.catch(() => undefined)
    const run = this.#cycle(budgetMs)
    this.#running = run
    try {
      return await run
    } catch (error) {
      this.#detectors = undefined
      throw error
    } finally {
      this.#running = undefined
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      let behind = false
      const started = performance.now()
      void this.runCycle(CYCLE_BUDGET_MS)
        .then((report) => {
          behind = !report.caughtUp
        })
        .catch((error: unknown) => this.#deps.onError?.(error))
        .finally(() =>
          this.#schedule(
            behind
              ? Math.min(this.#deps.intervalMs, BEHIND_PAUSE_FACTOR * (performance.now() - started))
              : this.#deps.intervalMs,
          ),
        )
    }, delayMs)
    this.#timer.unref()
  }

  async #cycle(budgetMs: number): Promise<InsightCycleReport> {
    const started = performance.now()
    const { traces, clock } = this.#deps
    let detectors = this.#detectors
    if (detectors === undefined) {
      const state = await this.#deps.insights.loadDetectors()
      detectors = new InsightDetectors(this.#deps.settings, state.entries)
      this.#cursor = this.#checkpointed = state.cursor ?? 0
      this.#checkpointAt = performance.now()
      this.#detectors = detectors
    }
    let read = 0
    let stored = 0
    for (let step = 0; step < MAX_WINDOWS; step++) {
      const window = await traces.readFrom(this.#cursor, BATCH)
      const drafts = window.flatMap((t) => detectors.observe(t.trace, t.seq))
      read += window.length
      this.#cursor = window.at(-1)?.seq ?? this.#cursor
      const caughtUp = window.length < BATCH
      if (caughtUp) drafts.push(...detectors.advance(clock.now()))
      stored += await this.#store(drafts)
      if (caughtUp || performance.now() - this.#checkpointAt >= CHECKPOINT_MS)
        await this.#checkpoint(detectors)
      if (caughtUp) return { read, stored, caughtUp }
      if (performance.now() - started >= budgetMs) break
      // Between windows the event loop serves what waits (requests, ingest).
      await new Promise((resolve) => setImmediate(resolve))
    }
    return { read, stored, caughtUp: false }
  }

  /** Records and stores the insights found; the stored cursor stays where it is. */
  async #store(drafts: ReturnType<InsightDetectors['observe']>): Promise<number> {
    if (drafts.length === 0) return 0
    const now = this.#deps.clock.now()
    const insights: InsightRecord[] = drafts.map((draft) => ({ ...draft, detected_at: now }))
    await this.#deps.commitTraces(insights.map((i) => insightTrace(this.#deps.audit, i)))
    const fresh = new Set(
      await this.#deps.insights.commitDetectors({
        cursor: this.#checkpointed,
        upserts: [],
        deletes: [],
        insights,
      }),
    )
    for (const insight of insights) if (fresh.has(insight.id)) this.#deps.onInsight?.(insight)
    return fresh.size
  }

  /** Writes the state changed since the last checkpoint in parts, the cursor with the last. */
  async #checkpoint(detectors: InsightDetectors): Promise<void> {
    const through = this.#cursor
    const size = this.#deps.checkpointPart ?? CHECKPOINT_PART
    // Each part but the last drains `size` entries: the count of parts is bounded.
    const parts = Math.ceil(detectors.pending / size) + 1
    for (let part = 0; part < parts; part++) {
      const { upserts, deletes, done } = detectors.drain(through, size)
      if (done && upserts.length === 0 && deletes.length === 0 && through === this.#checkpointed)
        break
      await this.#deps.insights.commitDetectors({
        cursor: done ? through : this.#checkpointed,
        upserts,
        deletes,
        insights: [],
      })
      if (done) {
        this.#checkpointed = through
        break
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.#checkpointAt = performance.now()
  }
}
