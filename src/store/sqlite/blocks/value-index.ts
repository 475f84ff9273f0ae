/**
 * @module store/sqlite/blocks/value-index
 * The exact index of a block's high-cardinality filter values (resource_id, resource_name): the
 * block row's `vals` column lists, for each distinct value, a 48-bit key (a hash of project,
 * column and value) and the positions holding it, sorted by key. A resource filter then reads this
 * small blob (a few bytes per trace, no strings) of each block its bloom filter lets through,
 * instead of decoding the block's `strs` (a resource is in a fifth of a busy tenant's blocks, and
 * rarely 200 times in a week, so pages of it walked most of them). Made where the block is encoded
 * (the ingest worker thread), written in the same row, so it never needs its own inserts or
 * deletes. Two values may share a key: a page checks the documents it returns and falls back to
 * the strs when one does not hold the value.
 */
import type { BlockEntry } from './block-codec.js'
import { fnv1a, SEED_A, SEED_B } from './hashes.js'

/** The columns the index holds, with their tag in the key. */
export const INDEXED_COLUMNS = { resource_id: 'i', resource_name: 'n' } as const
export type IndexedColumn = keyof typeof INDEXED_COLUMNS

/** The 48-bit key of a value of an indexed column in a project. */
export function valueKey(projectId: string, column: IndexedColumn, value: string): number {
  const text = `${projectId}\u0000${INDEXED_COLUMNS[column]}\u0000${value}`
  return (fnv1a(text, SEED_A) & 0xffff) * 0x1_0000_0000 + fnv1a(text, SEED_B)
}

/** A block's index rows, sorted by key: row r is `keys[r]` with positions[offsets[r]..offsets[r+1]). */
export interface ValueRows {
  readonly keys: Float64Array
  readonly offsets: Uint32Array
  readonly positions: Uint16Array
}

/**
 * The index rows of a block from each position's values of the indexed columns (null: none).
 * Runs where the block is encoded (an ingest worker thread, or the event loop for merges).
 */
export function valueRows(
  projectId: string,
  columns: Readonly<Record<IndexedColumn, ArrayLike<string | null>>>,
): ValueRows {
  const byKey = new Map<number, number[]>()
  for (const column of Object.keys(INDEXED_COLUMNS) as IndexedColumn[]) {
    const values = columns[column]
    const byValue = new Map<string, number[]>()
    for (let p = 0; p < values.length; p++) {
      const value = values[p]
      if (value === null || value === undefined) continue
      const list = byValue.get(value)
      if (list === undefined) byValue.set(value, [p])
      else list.push(p)
    }
    for (const [value, positions] of byValue) {
      const h = valueKey(projectId, column, value)
      // Two values sharing a key: one row with both values' positions.
      const list = byKey.get(h)
      if (list === undefined) byKey.set(h, positions)
      else list.push(...positions)
    }
  }
  const keys = Float64Array.from(byKey.keys()).sort()
  const offsets = new Uint32Array(keys.length + 1)
  let total = 0
  for (const list of byKey.values()) total += list.length
  const positions = new Uint16Array(total)
  let at = 0
  keys.forEach((h, r) => {
    offsets[r] = at
    for (const p of byKey.get(h) ?? []) positions[at++] = p
  })
  offsets[keys.length] = at
  return { keys, offsets, positions }
}

/** The index rows of a block's entries (position order). */
export function entryValueRows(
  projectId: string,
  entries: readonly Pick<BlockEntry, 'values'>[],
): ValueRows {
  return valueRows(projectId, {
    resource_id: entries.map((e) => e.values.resource_id),
    resource_name: entries.map((e) => e.values.resource_name),
  })
}

/** The `vals` blob of rows: count, keys (f64), offsets (u32, count + 1), positions (u16). */
export function encodeValueRows(rows: ValueRows): Buffer {
  const n = rows.keys.length
  const out = Buffer.alloc(8 + 8 * n + 4 * (n + 1) + 2 * rows.positions.length)
  out.writeUInt32LE(n, 0)
  let at = 8
  for (const a of [rows.keys, rows.offsets, rows.positions]) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at)
    at += a.byteLength
  }
  return out
}

/** Reads a `vals` blob. Throws RangeError when it is damaged. */
export function decodeValueRows(blob: Uint8Array): ValueRows {
  if (blob.byteLength < 8) throw new RangeError('value index too short')
  const copy = new Uint8Array(blob) // aligned for the typed arrays below
  const n = new DataView(copy.buffer).getUint32(0, true)
  const keysEnd = 8 + 8 * n
  const offsetsEnd = keysEnd + 4 * (n + 1)
  if (offsetsEnd > copy.byteLength || (copy.byteLength - offsetsEnd) % 2 !== 0)
    throw new RangeError('value index does not add up')
  const rows = {
    keys: new Float64Array(copy.buffer, 8, n),
    offsets: new Uint32Array(copy.buffer, keysEnd, n + 1),
    positions: new Uint16Array(copy.buffer, offsetsEnd, (copy.byteLength - offsetsEnd) / 2),
  }
  if (rows.offsets[n] !== rows.positions.length) throw new RangeError('value index does not add up')
  return rows
}

/** The positions listed under `key` (ascending), or null when the block has none. */
export function positionsOf(rows: ValueRows, key: number): Uint16Array | null {
  let lo = 0
  let hi = rows.keys.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    const k = rows.keys[mid] ?? 0
    if (k === key) {
      const from = rows.offsets[mid] ?? 0
      const to = rows.offsets[mid + 1] ?? from
      return rows.positions.slice(from, to).sort()
    }
    if (k < key) lo = mid + 1
    else hi = mid - 1
  }
  return null
}
