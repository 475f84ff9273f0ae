/**
 * @module bench/percentiles
 * Nearest-rank percentiles of a sample.
 */

/** The p-th percentile (0 < p <= 100) by nearest rank; NaN for an empty sample. */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return Number.NaN
  const sorted = [...sample].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1] ?? Number.NaN
}

export interface Latency {
  readonly p50: number
  readonly p99: number
}

export function latency(sample: readonly number[]): Latency {
  return { p50: percentile(sample, 50), p99: percentile(sample, 99) }
}
