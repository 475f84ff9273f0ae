/**
 * The verifiable log API end to end (docs/merkle.md): leaf indexes in ingest responses, signed
 * checkpoints that verify with the published key and whose roots are recomputed here from the
 * stored traces, inclusion and consistency proofs checked with the RFC 6962 verifier, and CTS error
 * bodies for every bad parameter and for a server running with the log off.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, it } from 'node:test'
import { verifyCheckpoint } from '../src/integrity/checkpoint.js'
import {
  MemoryTree,
  leafHash,
  verifyConsistency,
  verifyInclusion,
} from '../src/integrity/merkle.js'
import type { TraceRecord } from '../src/model/index.js'
import { traceLeaf } from '../src/model/trace-leaf.js'
import type { Store } from '../src/store/index.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const [A, B] = TEST_PROJECTS as [string, string]
const hex = (list: string[]): Buffer[] => list.map((h) => Buffer.from(h, 'hex'))

/** Every stored trace of a project in commit order (the order of its leaves). */
async function stored(store: Store, projectId: string): Promise<TraceRecord[]> {
  const head = await store.traces.headSeq()
  return (await store.traces.readFrom(0, 100_000, { projectId, maxSeq: head })).map((s) => s.trace)
}

async function ingest(
  app: Parameters<typeof call>[0],
  projectId: string,
  count: number,
  extra: Record<string, unknown>[] = [],
): Promise<{ trace_ids: string[]; leaf_indexes?: (number | null)[] }> {
  const traces = [
    ...extra,
    ...Array.from({ length: count }, (_, i) =>
      reportedTrace({ time: TEST_NOW - 1000, resource_name: `r${i}` }),
    ),
  ]
  const { status, body } = await call(app, 'POST', `/v3/${projectId}/traces`, { traces })
  assert.equal(status, 201, JSON.stringify(body))
  return body
}

describe('verifiable log API', () => {
  it('answers leaf indexes, signed checkpoints and proofs that verify independently', async (t) => {
    const { app, services } = await buildTestApp(t)
    const none = await call(app, 'GET', `/v3/${A}/log/checkpoint`)
    assert.equal(none.status, 404)
    assert.equal(none.body.error_code, 'OCTS.0161')

    // The project's own audit traces (the admin's sign-in) are its first leaves.
    const base = await services.store.merkle.treeSize(A)
    const first = await ingest(app, A, 3)
    assert.deepEqual(first.leaf_indexes, [base, base + 1, base + 2])

    assert.equal(await services.checkpointer.runOnce(), 1)
    assert.equal(await services.checkpointer.runOnce(), 0, 'no growth, no new checkpoint')
    // 100 traces: hashed on the worker thread; a re-reported id keeps its index.
    const again = await ingest(app, A, 100, [
      { ...reportedTrace({ time: TEST_NOW - 1000 }), trace_id: first.trace_ids[1] },
    ])
    assert.deepEqual(again.leaf_indexes, [
      base + 1,
      ...Array.from({ length: 100 }, (_, i) => base + 3 + i),
    ])
    await ingest(app, B, 2)
    assert.equal(await services.checkpointer.runOnce(), 2)

    const keys = await call(app, 'GET', `/v3/${A}/log/keys`)
    assert.equal(keys.status, 200)
    assert.equal(keys.body.keys.length, 1)
    const [key] = keys.body.keys
    assert.equal(key.algorithm, 'Ed25519')
    assert.match(key.verifier_key, new RegExp(`^${key.key_name}\\+${key.key_id}\\+`))
    const publicKey = createPublicKey(key.public_key)

    // The latest checkpoint verifies, and its root is the tree of the stored traces.
    const latest = await call(app, 'GET', `/v3/${A}/log/checkpoint`)
    assert.equal(latest.status, 200)
    const cp = latest.body.checkpoint
    const parsed = verifyCheckpoint(cp.note, key.key_name, publicKey, `opencts/${A}`)
    const size = base + 103
    assert.equal(parsed.size, size)
    assert.equal(cp.tree_size, size)
    assert.equal(parsed.root.toString('hex'), cp.root_hash)
    const traces = await stored(services.store, A)
    const tree = new MemoryTree()
    for (const trace of traces) tree.append(traceLeaf(trace))
    assert.equal(tree.root().toString('hex'), cp.root_hash)
    assert.throws(() => verifyCheckpoint(cp.note, key.key_name, publicKey, `opencts/${B}`))

    // Inclusion of every 10th trace against the latest checkpoint, recomputing the leaf.
    for (let i = 0; i < traces.length; i += 10) {
      const trace = traces[i] as TraceRecord
      const proof = await call(
        app,
        'GET',
        `/v3/${A}/log/inclusion-proof?trace_id=${trace.trace_id}`,
      )
      assert.equal(proof.status, 200)
      assert.equal(proof.body.leaf_index, i)
      assert.deepEqual(proof.body.trace, trace)
      const leaf = leafHash(traceLeaf(proof.body.trace))
      assert.equal(leaf.toString('hex'), proof.body.leaf_hash)
      verifyInclusion(leaf, i, size, hex(proof.body.audit_path), parsed.root)
      // The same proof does not hold for an edited trace.
      const edited = leafHash(traceLeaf({ ...trace, user_name: 'mallory' }))
      assert.throws(() => verifyInclusion(edited, i, size, hex(proof.body.audit_path), parsed.root))
    }

    // Against the first checkpoint: trace 1 is in it, trace 50 is not yet.
    const firstSize = base + 3
    const old = await call(app, 'GET', `/v3/${A}/log/checkpoint?tree_size=${firstSize}`)
    assert.equal(old.status, 200)
    const oldRoot = Buffer.from(old.body.checkpoint.root_hash, 'hex')
    const p1 = await call(
      app,
      'GET',
      `/v3/${A}/log/inclusion-proof?trace_id=${traces[1]?.trace_id}&tree_size=${firstSize}`,
    )
    verifyInclusion(
      leafHash(traceLeaf(p1.body.trace)),
      1,
      firstSize,
      hex(p1.body.audit_path),
      oldRoot,
    )
    const p50 = await call(
      app,
      'GET',
      `/v3/${A}/log/inclusion-proof?trace_id=${traces[50]?.trace_id}&tree_size=${firstSize}`,
    )
    assert.equal(p50.status, 404)
    assert.equal(p50.body.error_code, 'OCTS.0162')

    // Consistency from the first checkpoint to the latest verifies with both signed roots.
    const consistency = await call(app, 'GET', `/v3/${A}/log/consistency-proof?first=${firstSize}`)
    assert.equal(consistency.status, 200)
    assert.equal(consistency.body.second, size)
    verifyConsistency(firstSize, size, hex(consistency.body.proof), oldRoot, parsed.root)
    assert.throws(() =>
      verifyConsistency(firstSize, size, hex(consistency.body.proof), parsed.root, parsed.root),
    )

    const list = await call(app, 'GET', `/v3/${A}/log/checkpoints`)
    assert.deepEqual(
      list.body.checkpoints.map((c: { tree_size: number }) => c.tree_size),
      [firstSize, size],
    )
    const after = await call(app, 'GET', `/v3/${A}/log/checkpoints?after_size=${firstSize}&limit=1`)
    assert.deepEqual(
      after.body.checkpoints.map((c: { tree_size: number }) => c.tree_size),
      [size],
    )

    // Project B has its own tree: A's trace is not in it.
    const crossed = await call(
      app,
      'GET',
      `/v3/${B}/log/inclusion-proof?trace_id=${traces[0]?.trace_id}`,
    )
    assert.equal(crossed.status, 404)
    assert.equal(crossed.body.error_code, 'OCTS.0162')
  })

  it('answers a CTS error body for every bad parameter', async (t) => {
    const { app, services } = await buildTestApp(t)
    await ingest(app, A, 5)
    await services.checkpointer.runOnce()
    const size = await services.store.merkle.treeSize(A)
    const cases: [string, number, string][] = [
      ['checkpoint?tree_size=abc', 400, 'OCTS.0163'],
      ['checkpoint?tree_size=-1', 400, 'OCTS.0163'],
      ['checkpoint?tree_size=99999999999999999', 400, 'OCTS.0163'],
      [`checkpoint?tree_size=${size - 1}`, 404, 'OCTS.0161'],
      ['checkpoints?limit=0', 400, 'OCTS.0163'],
      ['inclusion-proof', 400, 'OCTS.0163'],
      ['inclusion-proof?trace_id=nope', 404, 'OCTS.0162'],
      // A repeated parameter fails the query schema (CTS.0300, like ListTraces).
      ['inclusion-proof?trace_id=a&trace_id=b', 400, 'CTS.0300'],
      ['consistency-proof', 400, 'OCTS.0163'],
      ['consistency-proof?first=0', 400, 'OCTS.0163'],
      ['consistency-proof?first=4&second=3', 400, 'OCTS.0163'],
      [`consistency-proof?first=1&second=${size + 1}`, 400, 'OCTS.0163'],
      ['consistency-proof?first=1.5', 400, 'OCTS.0163'],
    ]
    for (const [path, status, code] of cases) {
      const response = await call(app, 'GET', `/v3/${A}/log/${path}`)
      assert.equal(response.status, status, path)
      assert.equal(response.body.error_code, code, path)
      assert.equal(typeof response.body.error_msg, 'string', path)
    }
    const noAuth = await call(app, 'GET', `/v3/${A}/log/checkpoint`, undefined, { auth: false })
    assert.equal(noAuth.status, 401)
  })

  it('with the log off: no leaf indexes, and every log route answers OCTS.0160', async (t) => {
    const { app, services } = await buildTestApp(t, { merkleLog: 'false' })
    const result = await ingest(app, A, 2)
    assert.equal(result.leaf_indexes, undefined)
    assert.equal(await services.checkpointer.runOnce(), 0)
    for (const path of ['checkpoint', 'checkpoints', 'keys', 'consistency-proof?first=1']) {
      const response = await call(app, 'GET', `/v3/${A}/log/${path}`)
      assert.equal(response.status, 404, path)
      assert.equal(response.body.error_code, 'OCTS.0160', path)
    }
  })
})
