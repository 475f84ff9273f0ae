/**
 * @module store/sqlite/blocks/hashes
 * The non-cryptographic hashes of the block layout: FNV-1a over a string's UTF-16 code units with
 * two seeds. They place keys in bloom filters and in the trace-id index; a match is always checked
 * against the stored value, so a collision costs a lookup, never a wrong answer.
 */

const FNV_PRIME = 0x01000193

/** 32-bit FNV-1a of `text` from `seed`. */
export function fnv1a(text: string, seed: number): number {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, FNV_PRIME)
  }
  // A final avalanche, so that keys differing only in their last characters spread over every bit.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return h >>> 0
}

export const SEED_A = 0x811c9dc5
export const SEED_B = 0x9747b28c

/**
 * The 48-bit key of a trace id in the trace-id index (`trace_keys.h`): safe as a JavaScript number
 * and as an SQLite integer. Two ids may share a key; the index lookup checks the stored id.
 */
export function traceKey(projectId: string, traceId: string): number {
  const text = `${projectId}\u0000${traceId}`
  return (fnv1a(text, SEED_A) & 0xffff) * 0x1_0000_0000 + fnv1a(text, SEED_B)
}
