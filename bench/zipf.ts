/**
 * @module bench/zipf
 * Zipf-skewed picks of a tenant: rank k (0-based) of n is drawn with probability proportional to
 * 1 / (k + 1)^s, so with s = 1.0 and 100 tenants the largest gets ~19% of the traces and the
 * smallest ~0.2%, like a region with a few big customers and many small ones.
 */

export class ZipfPicker {
  /** Cumulative probabilities; the last is 1. */
  readonly #cumulative: Float64Array
  readonly #random: () => number

  constructor(n: number, s: number, random: () => number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`Zipf needs n >= 1, got ${n}`)
    if (!(s >= 0)) throw new RangeError(`Zipf needs s >= 0, got ${s}`)
    this.#random = random
    this.#cumulative = new Float64Array(n)
    let sum = 0
    for (let k = 0; k < n; k++) sum += 1 / (k + 1) ** s
    let running = 0
    for (let k = 0; k < n; k++) {
      running += 1 / (k + 1) ** s / sum
      this.#cumulative[k] = running
    }
    this.#cumulative[n - 1] = 1
  }

  get size(): number {
    return this.#cumulative.length
  }

  /** The probability of rank k. */
  share(k: number): number {
    return (this.#cumulative[k] ?? 0) - (k === 0 ? 0 : (this.#cumulative[k - 1] ?? 0))
  }

  /** A rank in [0, n): binary search of the cumulative probabilities. */
  pick(): number {
    const u = this.#random()
    let low = 0
    let high = this.#cumulative.length - 1
    while (low < high) {
      const mid = (low + high) >>> 1
      if ((this.#cumulative[mid] ?? 1) > u) high = mid
      else low = mid + 1
    }
    return low
  }
}
