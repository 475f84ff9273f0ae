/**
 * @module store/merkle-append
 * The engine-neutral arithmetic of a Merkle log append: which stored subtrees an append of leaves at
 * a given tree size reads (the frontier: the complete subtrees of the tree's left part), and the
 * complete subtrees the appended leaves complete. An engine reads the frontier in one query,
 * computes the new nodes here in memory, and writes them; no node outside the frontier is ever read,
 * so the read cost of an append is O(log n) whatever the batch size.
 */
import { OpenCtsError } from '../errors/index.js'
import type { MerkleHashing, MerkleNodeReader } from './store.js'

/** A stored complete subtree: `[level, index, hash]` (2^level leaves from index * 2^level). */
export type MerkleNode = [number, number, Buffer]

/** The key of a node in a frontier map. */
export function nodeKey(level: number, index: number): string {
  return `${level}/${index}`
}

/**
 * The (level, index) of the complete subtrees an append at tree size `size` reads: one per set bit
 * of `size`, the rightmost complete subtree of that level, lowest level first.
 */
export function frontierKeys(size: number): [number, number][] {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad tree size ${size}`)
  const keys: [number, number][] = []
  for (let level = 0, rest = size; rest > 0; level++, rest = Math.floor(rest / 2))
    if (rest % 2 === 1) keys.push([level, Math.floor(size / 2 ** level) - 1])
  return keys
}

/**
 * Appends `leaves` (leaf hashes, in order) to a tree of `size` leaves whose frontier nodes (keyed by
 * `nodeKey`, see `frontierKeys`) are given. Returns every complete subtree the appended leaves
 * complete (the leaves themselves included), by level then index, and the new size. Throws
 * OCTS_ERR_READ_FAILED when a frontier node the append needs is missing (the stored tree is broken;
 * no hash is ever made up).
 */
export function appendLeaves(
  hashing: Pick<MerkleHashing, 'appendLeaf'>,
  size: number,
  frontier: ReadonlyMap<string, Buffer>,
  leaves: readonly Buffer[],
  projectId = '',
): { nodes: MerkleNode[]; size: number } {
  // The nodes this append completes, per level: consecutive indexes from `first` (each level's
  // subtrees that a run of leaves completes are neighbours), so no map keyed by strings and no sort
  // (the event loop does this for every ingested trace).
  const levels: { readonly first: number; readonly hashes: Buffer[] }[] = []
  const node: MerkleNodeReader = (level, index) => {
    const written = levels[level]
    const at = written === undefined ? -1 : index - written.first
    const hash =
      written !== undefined && at >= 0 && at < written.hashes.length
        ? written.hashes[at]
        : frontier.get(nodeKey(level, index))
    if (hash === undefined)
      throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
        message: `Merkle node (level ${level}, index ${index}) of project ${projectId} is not stored`,
      })
    return hash
  }
  let at = size
  for (const leaf of leaves) {
    for (const [level, index, hash] of hashing.appendLeaf(at, leaf, node)) {
      const written = levels[level]
      if (written === undefined) levels[level] = { first: index, hashes: [hash] }
      else if (index === written.first + written.hashes.length) written.hashes.push(hash)
      else throw new RangeError(`Merkle node (level ${level}, index ${index}) out of order`)
    }
    at++
  }
  const nodes: MerkleNode[] = []
  levels.forEach(({ first, hashes }, level) =>
    hashes.forEach((hash, k) => nodes.push([level, first + k, hash])),
  )
  return { nodes, size: at }
}
