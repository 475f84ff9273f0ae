/**
 * @module delivery/delivery-worker
 * Sends the outbox: every pending delivery that is due is attempted (a few at a time); success
 * marks it `delivered`, a failure schedules the next attempt by the retry policy or, past the last
 * attempt (or on a permanent failure), moves it to the dead letters (`dead`). An attempt that was
 * in flight when the process died is simply made again: receivers deduplicate on the delivery id.
 *
 * HTTP(S) subscriptions and functions are POSTed with the signature headers of
 * delivery-signature.ts under the subscription's (function's) secret; email subscriptions go
 * through the SMTP sender.
 */
import type { Clock } from '../platform/clock.js'
import type { DeliveryRecord, DeliveryStore } from '../store/index.js'
import { deliveryHeaders } from './delivery-signature.js'
import type { PostResult } from './http-poster.js'
import { nextAttemptAt, type RetryPolicy } from './retry-policy.js'

/** Parallel attempts at most. */
const CONCURRENCY = 8
const BATCH = 100

export interface Poster {
  post(endpoint: string, body: string, headers: Record<string, string>): Promise<PostResult>
}

/** Sends one email delivery; throws with `permanent: true` when retrying cannot help. */
export type EmailPort = (delivery: DeliveryRecord) => Promise<void>

export interface DeliveryWorkerDeps {
  readonly delivery: DeliveryStore
  readonly clock: Clock
  readonly policy: RetryPolicy
  readonly http: Poster
  /** null when no SMTP server is configured: email deliveries then fail (and are retried). */
  readonly email: EmailPort | null
  /** The signing secret of a delivery's target. */
  readonly secretOf: (delivery: DeliveryRecord) => Promise<string>
  readonly onOutcome?: (outcome: 'delivered' | 'failed' | 'dead', delivery: DeliveryRecord) => void
  readonly random?: () => number
}

export interface SendReport {
  readonly delivered: number
  readonly failed: number
  readonly dead: number
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export class DeliveryWorker {
  readonly #deps: DeliveryWorkerDeps

  constructor(deps: DeliveryWorkerDeps) {
    this.#deps = deps
  }

  /** Attempts every delivery due now (bounded per call). */
  async runOnce(): Promise<SendReport> {
    const report = { delivered: 0, failed: 0, dead: 0 }
    for (let round = 0; round < 50; round++) {
      const due = await this.#deps.delivery.dueDeliveries(this.#deps.clock.now(), BATCH)
      if (due.length === 0) break
      for (let i = 0; i < due.length; i += CONCURRENCY) {
        const outcomes = await Promise.all(
          due.slice(i, i + CONCURRENCY).map((d) => this.#attempt(d)),
        )
        for (const outcome of outcomes) report[outcome]++
      }
      if (due.length < BATCH) break
    }
    return report
  }

  async #attempt(delivery: DeliveryRecord): Promise<'delivered' | 'failed' | 'dead'> {
    const { clock, policy } = this.#deps
    const attempts = delivery.attempts + 1
    let result: PostResult
    try {
      result = await this.#send(delivery)
    } catch (error) {
      const permanent = (error as { permanent?: unknown } | null)?.permanent === true
      result = { ok: false, permanent, detail: errorText(error) }
    }
    const now = clock.now()
    if (result.ok) {
      await this.#deps.delivery.markDelivered(delivery.id, attempts, now)
      this.#deps.onOutcome?.('delivered', delivery)
      return 'delivered'
    }
    const next = nextAttemptAt(policy, attempts, now, result.permanent, this.#deps.random)
    await this.#deps.delivery.markFailed(delivery.id, attempts, next, result.detail)
    const outcome = next === null ? 'dead' : 'failed'
    this.#deps.onOutcome?.(outcome, delivery)
    return outcome
  }

  async #send(delivery: DeliveryRecord): Promise<PostResult> {
    if (delivery.protocol === 'email') {
      if (this.#deps.email === null)
        return {
          ok: false,
          permanent: false,
          detail: 'no SMTP server is configured (OPENCTS_SMTP_HOST)',
        }
      await this.#deps.email(delivery)
      return { ok: true, permanent: false, detail: 'sent' }
    }
    const secret = await this.#deps.secretOf(delivery)
    const headers = deliveryHeaders(secret, delivery.id, this.#deps.clock.now(), delivery.payload)
    return this.#deps.http.post(delivery.endpoint, delivery.payload, headers)
  }
}
