/**
 * @module auth/failure-throttle
 * Throttling of failed authentications per source (address): more than `limit` failures within
 * `windowMs` block the source for `blockMs`, during which its credentialed requests answer 429.
 * Success does not reset the count (an attacker holding one valid credential could otherwise
 * interleave it to keep guessing). Memory is bounded: at most `maxSources` sources are tracked,
 * the least recently failing forgotten first. State is per process.
 */
import type { Clock } from '../platform/clock.js'

export interface FailureThrottleOptions {
  readonly clock: Clock
  /** Failures tolerated within the window; the next one blocks. */
  readonly limit: number
  readonly windowMs: number
  readonly blockMs: number
  readonly maxSources?: number
}

interface SourceState {
  failures: number[]
  blockedUntil: number
}

export class FailureThrottle {
  readonly #options: Required<FailureThrottleOptions>
  readonly #sources = new Map<string, SourceState>()

  constructor(options: FailureThrottleOptions) {
    this.#options = { maxSources: 10_000, ...options }
  }

  /** Milliseconds the source stays blocked (0 when it is not). */
  blockedFor(source: string): number {
    const state = this.#sources.get(source)
    if (state === undefined) return 0
    return Math.max(0, state.blockedUntil - this.#options.clock.now())
  }

  /** Counts a failure; `blocked` is true when this failure started a block. */
  recordFailure(source: string): { readonly blocked: boolean } {
    const { clock, limit, windowMs, blockMs, maxSources } = this.#options
    const now = clock.now()
    let state = this.#sources.get(source)
    if (state === undefined) {
      state = { failures: [], blockedUntil: 0 }
    } else {
      this.#sources.delete(source) // re-inserted below: the Map order is recency
    }
    this.#sources.set(source, state)
    if (this.#sources.size > maxSources) {
      const oldest = this.#sources.keys().next().value
      if (oldest !== undefined) this.#sources.delete(oldest)
    }
    state.failures = state.failures.filter((t) => t > now - windowMs)
    state.failures.push(now)
    if (state.failures.length > limit && state.blockedUntil <= now) {
      state.blockedUntil = now + blockMs
      state.failures = []
      return { blocked: true }
    }
    return { blocked: false }
  }
}
