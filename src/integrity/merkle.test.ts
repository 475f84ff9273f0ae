import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { it } from 'node:test'
import {
  EMPTY_ROOT,
  MemoryTree,
  ProofError,
  appendLeaf,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type NodeReader,
} from './merkle.js'

const leaves = Array.from({ length: 64 }, (_, i) => Buffer.from(`leaf ${i}`))

/** RFC 6962 §2.1 MTH, straight from the definition. */
function naiveRoot(data: Buffer[]): Buffer {
  if (data.length === 0) return createHash('sha256').digest()
  if (data.length === 1) return leafHash(data[0] ?? Buffer.alloc(0))
  let k = 1
  while (k * 2 < data.length) k *= 2
  return nodeHash(naiveRoot(data.slice(0, k)), naiveRoot(data.slice(k)))
}

function treeOf(n: number): MemoryTree {
  const tree = new MemoryTree()
  for (const leaf of leaves.slice(0, n)) tree.append(leaf)
  return tree
}

it('hashes leaves and nodes with distinct prefixes, and the empty tree as SHA-256("")', () => {
  assert.equal(EMPTY_ROOT.toString('hex'), createHash('sha256').update('').digest('hex'))
  const a = Buffer.alloc(32, 1)
  assert.notDeepEqual(leafHash(Buffer.concat([a, a])), nodeHash(a, a))
  assert.deepEqual(leafHash(Buffer.alloc(0)), createHash('sha256').update(Buffer.of(0)).digest())
})

it('hashes a leaf given as text as its UTF-8 bytes, and nodes of any length as their bytes', () => {
  const sha = (...parts: Uint8Array[]): Buffer => {
    const h = createHash('sha256')
    for (const part of parts) h.update(part)
    return h.digest()
  }
  // Non-ASCII, surrogate pairs, lone surrogates (UTF-8 has them as U+FFFD), NUL characters.
  for (const text of ['', '{"a":1}', 'é€😀'.repeat(50), 'x\uD800y\uDC00', '\u0000\u0000'])
    assert.deepEqual(leafHash(text), sha(Buffer.of(0), Buffer.from(text, 'utf8')), text)
  const [a, b] = [Buffer.alloc(32, 7), Buffer.alloc(32, 9)]
  assert.deepEqual(nodeHash(a, b), sha(Buffer.of(1), a, b))
  // Twice in a row: nothing of one call's input is left in the next's.
  assert.deepEqual(nodeHash(b, a), sha(Buffer.of(1), b, a))
  assert.deepEqual(nodeHash(a.subarray(0, 5), b), sha(Buffer.of(1), a.subarray(0, 5), b))
})

it('rootHash equals the naive recursive MTH for sizes 0..64', () => {
  const tree = treeOf(64)
  for (let n = 0; n <= 64; n++)
    assert.deepEqual(rootHash(n, tree.node), naiveRoot(leaves.slice(0, n)), `size ${n}`)
})

it('every inclusion and consistency proof for sizes <= 33 verifies, and fails for another leaf', () => {
  const tree = treeOf(33)
  for (let n = 1; n <= 33; n++) {
    const root = tree.root(n)
    for (let i = 0; i < n; i++) {
      const proof = tree.inclusionProof(i, n)
      verifyInclusion(leafHash(leaves[i] ?? Buffer.alloc(0)), i, n, proof, root)
      const other = leafHash(leaves[(i + 1) % 64] ?? Buffer.alloc(0))
      assert.throws(() => verifyInclusion(other, i, n, proof, root), { code: 'root-mismatch' })
    }
    for (let m = 1; m <= n; m++)
      verifyConsistency(m, n, tree.consistencyProof(m, n), tree.root(m), root)
  }
})

it('appendLeaf reads at most log2 nodes and produces exactly the complete subtrees', () => {
  const tree = new MemoryTree()
  for (let i = 0; i < 64; i++) {
    let reads = 0
    const counting: NodeReader = (level, index) => {
      reads++
      return tree.node(level, index)
    }
    const created = appendLeaf(i, leafHash(leaves[i] ?? Buffer.alloc(0)), counting)
    assert.ok(reads <= Math.log2(i + 1), `index ${i}: ${reads} reads`)
    assert.equal(created.length, reads + 1)
    tree.append(leaves[i] ?? Buffer.alloc(0))
    for (const [level, index, hash] of created) assert.deepEqual(tree.node(level, index), hash)
  }
})

it('rejects out-of-range indices and sizes with RangeError / typed codes', () => {
  const tree = treeOf(8)
  assert.throws(() => inclusionProof(8, 8, tree.node), RangeError)
  assert.throws(() => inclusionProof(-1, 8, tree.node), RangeError)
  assert.throws(() => consistencyProof(0, 8, tree.node), RangeError)
  assert.throws(() => consistencyProof(5, 4, tree.node), RangeError)
  assert.throws(() => tree.root(9), RangeError)
  const root = tree.root()
  assert.throws(() => verifyInclusion(leafHash(Buffer.alloc(0)), 8, 8, [], root), {
    code: 'bad-index',
  })
  assert.throws(() => verifyConsistency(5, 4, [], root, root), { code: 'bad-size' })
  assert.throws(() => verifyConsistency(0, 4, [], EMPTY_ROOT, root), { code: 'bad-size' })
})

it('reports got/want and expected/computed', () => {
  const tree = treeOf(8)
  const proof = tree.inclusionProof(2)
  const leaf = leafHash(leaves[2] ?? Buffer.alloc(0))
  assert.throws(() => verifyInclusion(leaf, 2, 8, proof.slice(1), tree.root()), {
    code: 'wrong-proof-size',
    message: 'proof has 2 nodes, want 3',
  })
  const bad = Buffer.alloc(32)
  try {
    verifyInclusion(leaf, 2, 8, proof, bad)
    assert.fail('verified against a wrong root')
  } catch (err) {
    assert.ok(err instanceof ProofError)
    assert.equal(err.expected, bad.toString('hex'))
    assert.equal(err.computed, tree.root().toString('hex'))
  }
  assert.throws(
    () => verifyConsistency(3, 8, tree.consistencyProof(3), tree.root(4), tree.root()),
    {
      code: 'root-mismatch',
    },
  )
  assert.throws(() => verifyConsistency(8, 8, [], tree.root(7), tree.root()), {
    code: 'root-mismatch',
  })
})
