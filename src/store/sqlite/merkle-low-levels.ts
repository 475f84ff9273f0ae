/**
 * @module store/sqlite/merkle-low-levels
 * The low levels of the SQLite Merkle log, which are not stored: `merkle_nodes` keeps the complete
 * subtrees of level >= MERKLE_MIN_STORED_LEVEL (4: 16 leaves and up) only, about one row per 8
 * leaves instead of two per leaf. A node below that level (a leaf hash, or a subtree of up to 8
 * leaves) lies inside one aligned group of 16 leaves and is recomputed from the group's stored
 * documents (`LeafDocuments`), the leaf hash being `MerkleHashing.leafHash(document)`.
 *
 * - Reads (`lowLevelReader`): stored nodes for levels >= 4, recomputed ones below; a group's leaf
 *   hashes are computed once per reader (an inclusion proof needs 15 of the 16).
 * - Appends (`TailCache`): the frontier nodes below level 4 of a tree of size n are the subtrees of
 *   the leaves after the last multiple of 16 (the tail, at most 15 leaf hashes). The tail of each
 *   recently appended project is kept in memory (bounded LRU); a batch stages the new tails and
 *   they become visible only at `committed()`, after its transaction committed. A tail is used only
 *   for the size the transaction reads from `merkle_trees`, so nothing a rolled-back transaction
 *   computed is ever used; on a miss the tail is recomputed from the documents.
 * - Old files and migrations: `dropLowMerkleLevels` deletes the rows of levels < 4 (harmless when
 *   left: nothing reads them).
 */
import { OpenCtsError } from '../../errors/index.js'
import { MERKLE_MIN_STORED_LEVEL } from './blocks/block-schema.js'
import type { MerkleHashing, MerkleNodeReader } from '../store.js'
import type { SqliteDatabase } from './sqlite-database.js'

/**
 * The stored documents of a project's leaves [fromLeaf, toLeaf), in leaf order (synchronous, inside
 * the caller's transaction). Returns fewer when some are not stored (deleted): the caller then
 * refuses to make up the hashes.
 */
export type LeafDocuments = (projectId: string, fromLeaf: number, toLeaf: number) => string[]

/** Leaves of one group: the subtree of the lowest stored level. */
export const GROUP_LEAVES = 2 ** MERKLE_MIN_STORED_LEVEL

/** Projects whose append tail is kept in memory. */
const TAIL_PROJECTS = 4096

const notStored = (projectId: string, from: number, to: number, found: number): OpenCtsError =>
  new OpenCtsError('OCTS_ERR_READ_FAILED', {
    message: `Merkle leaves ${from}-${to - 1} of project ${projectId}: ${found} of ${to - from} documents are stored`,
  })

/** The leaf hashes of leaves [from, to), from their stored documents; throws when any is missing. */
export function leafHashesOf(
  documents: LeafDocuments,
  hashing: Pick<MerkleHashing, 'leafHash'>,
  projectId: string,
  from: number,
  to: number,
): Buffer[] {
  if (to <= from) return []
  const docs = documents(projectId, from, to)
  if (docs.length !== to - from) throw notStored(projectId, from, to, docs.length)
  return docs.map((doc) => hashing.leafHash(doc))
}

/**
 * Every complete subtree of the leaves `leaves`, which start at the aligned leaf `base`, keyed by
 * `nodeKey`-style `level/index` with absolute indexes: the hashes of RFC 6962 subtrees do not
 * depend on their position, so the group is replayed from index 0 with `appendLeaf`.
 */
export function groupNodes(
  hashing: Pick<MerkleHashing, 'appendLeaf'>,
  base: number,
  leaves: readonly Buffer[],
): Map<string, Buffer> {
  const local = new Map<string, Buffer>()
  const read: MerkleNodeReader = (level, index) => {
    const hash = local.get(`${level}/${index}`)
    if (hash === undefined) throw new RangeError(`group node ${level}/${index} not computed`)
    return hash
  }
  for (const [i, leaf] of leaves.entries())
    for (const [level, index, hash] of hashing.appendLeaf(i, leaf, read))
      local.set(`${level}/${index}`, hash)
  const out = new Map<string, Buffer>()
  for (const [key, hash] of local) {
    const [level = 0, index = 0] = key.split('/').map(Number)
    out.set(`${level}/${base / 2 ** level + index}`, hash)
  }
  return out
}

/**
 * A node reader for a tree of `size` leaves: `stored` for levels >= 4, the recomputed subtree for
 * the levels below (requires the subtree complete within `size`). Throws OCTS_ERR_READ_FAILED when
 * a document or stored node is missing (never a made-up hash).
 */
export function lowLevelReader(
  stored: MerkleNodeReader,
  documents: LeafDocuments,
  hashing: Pick<MerkleHashing, 'leafHash' | 'appendLeaf'>,
  projectId: string,
  size: number,
): MerkleNodeReader {
  const groups = new Map<number, Map<string, Buffer>>()
  return (level, index) => {
    if (level >= MERKLE_MIN_STORED_LEVEL) return stored(level, index)
    const first = index * 2 ** level
    const base = first - (first % GROUP_LEAVES)
    let nodes = groups.get(base)
    if (nodes === undefined) {
      const end = Math.min(base + GROUP_LEAVES, size)
      nodes = groupNodes(hashing, base, leafHashesOf(documents, hashing, projectId, base, end))
      groups.set(base, nodes)
    }
    const hash = nodes.get(`${level}/${index}`)
    if (hash === undefined)
      throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
        message: `Merkle node (level ${level}, index ${index}) of project ${projectId} is past the tree of ${size} leaves`,
      })
    return hash
  }
}

/** A project's append tail: the leaf hashes after the last multiple of 16, for a tree size. */
export interface Tail {
  readonly size: number
  readonly leaves: readonly Buffer[]
}

/** The tail of a tree of `size` leaves after appending `added` to one whose tail was `before`. */
export function nextTail(before: Tail, added: readonly Buffer[]): Tail {
  const size = before.size + added.length
  const keep = size % GROUP_LEAVES
  const all = keep > added.length ? [...before.leaves, ...added] : added
  return { size, leaves: all.slice(all.length - keep) }
}

/**
 * The in-memory tails of recently appended projects (bounded LRU), staged by a batch and made
 * visible by `committed()` after its transaction committed (`discard()` after a rollback).
 */
export class TailCache {
  readonly #tails = new Map<string, Tail>()
  #staged = new Map<string, Tail>()
  readonly #capacity: number

  constructor(capacity = TAIL_PROJECTS) {
    this.#capacity = capacity
  }

  /**
   * The tail of the project's tree of `size` leaves (the size read in the current transaction):
   * the cached one when it is of that size, else recomputed from the documents.
   */
  tail(
    documents: LeafDocuments,
    hashing: Pick<MerkleHashing, 'leafHash'>,
    projectId: string,
    size: number,
  ): Tail {
    const cached = this.#tails.get(projectId)
    if (cached?.size === size) return cached
    const from = size - (size % GROUP_LEAVES)
    return { size, leaves: leafHashesOf(documents, hashing, projectId, from, size) }
  }

  /** Stages a project's tail after a batch's appends (visible after `committed()`). */
  stage(projectId: string, tail: Tail): void {
    this.#staged.set(projectId, tail)
  }

  /** The transaction of the staged tails committed: they replace the cached ones. */
  committed(): void {
    for (const [projectId, tail] of this.#staged) {
      this.#tails.delete(projectId)
      this.#tails.set(projectId, tail)
    }
    this.#staged = new Map()
    // Bounded: deletes the least recently appended projects past the capacity.
    for (const projectId of this.#tails.keys()) {
      if (this.#tails.size <= this.#capacity) break
      this.#tails.delete(projectId)
    }
  }

  /** The transaction of the staged tails rolled back (or its outcome is unknown): drop them. */
  discard(): void {
    this.#staged = new Map()
  }

  /** Forgets every tail (tests; a file changed behind the store). */
  clear(): void {
    this.#tails.clear()
    this.#staged = new Map()
  }
}

/**
 * Deletes the `merkle_nodes` rows below MERKLE_MIN_STORED_LEVEL (written by versions before 8);
 * the 7→8 migration calls it inside its transaction. Returns how many rows went.
 */
export function dropLowMerkleLevels(db: SqliteDatabase): number {
  return db.prepare('DELETE FROM merkle_nodes WHERE level < ?').run(MERKLE_MIN_STORED_LEVEL).changes
}
