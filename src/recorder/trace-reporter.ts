/**
 * @module recorder/trace-reporter
 * The recorder's outbound side: a bounded in-memory queue of traces, sent in batches to OpenCTS
 * through an injected `TraceSender` (the CLI gives one over HTTP with the producer's credential,
 * signed for the project of each batch). A batch holds the traces of one project only, and is sent
 * under that project. Enqueueing never blocks and never throws, so the recorded API never waits on,
 * or fails because of, OpenCTS.
 *
 * Nothing is lost silently; every trace not (yet) sent shows in a count of `stats()`:
 * - a batch that fails for a while (network, 5xx, 429) stays queued and is retried with back-off;
 * - a batch OpenCTS refuses for good (4xx: no right on the project, invalid trace) is counted in
 *   `rejected`, reported to `onRejected` (the CLI logs it) and kept: written to the dead-letter
 *   store when one is given (`deadLettered`; the operator replays it, docs/recorder.md), else held
 *   in memory (`held`, at most `maxHeld` traces) and retried with a long back-off (the right may be
 *   granted meanwhile); only what neither can take is dropped (`droppedHeldFull`, reported too);
 * - a full queue drops the trace (`droppedQueueFull`, reported once per episode of drops);
 * - on `close()`, what could not be sent in time goes to the dead-letter store when one is given,
 *   else counts in `unsentAtClose`.
 */

/** Sends one batch (at most 1,000 traces, one project) to OpenCTS. */
export interface TraceSender {
  send(projectId: string, traces: readonly Record<string, unknown>[]): Promise<void>
}

/** Keeps refused batches for the operator (recorder/dead-letter.ts: a folder of JSON lines). */
export interface DeadLetterStore {
  /** Where batches go, for messages (e.g. the folder). */
  readonly description: string
  /** Keeps one batch; resolves with where it went (e.g. the file). */
  write(batch: DeadBatch): Promise<string>
}

export interface DeadBatch {
  readonly projectId: string
  readonly traces: readonly Record<string, unknown>[]
  /** Why it was not delivered (the server's error, or `unsent at close`). */
  readonly reason: string
}

/** A batch OpenCTS refused for good, as reported to `onRejected`. */
export interface RejectedBatch {
  readonly projectId: string
  readonly count: number
  readonly error: unknown
  /** `dead-letter` (written, with `where`), `held` (retried later) or `dropped` (held store full). */
  readonly kept: 'dead-letter' | 'held' | 'dropped'
  readonly where?: string
}

export interface ReporterOptions {
  readonly sender: TraceSender
  /** Traces held at most; more are dropped and counted. Default 10,000. */
  readonly maxQueued?: number
  /** Traces per batch at most. Default 500. */
  readonly batchSize?: number
  /** How long a trace may wait for a fuller batch, ms. Default 200. */
  readonly flushMs?: number
  /** Whether a failure is a refusal for good (kept aside) rather than worth a quick retry. */
  readonly isPermanent?: (error: unknown) => boolean
  /** Where refused batches are kept; without it they are held in memory and retried. */
  readonly deadLetter?: DeadLetterStore
  /** Refused traces held in memory at most (no dead-letter store, or it failed). Default 10,000. */
  readonly maxHeld?: number
  /** First retry of a held batch, ms (then doubling, up to 30 min). Default 60 s. */
  readonly heldRetryMs?: number
  /** Every failed attempt (logged by the CLI). */
  readonly onError?: (error: unknown) => void
  /** Every batch refused for good, and where it was kept (logged by the CLI). */
  readonly onRejected?: (batch: RejectedBatch) => void
  /** The queue started dropping traces (once per episode: until it has room again). */
  readonly onQueueFull?: (maxQueued: number) => void
}

export interface ReporterStats {
  readonly queued: number
  readonly sent: number
  /** Dropped because the queue was full. */
  readonly droppedQueueFull: number
  /**
   * Refusals for good by OpenCTS, in traces (each then held, dead-lettered or droppedHeldFull; a
   * held trace delivered later also counts in `sent`).
   */
  readonly rejected: number
  /** Refused traces held in memory now, retried with back-off. */
  readonly held: number
  /** Refused (or unsent at close) traces written to the dead-letter store. */
  readonly deadLettered: number
  /** Refused traces lost: no dead-letter store took them and the held store was full. */
  readonly droppedHeldFull: number
  /** Traces still queued or held when `close()` gave up, with no dead-letter store to take them. */
  readonly unsentAtClose: number
  /** Failed attempts (each retried). */
  readonly failedAttempts: number
}

interface Pending {
  readonly projectId: string
  readonly trace: Record<string, unknown>
}

interface Held {
  readonly projectId: string
  readonly traces: readonly Record<string, unknown>[]
  retryAt: number
  backoffMs: number
}

const MAX_HELD_BACKOFF_MS = 30 * 60_000

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export class TraceReporter {
  readonly #sender: TraceSender
  readonly #maxQueued: number
  readonly #batchSize: number
  readonly #flushMs: number
  readonly #isPermanent: (error: unknown) => boolean
  readonly #deadLetter: DeadLetterStore | undefined
  readonly #maxHeld: number
  readonly #heldRetryMs: number
  readonly #onError: (error: unknown) => void
  readonly #onRejected: (batch: RejectedBatch) => void
  readonly #onQueueFull: (maxQueued: number) => void
  readonly #queue: Pending[] = []
  readonly #held: Held[] = []
  #timer: NodeJS.Timeout | undefined
  #heldTimer: NodeJS.Timeout | undefined
  #sending: Promise<void> | undefined
  #backoffMs = 0
  #closed = false
  #full = false
  #stats = {
    sent: 0,
    droppedQueueFull: 0,
    rejected: 0,
    deadLettered: 0,
    droppedHeldFull: 0,
    unsentAtClose: 0,
    failedAttempts: 0,
  }

  constructor(options: ReporterOptions) {
    this.#sender = options.sender
    this.#maxQueued = options.maxQueued ?? 10_000
    this.#batchSize = Math.min(options.batchSize ?? 500, 1000)
    this.#flushMs = options.flushMs ?? 200
    this.#isPermanent = options.isPermanent ?? (() => false)
    this.#deadLetter = options.deadLetter
    this.#maxHeld = options.maxHeld ?? 10_000
    this.#heldRetryMs = options.heldRetryMs ?? 60_000
    this.#onError = options.onError ?? (() => undefined)
    this.#onRejected = options.onRejected ?? (() => undefined)
    this.#onQueueFull = options.onQueueFull ?? (() => undefined)
  }

  /** Queues traces of a project; never blocks, never throws. */
  enqueue(projectId: string, traces: readonly Record<string, unknown>[]): void {
    for (const trace of traces) {
      if (this.#closed) {
        this.#stats.unsentAtClose++
        continue
      }
      if (this.#queue.length >= this.#maxQueued) {
        this.#stats.droppedQueueFull++
        if (!this.#full) {
          this.#full = true
          this.#onQueueFull(this.#maxQueued)
        }
        continue
      }
      this.#full = false
      this.#queue.push({ projectId, trace })
    }
    this.#schedule(this.#queue.length >= this.#batchSize ? 0 : this.#flushMs)
  }

  stats(): ReporterStats {
    const held = this.#held.reduce((n, h) => n + h.traces.length, 0)
    return { queued: this.#queue.length, held, ...this.#stats }
  }

  #schedule(delayMs: number): void {
    if (this.#sending !== undefined || this.#queue.length === 0) return
    if (this.#timer !== undefined && delayMs > 0) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        this.#sending = this.#drain().finally(() => {
          this.#sending = undefined
          if (this.#queue.length > 0) this.#schedule(this.#backoffMs)
          this.#scheduleHeld()
        })
      },
      Math.max(delayMs, this.#backoffMs),
    )
    this.#timer.unref()
  }

  async #drain(): Promise<void> {
    await this.#retryHeld(false)
    while (this.#queue.length > 0) {
      const projectId = this.#queue[0]?.projectId ?? ''
      const batch: Pending[] = []
      for (const item of this.#queue) {
        if (item.projectId !== projectId) continue
        batch.push(item)
        if (batch.length >= this.#batchSize) break
      }
      const traces = batch.map((b) => b.trace)
      try {
        await this.#sender.send(projectId, traces)
        this.#stats.sent += batch.length
        this.#backoffMs = 0
      } catch (error) {
        this.#onError(error)
        if (!this.#isPermanent(error)) {
          this.#stats.failedAttempts++
          this.#backoffMs = Math.min(30_000, Math.max(250, this.#backoffMs * 2))
          return
        }
        await this.#reject(projectId, traces, error)
      }
      const done = new Set(batch)
      let kept = 0
      for (const item of this.#queue) if (!done.has(item)) this.#queue[kept++] = item
      this.#queue.length = kept
    }
  }

  /** A batch refused for good: counted, kept (dead letter, else held), reported. */
  async #reject(
    projectId: string,
    traces: readonly Record<string, unknown>[],
    error: unknown,
  ): Promise<void> {
    const count = traces.length
    if (this.#deadLetter !== undefined) {
      try {
        const where = await this.#deadLetter.write({ projectId, traces, reason: errorText(error) })
        this.#stats.rejected += count // with its outcome, so the counts always add up
        this.#stats.deadLettered += count
        this.#onRejected({ projectId, count, error, kept: 'dead-letter', where })
        return
      } catch (writeError) {
        this.#onError(writeError)
      }
    }
    this.#stats.rejected += count
    if (this.stats().held + count > this.#maxHeld) {
      this.#stats.droppedHeldFull += count
      this.#onRejected({ projectId, count, error, kept: 'dropped' })
      return
    }
    this.#held.push({
      projectId,
      traces,
      retryAt: Date.now() + this.#heldRetryMs,
      backoffMs: this.#heldRetryMs,
    })
    this.#onRejected({ projectId, count, error, kept: 'held' })
    this.#scheduleHeld()
  }

  #scheduleHeld(): void {
    clearTimeout(this.#heldTimer)
    this.#heldTimer = undefined
    if (this.#held.length === 0 || this.#closed) return
    const next = Math.min(...this.#held.map((h) => h.retryAt))
    this.#heldTimer = setTimeout(
      () => {
        this.#heldTimer = undefined
        if (this.#sending !== undefined) return // the send in flight reschedules when done
        this.#sending = this.#retryHeld(false).finally(() => {
          this.#sending = undefined
          this.#scheduleHeld()
          if (this.#queue.length > 0) this.#schedule(this.#backoffMs)
        })
      },
      Math.max(0, next - Date.now()),
    )
    this.#heldTimer.unref()
  }

  /** Sends the held batches that are due (all with `all`); those refused again wait longer. */
  async #retryHeld(all: boolean): Promise<void> {
    const now = Date.now()
    for (const held of [...this.#held]) {
      if (!all && held.retryAt > now) continue
      try {
        await this.#sender.send(held.projectId, held.traces)
        this.#held.splice(this.#held.indexOf(held), 1)
        this.#stats.sent += held.traces.length
      } catch (error) {
        this.#onError(error)
        this.#stats.failedAttempts++
        held.backoffMs = Math.min(MAX_HELD_BACKOFF_MS, held.backoffMs * 2)
        held.retryAt = Date.now() + held.backoffMs
        if (!this.#isPermanent(error)) return // OpenCTS unreachable: try again later
      }
    }
  }

  /**
   * Sends what is queued and held (bounded by `timeoutMs`), then stops taking traces. What is left
   * goes to the dead-letter store when there is one, else counts in `unsentAtClose`.
   */
  async close(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    clearTimeout(this.#timer)
    this.#timer = undefined
    clearTimeout(this.#heldTimer)
    this.#heldTimer = undefined
    await this.#sending
    if (this.#held.length > 0) await this.#retryHeld(true)
    while (this.#queue.length > 0 && Date.now() < deadline) {
      await this.#sending
      if (this.#queue.length === 0) break
      this.#backoffMs = 0
      this.#sending = this.#drain()
      await this.#sending
      this.#sending = undefined
      if (this.#queue.length > 0) await new Promise((r) => setTimeout(r, 100))
    }
    this.#closed = true
    clearTimeout(this.#heldTimer)
    this.#heldTimer = undefined
    const left: { projectId: string; traces: Record<string, unknown>[] }[] = []
    for (const held of this.#held.splice(0)) left.push({ ...held, traces: [...held.traces] })
    for (const item of this.#queue.splice(0)) {
      const last = left.at(-1)
      if (last?.projectId === item.projectId) last.traces.push(item.trace)
      else left.push({ projectId: item.projectId, traces: [item.trace] })
    }
    for (const batch of left) {
      if (this.#deadLetter !== undefined) {
        try {
          await this.#deadLetter.write({ ...batch, reason: 'unsent at close' })
          this.#stats.deadLettered += batch.traces.length
          continue
        } catch (error) {
          this.#onError(error)
        }
      }
      this.#stats.unsentAtClose += batch.traces.length
    }
  }
}
