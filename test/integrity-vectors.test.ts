/**
 * Runs every JSON vector under `testdata/integrity/<kind>/<case>.json` (layout in its README): a
 * `wantErr` of null must verify, a string must be rejected with that code (or a message containing
 * it). The CLI's verifier must pass the same files.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { it } from 'node:test'
import { verifyCheckpoint } from '../src/integrity/checkpoint.js'
import {
  MemoryTree,
  ProofError,
  verifyConsistency,
  verifyInclusion,
} from '../src/integrity/merkle.js'
import { repoRoot } from './helpers/repo-root.js'

const dir = join(repoRoot(import.meta.url), 'testdata', 'integrity')
const hex = (s: string): Buffer => Buffer.from(s, 'hex')

function files(path: string): string[] {
  return readdirSync(path).flatMap((name) => {
    const full = join(path, name)
    if (statSync(full).isDirectory()) return files(full)
    return name.endsWith('.json') ? [full] : []
  })
}

function checkTree(v: any): void {
  const tree = new MemoryTree()
  for (const leaf of v.leaves as string[]) tree.append(hex(leaf))
  ;(v.nodes as string[][]).forEach((level, l) =>
    level.forEach((h, i) => assert.equal(tree.node(l, i).toString('hex'), h, `node ${l}/${i}`)),
  )
  ;(v.roots as string[]).forEach((want, size) => {
    const got = tree.root(size).toString('hex')
    if (got !== want)
      throw new ProofError('root-mismatch', `root of size ${size} is ${got}, want ${want}`)
  })
}

const run: Record<string, (v: any) => void> = {
  tree: checkTree,
  inclusion: (v) =>
    verifyInclusion(hex(v.leafHash), v.index, v.size, v.proof.map(hex), hex(v.root)),
  consistency: (v) =>
    verifyConsistency(v.oldSize, v.newSize, v.proof.map(hex), hex(v.oldRoot), hex(v.newRoot)),
  checkpoint: (v) => {
    const cp = verifyCheckpoint(
      v.note,
      v.keyName,
      createPublicKey(v.publicKey),
      v.expectedOrigin ?? undefined,
    )
    if (v.want) assert.deepEqual({ ...cp, root: cp.root.toString('hex') }, v.want)
  },
}

const all = files(dir)

it('the proofs MemoryTree builds over the reference leaves equal the published proofs', () => {
  const ref = JSON.parse(readFileSync(join(dir, 'tree', 'rfc6962-reference.json'), 'utf8'))
  const tree = new MemoryTree()
  for (const leaf of ref.leaves as string[]) tree.append(hex(leaf))
  const hexes = (p: Buffer[]): string[] => p.map((b) => b.toString('hex'))
  let count = 0
  for (const file of all.filter((f) => /\/rfc6962-[0-9]+-(of|to)-[0-9]+\.json$/.test(f))) {
    const v = JSON.parse(readFileSync(file, 'utf8'))
    const got = file.includes('/inclusion/')
      ? tree.inclusionProof(v.index, v.size)
      : tree.consistencyProof(v.oldSize, v.newSize)
    assert.deepEqual(hexes(got), v.proof, relative(dir, file))
    count++
  }
  assert.equal(count, 10)
})

it('finds vectors of every kind', () => {
  const kinds = new Set(all.map((f) => relative(dir, f).split('/')[0]))
  assert.deepEqual([...kinds].sort(), Object.keys(run).sort())
  assert.ok(all.length > 100, `${all.length} vectors`)
})

for (const file of all) {
  const name = relative(dir, file)
  const v = JSON.parse(readFileSync(file, 'utf8'))
  it(`${name}: ${v.desc}`, () => {
    assert.equal(typeof v.desc, 'string')
    assert.ok(v.wantErr === null || typeof v.wantErr === 'string', 'wantErr is null or a string')
    const check = run[name.split('/')[0] ?? '']
    assert.ok(check, `unknown kind of ${name}`)
    if (v.wantErr === null) return check(v)
    assert.throws(
      () => check(v),
      (err: any) => {
        assert.ok(
          err.code === v.wantErr || String(err.message).includes(v.wantErr),
          `rejected with ${err.code}: ${err.message}; want ${v.wantErr}`,
        )
        return true
      },
    )
  })
}
