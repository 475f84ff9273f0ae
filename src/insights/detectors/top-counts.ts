/**
 * @module insights/detectors/top-counts
 * Bounded value counts for attributions: a table keeps at most `cap` values; adding a value to a
 * full table first drops the smallest (ties: the first in key order), so the large values of a
 * skewed stream survive. Counts of dropped values are lost (the report says "top", not "all").
 * Tables are plain objects so that detector state serialises as JSON. Pure.
 */
import type { AttributionValue } from '../../store/index.js'

export type Counts = Record<string, number>

function dropSmallest(table: Counts): void {
  let smallest: string | undefined
  for (const [value, count] of Object.entries(table))
    if (smallest === undefined || count < (table[smallest] ?? 0)) smallest = value
  if (smallest !== undefined) delete table[smallest]
}

/** Adds `n` to `value`'s count, keeping at most `cap` values. */
export function addCount(table: Counts, value: string, n: number, cap: number): void {
  if (table[value] === undefined && Object.keys(table).length >= cap) dropSmallest(table)
  table[value] = (table[value] ?? 0) + n
}

/** Adds every count of `from` into `into` (bounded by `cap`). */
export function mergeCounts(into: Counts, from: Counts, cap: number): void {
  for (const [value, n] of Object.entries(from)) addCount(into, value, n, cap)
}

/**
 * The exponentially weighted update of per-minute averages: every average decays by `1 - alpha`
 * and the minute's counts are added with weight `alpha`; averages below 0.01 are dropped.
 */
export function decayInto(averages: Counts, minute: Counts, alpha: number, cap: number): void {
  for (const value of Object.keys(averages)) {
    const next = (averages[value] ?? 0) * (1 - alpha)
    if (next < 0.01) delete averages[value]
    else averages[value] = next
  }
  for (const [value, n] of Object.entries(minute)) addCount(averages, value, alpha * n, cap)
}

/**
 * `times` calls of decayInto with an empty minute, at once: the same products in the same order
 * (bit for bit), each value dropped once below 0.01.
 */
export function decayTimes(averages: Counts, alpha: number, times: number): void {
  if (times <= 0) return
  for (const value of Object.keys(averages)) {
    let next = averages[value] ?? 0
    let i = 0
    do next *= 1 - alpha
    while (++i < times && next >= 0.01)
    if (next < 0.01) delete averages[value]
    else averages[value] = next
  }
}

/** The `top` largest values, largest first (ties by value), each divided by `divisor`. */
export function topValues(table: Counts, top: number, divisor = 1): AttributionValue[] {
  return Object.entries(table)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, top)
    .map(([value, count]) => ({ value, average: round(count / divisor) }))
}

/** Two decimals: what the API shows of averages. */
export function round(value: number): number {
  return Math.round(value * 100) / 100
}
