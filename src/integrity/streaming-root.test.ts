import assert from 'node:assert/strict'
import { it } from 'node:test'
import { EMPTY_ROOT, MemoryTree, leafHash } from './merkle.js'
import { StreamingRoot } from './streaming-root.js'

const leaves = Array.from({ length: 70 }, (_, i) => Buffer.from(`leaf ${i}`))

function treeOf(n: number): MemoryTree {
  const tree = new MemoryTree()
  for (const leaf of leaves.slice(0, n)) tree.append(leaf)
  return tree
}

it('gives the root of every prefix, leaf by leaf, as the stored tree does (sizes 0..70)', () => {
  const tree = treeOf(70)
  const streaming = new StreamingRoot()
  assert.deepEqual(streaming.root(), EMPTY_ROOT)
  let completed = 0
  for (const [i, leaf] of leaves.entries()) {
    // Every complete subtree it reports is the stored tree's node at that place.
    for (const [level, index, hash] of streaming.push(leafHash(leaf))) {
      assert.deepEqual(hash, tree.node(level, index), `node (${level}, ${index})`)
      assert.equal((index + 1) * 2 ** level, i + 1, 'ends at the pushed leaf')
      completed++
    }
    assert.equal(streaming.size, i + 1)
    assert.deepEqual(streaming.root(), tree.root(i + 1), `size ${i + 1}`)
  }
  // A tree of n leaves has n - popcount(n) complete subtrees above its leaves: 70 - 3.
  assert.equal(completed, 67)
})

it('accepts aligned subtrees in place of their leaves, with the same roots', () => {
  const tree = treeOf(70)
  // 0..31 as one subtree, 32..47, 48..51, 52, 53, then 54..55 and leaf by leaf to 70.
  const streaming = new StreamingRoot()
  const blocks: [number, number][] = [
    [5, 0],
    [4, 2],
    [2, 12],
    [0, 52],
    [0, 53],
    [1, 27],
  ]
  const completed: string[] = []
  for (const [level, index] of blocks)
    for (const [l, i, hash] of streaming.pushSubtree(level, tree.node(level, index))) {
      assert.deepEqual(hash, tree.node(l, i))
      completed.push(`${l}/${i}`)
    }
  // 52 and 53 complete 52..53; 54..55 then completes 52..55 and 48..55 (not 32..63).
  assert.deepEqual(completed, ['1/26', '2/13', '3/6'])
  assert.equal(streaming.size, 56)
  assert.deepEqual(streaming.root(), tree.root(56))
  for (let i = 56; i < 70; i++) streaming.push(leafHash(leaves[i] ?? Buffer.alloc(0)))
  assert.deepEqual(streaming.root(), tree.root(70))
})

it('refuses a subtree that does not start at a multiple of its width, and bad hashes', () => {
  const streaming = new StreamingRoot()
  streaming.push(leafHash(Buffer.from('a')))
  assert.throws(() => streaming.pushSubtree(1, Buffer.alloc(32)), RangeError)
  assert.throws(() => streaming.pushSubtree(-1, Buffer.alloc(32)), RangeError)
  assert.throws(() => streaming.push(Buffer.alloc(31)), RangeError)
  assert.equal(streaming.size, 1)
  // A wrong leaf changes the root.
  const other = new StreamingRoot()
  other.push(leafHash(Buffer.from('b')))
  assert.notDeepEqual(other.root(), streaming.root())
})
