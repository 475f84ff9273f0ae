/**
 * @module integrity/streaming-root
 * The RFC 6962 root of a tree whose leaves arrive one by one (or as whole aligned subtrees), in
 * O(log n) memory: the hashes of the complete subtrees of the binary decomposition of the current
 * size, largest first. Used by the store audit (`verify --store`) to recompute a project's tree
 * from its stored documents and compare it with every signed checkpoint as the size passes it.
 * Pure: `node:crypto` only (through merkle.ts).
 *
 * For a size with binary decomposition 2^a + 2^b + … (a > b > …), the stack holds the roots of
 * the subtrees [0, 2^a), [2^a, 2^a + 2^b), …; the root is node(T_a, node(T_b, …)), folded from
 * the right, which is MTH(D[n]) of RFC 9162 §2.1.1.
 */
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './merkle.js'

export class StreamingRoot {
  /** Complete subtrees, largest (leftmost) first; levels strictly decrease. */
  readonly #stack: { level: number; hash: Buffer }[] = []
  #size = 0

  /** Number of leaves pushed so far. */
  get size(): number {
    return this.#size
  }

  /**
   * Appends one leaf hash (already hashed with `leafHash`); returns the complete subtrees it
   * completes, as `pushSubtree` does.
   */
  push(leafHash: Buffer): [number, number, Buffer][] {
    return this.pushSubtree(0, leafHash)
  }

  /**
   * Appends the hash of the complete subtree of 2^level leaves that starts at the current size
   * (the stored node (level, size / 2^level)). Returns the larger complete subtrees this completes,
   * as `[level, index, hash]`, lowest first: the nodes a stored tree holds at those places. Throws
   * RangeError unless the size is a multiple of 2^level, or when the hash is not 32 bytes.
   */
  pushSubtree(level: number, hash: Buffer): [number, number, Buffer][] {
    if (!Number.isInteger(level) || level < 0 || level > 52)
      throw new RangeError(`subtree level ${level} is not an integer in 0..52`)
    if (hash.length !== HASH_SIZE)
      throw new RangeError(`subtree hash has ${hash.length} bytes, want ${HASH_SIZE}`)
    const width = 2 ** level
    if (this.#size % width !== 0)
      throw new RangeError(`a subtree of ${width} leaves cannot start at leaf ${this.#size}`)
    const end = this.#size + width
    const completed: [number, number, Buffer][] = []
    let entry = { level, hash }
    // Bounded: each turn pops one of the at most 53 stack entries.
    for (let top = this.#stack.at(-1); top?.level === entry.level; top = this.#stack.at(-1)) {
      this.#stack.pop()
      entry = { level: entry.level + 1, hash: nodeHash(top.hash, entry.hash) }
      completed.push([entry.level, end / 2 ** entry.level - 1, entry.hash])
    }
    this.#stack.push(entry)
    this.#size = end
    return completed
  }

  /** An independent copy of this state (to resume from when the leaves after it are replaced). */
  clone(): StreamingRoot {
    const copy = new StreamingRoot()
    copy.#stack.push(...this.#stack)
    copy.#size = this.#size
    return copy
  }

  /** MTH of the leaves pushed so far; `EMPTY_ROOT` when none. */
  root(): Buffer {
    let root: Buffer | undefined
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      const entry = this.#stack[i]
      if (entry === undefined) continue
      root = root === undefined ? entry.hash : nodeHash(entry.hash, root)
    }
    return root ?? EMPTY_ROOT
  }
}
