/**
 * @module delivery/delivery-service
 * Runs key-event notification delivery: after every commit (woken by the in-process publisher and,
 * on a store shared by several nodes, by the others' commits) and at least every `pollMs`, the
 * matcher moves committed traces into the outbox and the worker sends what is due; a timer wakes it
 * for the next retry. Runs never overlap: a wake-up during a run makes one more run right after.
 * Everything it needs survives a restart in the store (cursor, outbox), so the publisher is only a
 * shortcut to sub-second delivery, never the source of truth.
 */
import type { Clock } from '../platform/clock.js'
import type { DeliveryStore } from '../store/index.js'
import type { DeliveryWorker, SendReport } from './delivery-worker.js'
import type { MatchReport, NotificationMatcher } from './notification-matcher.js'

export interface DeliveryServiceDeps {
  readonly matcher: NotificationMatcher
  readonly worker: DeliveryWorker
  readonly delivery: DeliveryStore
  readonly clock: Clock
  /** Longest time between two runs, ms. */
  readonly pollMs: number
  readonly onError: (error: unknown) => void
}

export class DeliveryService {
  readonly #deps: DeliveryServiceDeps
  #running: Promise<void> | undefined
  #again = false
  #stopped = true
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined

  constructor(deps: DeliveryServiceDeps) {
    this.#deps = deps
  }

  /**
   * Starts: runs now, after every commit `commits` announces (the in-process publisher, or it
   * together with the other nodes' commits), and on timers.
   */
  start(commits: { subscribe(listener: () => void): () => void }): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#unsubscribe = commits.subscribe(() => this.wake())
    this.wake()
  }

  /** Asks for a run as soon as possible. */
  wake(): void {
    if (this.#stopped) return
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined
    })
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false
      try {
        await this.runCycle()
      } catch (error) {
        this.#deps.onError(error)
      }
    } while (this.#again && !this.#stopped)
    await this.#schedule()
  }

  async #schedule(): Promise<void> {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    let delay = this.#deps.pollMs
    try {
      const due = await this.#deps.delivery.nextDueAt()
      if (due !== undefined) delay = Math.max(10, Math.min(delay, due - this.#deps.clock.now()))
    } catch (error) {
      this.#deps.onError(error)
    }
    if (this.#stopped) return
    this.#timer = setTimeout(() => this.wake(), delay)
    this.#timer.unref()
  }

  /** One run: match, then send. */
  async runCycle(): Promise<{ matched: MatchReport; sent: SendReport }> {
    const matched = await this.#deps.matcher.runOnce()
    const sent = await this.#deps.worker.runOnce()
    return { matched, sent }
  }

  /** Stops timers and the publisher subscription; waits for a run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#unsubscribe?.()
    clearTimeout(this.#timer)
    await this.#running
  }
}
