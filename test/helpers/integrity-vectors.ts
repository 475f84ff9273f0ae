/**
 * @module test/helpers/integrity-vectors
 * Generates `testdata/integrity/` (run: compile the tests, then
 * `node .test-build/test/helpers/integrity-vectors.js`). The RFC 6962 reference values (leaves,
 * node hashes, roots, inclusion and consistency proofs) are copied from the published
 * transparency-dev/merkle vectors (`testonly/constants.go`, `proof/verify_test.go`), not computed
 * here; attack cases are mechanical corruptions of them with the rejection code each must get.
 * Checkpoints are signed with Ed25519 keys derived from fixed seeds (signatures are deterministic).
 * `test/integrity-vectors.test.ts` reads the committed files, never this module.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkpointOrigin, signCheckpoint } from '../../src/integrity/checkpoint.js'
import { MemoryTree } from '../../src/integrity/merkle.js'
import { repoRoot } from './repo-root.js'

/** transparency-dev/merkle testonly.LeafInputs() */
export const RFC_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
]
/** testonly.NodeHashes(): [level][index] */
export const RFC_NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
]
/** testonly.RootHashes(): index = tree size */
export const RFC_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
const N = RFC_NODES as [string[], string[], string[], string[]]
const n = (level: 0 | 1 | 2 | 3, index: number): string => N[level][index] ?? ''
/** proof/verify_test.go inclusionProofs (their 1-based leaf numbers made 0-based indices). */
const RFC_INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, [n(0, 1), n(1, 1), n(2, 1)]],
  [5, 8, [n(0, 4), n(1, 3), n(2, 0)]],
  [2, 3, [n(1, 0)]],
  [1, 5, [n(0, 0), n(1, 1), n(0, 4)]],
]
/** proof/verify_test.go consistencyProofs. */
const RFC_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, [n(0, 1), n(1, 1), n(2, 1)]],
  [6, 8, [n(1, 2), n(1, 3), n(2, 0)]],
  [2, 5, [n(1, 1), n(0, 4)]],
  [6, 7, [n(1, 2), n(0, 6), n(2, 0)]],
]
/** testonly LeafInputs hashed: the level-0 node hashes. */
const leafHashOf = (i: number): string => N[0][i] ?? ''
const root = (size: number): string => RFC_ROOTS[size] ?? ''
const SOME_HASH = 'abacaba000000000000000000000000000000000000000000060061e00123456'

function flip(hex: string, bit: number): string {
  const b = Buffer.from(hex, 'hex')
  b[Math.floor(bit / 8)] = (b[Math.floor(bit / 8)] ?? 0) ^ (1 << (bit % 8))
  return b.toString('hex')
}

type Vector = { desc: string; wantErr: string | null } & Record<string, unknown>
const files = new Map<string, Vector>()
const put = (path: string, v: Vector): void => void files.set(path, v)

function inclusionVectors(): void {
  for (const [index, size, proof] of RFC_INCLUSION) {
    const base = { leafHash: leafHashOf(index), index, size, proof, root: root(size) }
    const name = `rfc6962-${index}-of-${size}`
    const bad = (c: string, desc: string, wantErr: string, over: Record<string, unknown>): void =>
      put(`inclusion/${name}-${c}.json`, { desc: `${desc} (${name})`, wantErr, ...base, ...over })
    put(`inclusion/${name}.json`, {
      desc: `RFC 6962 reference: leaf ${index} in a tree of ${size}`,
      wantErr: null,
      ...base,
    })
    bad('wrong-leaf', 'the hash of another leaf', 'root-mismatch', {
      leafHash: leafHashOf((index + 1) % 8),
    })
    bad('short-leaf-hash', 'a leaf hash of 9 bytes', 'bad-hash', {
      leafHash: Buffer.from('WrongLeaf').toString('hex'),
    })
    bad('extra-node', 'the proof with the root appended', 'wrong-proof-size', {
      proof: [...proof, root(size)],
    })
    bad('leading-node', 'the proof with the root prepended', 'wrong-proof-size', {
      proof: [root(size), ...proof],
    })
    bad('index-past-end', 'index equal to the tree size', 'bad-index', { index: size })
    bad('empty-root', 'the empty-tree root', 'root-mismatch', { root: RFC_ROOTS[0] })
    bad('other-root', 'an unrelated root', 'root-mismatch', { root: SOME_HASH })
    if (proof.length === 0) continue
    bad('truncated', 'the last proof node removed', 'wrong-proof-size', {
      proof: proof.slice(0, -1),
    })
    bad('empty-proof', 'an empty proof where one is needed', 'wrong-proof-size', { proof: [] })
    bad('double-size', 'twice the tree size', 'wrong-proof-size', { size: size * 2 })
    proof.forEach((_, i) => {
      const p = [...proof]
      p[i] = flip(p[i] ?? '', 3)
      bad(`flip-node-${i}-bit-3`, `bit 3 of proof[${i}] flipped`, 'root-mismatch', { proof: p })
    })
    bad('flip-leaf-bit-255', 'bit 255 of the leaf hash flipped', 'root-mismatch', {
      leafHash: flip(base.leafHash, 255),
    })
    if (proof.length > 1)
      bad('swapped-siblings', 'proof[0] and proof[1] swapped', 'root-mismatch', {
        proof: [proof[1], proof[0], ...proof.slice(2)],
      })
  }
  put('inclusion/rfc6962-0-of-8-wrong-index.json', {
    desc: 'the proof of leaf 0 presented for leaf 1 (index + 1)',
    wantErr: 'root-mismatch',
    leafHash: leafHashOf(0),
    index: 1,
    size: 8,
    proof: RFC_INCLUSION[1]?.[2],
    root: root(8),
  })
  put('inclusion/rfc6962-5-of-8-wrong-size.json', {
    desc: 'the proof of leaf 5 in 8 presented for a tree of 7 (same proof length)',
    wantErr: 'root-mismatch',
    leafHash: leafHashOf(5),
    index: 5,
    size: 7,
    proof: RFC_INCLUSION[2]?.[2],
    root: root(7),
  })
}

function consistencyVectors(): void {
  for (const [oldSize, newSize, proof] of RFC_CONSISTENCY) {
    const base = { oldSize, newSize, proof, oldRoot: root(oldSize), newRoot: root(newSize) }
    const name = `rfc6962-${oldSize}-to-${newSize}`
    const bad = (c: string, desc: string, wantErr: string, over: Record<string, unknown>): void =>
      put(`consistency/${name}-${c}.json`, { desc: `${desc} (${name})`, wantErr, ...base, ...over })
    put(`consistency/${name}.json`, {
      desc: `RFC 6962 reference: tree ${oldSize} is a prefix of tree ${newSize}`,
      wantErr: null,
      ...base,
    })
    bad('old-after-new', 'old size greater than new size', 'bad-size', { oldSize: newSize + 1 })
    bad('wrong-old-root', 'an unrelated old root', 'root-mismatch', { oldRoot: SOME_HASH })
    bad('wrong-new-root', 'an unrelated new root', 'root-mismatch', { newRoot: SOME_HASH })
    bad('trailing-root', 'the proof with the new root appended', 'wrong-proof-size', {
      proof: [...proof, root(newSize)],
    })
    if (proof.length === 0) continue
    bad('swapped-roots', 'old and new roots swapped', 'root-mismatch', {
      oldRoot: root(newSize),
      newRoot: root(oldSize),
    })
    bad('truncated', 'the last proof node removed', 'wrong-proof-size', {
      proof: proof.slice(0, -1),
    })
    bad('empty-proof', 'an empty proof where one is needed', 'wrong-proof-size', { proof: [] })
    bad('double-new-size', 'twice the new size', 'wrong-proof-size', { newSize: newSize * 2 })
    proof.forEach((_, i) => {
      const p = [...proof]
      p[i] = flip(p[i] ?? '', 4)
      bad(`flip-node-${i}-bit-4`, `bit 4 of proof[${i}] flipped`, 'root-mismatch', { proof: p })
    })
    if (proof.length > 1)
      bad('swapped-nodes', 'proof[0] and proof[1] swapped', 'root-mismatch', {
        proof: [proof[1], proof[0], ...proof.slice(2)],
      })
  }
  put('consistency/fork-same-size.json', {
    desc: 'a fork: two checkpoints of size 8 with different roots',
    wantErr: 'root-mismatch',
    oldSize: 8,
    newSize: 8,
    proof: [],
    oldRoot: root(8),
    newRoot: flip(root(8), 0),
  })
  const fork = new MemoryTree()
  for (const leaf of ['', '00', 'ff', '2021', '3031', '40414243'])
    fork.append(Buffer.from(leaf, 'hex'))
  put('consistency/fork-not-a-prefix.json', {
    desc: 'a fork: a 6-leaf tree whose leaf 2 differs is not a prefix of the reference 8-leaf tree',
    wantErr: 'root-mismatch',
    oldSize: 6,
    newSize: 8,
    proof: RFC_CONSISTENCY[2]?.[2],
    oldRoot: fork.root().toString('hex'),
    newRoot: root(8),
  })
}

/** Ed25519 private key from a 32-byte seed (PKCS#8 DER prefix for a raw Ed25519 seed). */
function seededKey(seedByte: number): KeyObject {
  const der = Buffer.concat([
    Buffer.from('302e020100300506032b657004220420', 'hex'),
    Buffer.alloc(32, seedByte),
  ])
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
}

function checkpointVectors(): void {
  const key = seededKey(1)
  const other = seededKey(2)
  const keyName = 'opencts.example/log'
  const publicKey = createPublicKey(key).export({ format: 'pem', type: 'spki' }).toString()
  const cp = {
    origin: checkpointOrigin('p1'),
    size: 8,
    root: Buffer.from(root(8), 'hex'),
    time: 1767225600000,
  }
  const note = signCheckpoint(cp, keyName, key)
  const base = { keyName, publicKey, expectedOrigin: 'opencts/p1', note }
  const sigLine = note.slice(note.indexOf('\n\n') + 2)
  const blob = Buffer.from(sigLine.trim().split(' ')[2] ?? '', 'base64')
  const withBlob = (b: Buffer): string =>
    `${note.slice(0, note.indexOf('\n\n') + 2)}\u2014 ${keyName} ${b.toString('base64')}\n`
  const put2 = (
    c: string,
    desc: string,
    wantErr: string | null,
    over: Record<string, unknown> = {},
  ): void => put(`checkpoint/${c}.json`, { desc, wantErr, ...base, ...over })
  put2(
    'valid',
    'a checkpoint of project p1 at the RFC 6962 size-8 root, signed by the log key',
    null,
    {
      want: { origin: cp.origin, size: cp.size, root: root(8), time: cp.time },
    },
  )
  put2('trailing-garbage', 'a line of text after the signature', 'trailing-data', {
    note: `${note}garbage\n`,
  })
  put2('no-final-newline', 'the final newline removed', 'trailing-data', {
    note: note.slice(0, -1),
  })
  put2('extra-body-line', 'an unknown extension line in the signed body', 'trailing-data', {
    note: note.replace('\n\n', '\nextra 1\n\n'),
  })
  put2('no-blank-line', 'no blank line between body and signatures', 'bad-format', {
    note: note.replace('\n\n', '\n'),
  })
  put2(
    'wrong-origin',
    'a valid checkpoint of project p2 presented for project p1 (cross-tenant)',
    'origin-mismatch',
    {
      note: signCheckpoint({ ...cp, origin: checkpointOrigin('p2') }, keyName, key),
    },
  )
  put2('unknown-format', 'an origin without the opencts/ prefix', 'unknown-format', {
    note: signCheckpoint({ ...cp, origin: 'opencts/p1' }, keyName, key).replace(
      'opencts/p1',
      'example.com/p1',
    ),
    expectedOrigin: null,
  })
  put2('other-key', 'signed by another key under the same key name', 'unknown-key', {
    note: signCheckpoint(cp, keyName, other),
  })
  const forged = Buffer.concat([
    blob.subarray(0, 4),
    Buffer.from(
      signCheckpoint(cp, keyName, other).trim().split(' ').pop() ?? '',
      'base64',
    ).subarray(4),
  ])
  put2('other-key-forged-id', "another key's signature behind this key's id", 'bad-signature', {
    note: withBlob(forged),
  })
  put2('truncated-signature', 'the signature cut to 60 bytes', 'bad-signature', {
    note: withBlob(blob.subarray(0, 64)),
  })
  put2('unknown-key-name', 'verified against a key name that did not sign', 'unknown-key', {
    keyName: 'someone-else',
  })
  put2('changed-size', 'the size edited after signing', 'bad-signature', {
    note: note.replace('\n8\n', '\n9\n'),
  })
  put2('changed-root', 'bit 0 of the root flipped after signing', 'bad-signature', {
    note: note.replace(
      cp.root.toString('base64'),
      Buffer.from(flip(root(8), 0), 'hex').toString('base64'),
    ),
  })
  put2('bad-size-number', 'a size with a leading zero', 'bad-format', {
    note: note.replace('\n8\n', '\n08\n'),
  })
  put2('short-root', 'a 31-byte root', 'bad-format', {
    note: note.replace(cp.root.toString('base64'), cp.root.subarray(0, 31).toString('base64')),
  })
}

function treeVectors(): void {
  put('tree/rfc6962-reference.json', {
    desc: 'RFC 6962 reference tree of transparency-dev/merkle: leaves, every complete subtree, roots of sizes 0..8',
    wantErr: null,
    leaves: RFC_LEAVES,
    nodes: RFC_NODES,
    roots: RFC_ROOTS,
  })
  put('tree/wrong-root.json', {
    desc: 'the reference leaves against a root with bit 7 flipped: the recomputed root must differ',
    wantErr: 'root-mismatch',
    leaves: RFC_LEAVES,
    nodes: RFC_NODES,
    roots: RFC_ROOTS.map((r, i) => (i === 8 ? flip(r, 7) : r)),
  })
}

treeVectors()
inclusionVectors()
consistencyVectors()
checkpointVectors()
const out = join(repoRoot(import.meta.url), 'testdata', 'integrity')
for (const kind of ['tree', 'inclusion', 'consistency', 'checkpoint'])
  rmSync(join(out, kind), { recursive: true, force: true })
for (const [path, vector] of files) {
  mkdirSync(join(out, path, '..'), { recursive: true })
  writeFileSync(join(out, path), `${JSON.stringify(vector, null, 2)}\n`)
}
console.log(`wrote ${files.size} vectors to ${out}`)
