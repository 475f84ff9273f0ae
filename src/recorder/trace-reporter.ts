/**
 * @module recorder/trace-reporter
 * The recorder's outbound side: a bounded in-memory queue of traces, sent in batches (per project)
 * to OpenCTS through an injected `TraceSender` (the CLI gives one over HTTP with the producer's
 * credential). Enqueueing never blocks and never throws, so the recorded API never waits on, or
 * fails because of, OpenCTS. A full queue drops the trace and counts it; a batch OpenCTS refuses
 * for good (4xx) is dropped and counted; one that fails for a while (network, 5xx) is retried with
 * backoff and stays queued. `stats()` tells every count, so losses are never silent.
 */

/** Sends one batch (at most 1,000 traces, one project) to OpenCTS. */
export interface TraceSender {
  send(projectId: string, traces: readonly Record<string, unknown>[]): Promise<void>
}

export interface ReporterOptions {
  readonly sender: TraceSender
  /** Traces held at most; more are dropped and counted. Default 10,000. */
  readonly maxQueued?: number
  /** Traces per batch at most. Default 500. */
  readonly batchSize?: number
  /** How long a trace may wait for a fuller batch, ms. Default 200. */
  readonly flushMs?: number
  /** Whether a failure is permanent (the batch is dropped) rather than worth a retry. */
  readonly isPermanent?: (error: unknown) => boolean
  readonly onError?: (error: unknown) => void
}

export interface ReporterStats {
  readonly queued: number
  readonly sent: number
  /** Dropped because the queue was full. */
  readonly droppedQueueFull: number
  /** Dropped because OpenCTS refused the batch for good. */
  readonly droppedRejected: number
  /** Failed attempts (each retried). */
  readonly failedAttempts: number
}

interface Pending {
  readonly projectId: string
  readonly trace: Record<string, unknown>
}

export class TraceReporter {
  readonly #sender: TraceSender
  readonly #maxQueued: number
  readonly #batchSize: number
  readonly #flushMs: number
  readonly #isPermanent: (error: unknown) => boolean
  readonly #onError: (error: unknown) => void
  readonly #queue: Pending[] = []
  #timer: NodeJS.Timeout | undefined
  #sending: Promise<void> | undefined
  #backoffMs = 0
  #closed = false
  #stats = { sent: 0, droppedQueueFull: 0, droppedRejected: 0, failedAttempts: 0 }

  constructor(options: ReporterOptions) {
    this.#sender = options.sender
    this.#maxQueued = options.maxQueued ?? 10_000
    this.#batchSize = Math.min(options.batchSize ?? 500, 1000)
    this.#flushMs = options.flushMs ?? 200
    this.#isPermanent = options.isPermanent ?? (() => false)
    this.#onError = options.onError ?? (() => undefined)
  }

  /** Queues traces of a project; never blocks, never throws. */
  enqueue(projectId: string, traces: readonly Record<string, unknown>[]): void {
    for (const trace of traces) {
      if (this.#closed || this.#queue.length >= this.#maxQueued) {
        this.#stats.droppedQueueFull++
        continue
      }
      this.#queue.push({ projectId, trace })
    }
    this.#schedule(this.#queue.length >= this.#batchSize ? 0 : this.#flushMs)
  }

  stats(): ReporterStats {
    return { queued: this.#queue.length, ...this.#stats }
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
        })
      },
      Math.max(delayMs, this.#backoffMs),
    )
    this.#timer.unref()
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const projectId = this.#queue[0]?.projectId ?? ''
      const batch: Pending[] = []
      for (const item of this.#queue) {
        if (item.projectId !== projectId) continue
        batch.push(item)
        if (batch.length >= this.#batchSize) break
      }
      try {
        await this.#sender.send(
          projectId,
          batch.map((b) => b.trace),
        )
        this.#stats.sent += batch.length
        this.#backoffMs = 0
      } catch (error) {
        this.#onError(error)
        if (this.#isPermanent(error)) {
          this.#stats.droppedRejected += batch.length
        } else {
          this.#stats.failedAttempts++
          this.#backoffMs = Math.min(30_000, Math.max(250, this.#backoffMs * 2))
          return
        }
      }
      const sent = new Set(batch)
      for (let i = this.#queue.length - 1; i >= 0; i--) {
        const item = this.#queue[i]
        if (item !== undefined && sent.has(item)) this.#queue.splice(i, 1)
      }
    }
  }

  /** Sends what is queued (bounded by `timeoutMs`), then stops taking traces. */
  async close(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    clearTimeout(this.#timer)
    this.#timer = undefined
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
  }
}
