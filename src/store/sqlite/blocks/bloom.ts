/**
 * @module store/sqlite/blocks/bloom
 * Bloom filters: one per block over its filter values (kept in memory, so a query skips the blocks
 * that cannot hold a value without reading them), and one over the trace-id keys of the whole store
 * (so that a new trace id, nearly every id of an ingest batch, costs no index probe).
 */
import { fnv1a, SEED_A, SEED_B } from './hashes.js'

/** Probes per key: with 10 bits per key about 1% false positives. */
const PROBES = 7
const BITS_PER_KEY = 10

/** Bloom filter bits of `keys` (10 bits per distinct key, at least 64 bits). */
export function buildBloom(keys: Iterable<string>): Uint8Array {
  const distinct = keys instanceof Set ? (keys as Set<string>) : new Set(keys)
  const bytes = Math.max(8, Math.ceil((distinct.size * BITS_PER_KEY) / 8))
  const bits = new Uint8Array(bytes)
  for (const key of distinct) setKey(bits, fnv1a(key, SEED_A), fnv1a(key, SEED_B))
  return bits
}

function setKey(bits: Uint8Array, a: number, b: number): void {
  const m = bits.length * 8
  for (let i = 0; i < PROBES; i++) {
    const bit = (a + i * b) % m
    bits[bit >>> 3] = (bits[bit >>> 3] ?? 0) | (1 << (bit & 7))
  }
}

function hasKey(bits: Uint8Array, a: number, b: number): boolean {
  const m = bits.length * 8
  for (let i = 0; i < PROBES; i++) {
    const bit = (a + i * b) % m
    if (((bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) === 0) return false
  }
  return true
}

/** Whether `key` may be in the filter (false: certainly not). */
export function bloomMayContain(bits: Uint8Array, key: string): boolean {
  return hasKey(bits, fnv1a(key, SEED_A), fnv1a(key, SEED_B))
}

/**
 * A growable bloom filter over 48-bit keys (`traceKey`): sized for `capacity` keys; when more are
 * added than it was sized for, `full` turns true and the owner rebuilds it larger from the index.
 */
export class KeyFilter {
  readonly capacity: number
  readonly #bits: Uint8Array
  #count = 0

  constructor(capacity: number) {
    this.capacity = Math.max(1024, capacity)
    this.#bits = new Uint8Array(Math.ceil((this.capacity * BITS_PER_KEY) / 8))
  }

  get count(): number {
    return this.#count
  }

  get full(): boolean {
    return this.#count > this.capacity
  }

  add(key: number): void {
    this.#count++
    setKey(this.#bits, key % 0x1_0000_0000, Math.floor(key / 0x1_0000_0000) | 1)
  }

  mayContain(key: number): boolean {
    return hasKey(this.#bits, key % 0x1_0000_0000, Math.floor(key / 0x1_0000_0000) | 1)
  }
}
