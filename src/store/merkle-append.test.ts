/**
 * The engine-neutral Merkle append: appending leaves in pieces (each piece reading only the stored
 * frontier) gives the nodes and root of appending them at once, and of integrity's in-memory tree.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { appendLeaf, leafHash, MemoryTree, rootHash } from '../integrity/merkle.js'
import { appendLeaves, frontierKeys, nodeKey, type MerkleNode } from './merkle-append.js'

const HASHING = { appendLeaf }

function leaves(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) =>
    leafHash(createHash('sha256').update(`leaf ${i}`).digest('hex')),
  )
}

/** Appends in pieces of the given sizes, reading only each append's frontier from `stored`. */
function appendInPieces(all: readonly Buffer[], pieces: readonly number[]): Map<string, Buffer> {
  const stored = new Map<string, Buffer>()
  let size = 0
  for (const piece of pieces) {
    const frontier = new Map<string, Buffer>()
    for (const [level, index] of frontierKeys(size)) {
      const hash = stored.get(nodeKey(level, index))
      assert.ok(hash !== undefined, `frontier node ${level}/${index} of size ${size} is stored`)
      frontier.set(nodeKey(level, index), hash)
    }
    const result = appendLeaves(HASHING, size, frontier, all.slice(size, size + piece))
    for (const [level, index, hash] of result.nodes) {
      assert.equal(stored.has(nodeKey(level, index)), false, `node ${level}/${index} written once`)
      stored.set(nodeKey(level, index), hash)
    }
    size = result.size
  }
  return stored
}

const reader = (nodes: ReadonlyMap<string, Buffer>) => (level: number, index: number) => {
  const hash = nodes.get(nodeKey(level, index))
  if (hash === undefined) throw new RangeError(`missing ${level}/${index}`)
  return hash
}

describe('merkle-append', () => {
  it('names one frontier subtree per set bit of the size', () => {
    assert.deepEqual(frontierKeys(0), [])
    assert.deepEqual(frontierKeys(1), [[0, 0]])
    assert.deepEqual(frontierKeys(6), [
      [1, 2],
      [2, 0],
    ])
    assert.deepEqual(frontierKeys(7), [
      [0, 6],
      [1, 2],
      [2, 0],
    ])
    assert.throws(() => frontierKeys(-1), RangeError)
  })

  it('appending in pieces equals appending at once, and the roots are integrity’s', () => {
    const all = leaves(333)
    const once = appendInPieces(all, [333])
    const memory = new MemoryTree()
    for (const leaf of all) memory.appendHash(leaf)
    for (const pieces of [
      [1, 1, 1, 330],
      [7, 64, 100, 162],
      Array.from({ length: 333 }, () => 1),
    ]) {
      const inPieces = appendInPieces(all, pieces)
      assert.equal(inPieces.size, once.size)
      for (const [key, hash] of once) assert.ok(inPieces.get(key)?.equals(hash), key)
    }
    // Every complete subtree: 2n - popcount(n) nodes.
    assert.equal(once.size, 2 * 333 - (333).toString(2).replaceAll('0', '').length)
    for (const size of [1, 2, 3, 100, 256, 333])
      assert.equal(
        rootHash(size, reader(once)).toString('hex'),
        memory.root(size).toString('hex'),
        `root of ${size}`,
      )
  })

  it('returns nodes by level then index, and fails on a missing frontier node', () => {
    const all = leaves(10)
    const { nodes, size } = appendLeaves(HASHING, 0, new Map(), all)
    assert.equal(size, 10)
    const order = (n: MerkleNode): number => n[0] * 1000 + n[1]
    assert.deepEqual(
      nodes.map(order),
      [...nodes].map(order).sort((a, b) => a - b),
    )
    assert.throws(
      () => appendLeaves(HASHING, 5, new Map(), leaves(1), 'p1'),
      (e: unknown) => e instanceof Error && /level 0, index 4\) of project p1/.test(e.message),
    )
  })
})
