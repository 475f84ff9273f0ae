/**
 * @module delivery/retry-policy
 * When a failed delivery is tried again: exponential backoff with jitter, up to a maximum number
 * of attempts, then the dead-letter list. Pure (randomness injected).
 *
 * After attempt n (1-based) fails, the next is due after
 *   min(maxDelayMs, baseDelayMs * 2^(n-1)) * (0.5 + random() / 2)
 * ("equal jitter": never less than half the backoff, so receivers coming back are not flooded).
 * A permanent failure (e.g. an email address the server refuses) goes to the dead letters at once.
 */

export interface RetryPolicy {
  /** Attempts in all, the first one included (>= 1). */
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

/** When attempt `attempts + 1` is due, or null when the delivery is dead. */
export function nextAttemptAt(
  policy: RetryPolicy,
  attempts: number,
  now: number,
  permanent: boolean,
  random: () => number = Math.random,
): number | null {
  if (permanent || attempts >= policy.maxAttempts) return null
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1))
  return now + Math.round(backoff * (0.5 + random() / 2))
}
