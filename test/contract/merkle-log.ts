/**
 * The contract of the Merkle log port (`MerkleLogStore`): every engine passes it, with stores
 * opened with the trace log's MerkleHashing. Every newly stored trace (ingest batches and the
 * audit traces of configuration changes) becomes the project's next leaf in commit order, in the
 * transaction that stores it; the stored subtrees give the root an in-memory tree computes from the
 * stored traces, and survive reopening the store. Checkpoints thin to one per period.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryTree, rootHash } from '../../src/integrity/merkle.js'
import type { TraceRecord } from '../../src/model/index.js'
import { traceLeaf } from '../../src/model/trace-leaf.js'
import type { Store } from '../../src/store/index.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'

const NOW = Date.now()

function traces(projectId: string, count: number): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({ project_id: projectId, time: NOW - 10_000 + i, resource_id: `r-${i}` }),
  )
}

/** The project's stored traces in commit order (read back through the store). */
async function storedTraces(store: Store, projectId: string): Promise<TraceRecord[]> {
  const head = await store.traces.headSeq()
  const out: TraceRecord[] = []
  let after = 0
  for (;;) {
    const page = await store.traces.readFrom(after, 500, { projectId, maxSeq: head })
    if (page.length === 0) return out
    out.push(...page.map((s) => s.trace))
    after = page.at(-1)?.seq ?? after
  }
}

/** Checks size, leaf indexes and root of the project's log against the stored traces. */
async function checkLog(store: Store, projectId: string, want: number): Promise<void> {
  const stored = await storedTraces(store, projectId)
  assert.equal(stored.length, want)
  assert.equal(await store.merkle.treeSize(projectId), want)
  const memory = new MemoryTree()
  for (const [i, t] of stored.entries()) {
    assert.equal(await store.merkle.leafIndexOf(projectId, t.trace_id), i, `leaf of ${t.trace_id}`)
    memory.append(traceLeaf(t))
  }
  const root = await store.merkle.withNodes(projectId, (node, size) => rootHash(size, node))
  assert.equal(root.toString('hex'), memory.root().toString('hex'))
}

/** `factory` opens stores with the trace log's MerkleHashing (`TRACE_LOG_HASHING`). */
export function merkleLogContract(name: string, factory: StoreFactory): void {
  describe(`Merkle log contract: ${name}`, () => {
    it('appends every new trace of every project in commit order, duplicates skipped', async () => {
      let store = await factory.open()
      try {
        const a = traces('pa', 700)
        const b = traces('pb', 301)
        // Interleaved projects, a repeat within a batch, re-reports across batches.
        const first = [...a.slice(0, 300), ...b.slice(0, 100), a[0] as TraceRecord]
        const result = await store.traces.append(first)
        assert.equal(result.inserted.length, 400)
        assert.deepEqual(result.duplicates, [a[0]?.trace_id])
        await store.traces.append([...b.slice(50, 301), ...a.slice(250, 333)])
        await checkLog(store, 'pa', 333)
        await checkLog(store, 'pb', 301)

        // Audit traces of a configuration change are leaves too.
        const audit = traces('pa', 2)
        await store.config.putTags('pa', 'tracker', 't1', [{ key: 'k', value: 'v' }], audit)
        assert.equal(await store.merkle.leafIndexOf('pa', audit[1]?.trace_id ?? ''), 334)
        await checkLog(store, 'pa', 335)

        // Reopening keeps the log; appends continue from the stored subtrees.
        if (factory.reopen !== undefined) store = await factory.reopen(store)
        await checkLog(store, 'pa', 335)
        for (let start = 333; start < 700; start += 97)
          await store.traces.append(a.slice(start, start + 97))
        await checkLog(store, 'pa', 702)
        await checkLog(store, 'pb', 301)
        assert.equal(await store.merkle.treeSize('nobody'), 0)
        assert.equal(await store.merkle.leafIndexOf('pb', a[0]?.trace_id ?? ''), undefined)
      } finally {
        await store.close()
      }
    })

    it('one batch of many leaves matches the in-memory tree', async () => {
      const store = await factory.open()
      try {
        await store.traces.append(traces('p1', 1000))
        await checkLog(store, 'p1', 1000)
      } finally {
        await store.close()
      }
    })

    it('thins old checkpoints to the largest of each period per project, and keeps recent ones', async () => {
      const store = await factory.open()
      const HOUR = 3_600_000
      const at = (projectId: string, size: number, time: number): Promise<void> =>
        store.merkle.saveCheckpoint({
          projectId,
          size,
          time,
          root: Buffer.alloc(32, size),
          note: `note ${projectId} ${size}`,
        })
      // pa: three in hour 0, two in hour 1, one recent; pb: one old checkpoint, its latest.
      for (const [size, time] of [
        [1, 10],
        [2, 20],
        [3, 30],
        [4, HOUR + 5],
        [5, HOUR + 6],
        [6, 10 * HOUR],
      ] as const)
        await at('pa', size, time)
      await at('pb', 7, 15)
      assert.equal(await store.merkle.thinCheckpoints(5 * HOUR, HOUR), 3)
      const sizes = async (p: string): Promise<number[]> =>
        (await store.merkle.listCheckpoints(p, 0, 100)).map((c) => c.size)
      assert.deepEqual(await sizes('pa'), [3, 5, 6])
      assert.deepEqual(await sizes('pb'), [7], 'a project keeps its latest, however old')
      assert.equal(await store.merkle.thinCheckpoints(5 * HOUR, HOUR), 0, 'idempotent')
      await store.close()
    })

    it('lists projects to checkpoint and keeps log keys unique, oldest first', async () => {
      const store = await factory.open()
      try {
        await store.traces.append([...traces('pb', 2), ...traces('pa', 3)])
        assert.deepEqual(await store.merkle.logProjects(), ['pa', 'pb'])
        await store.merkle.saveCheckpoint({
          projectId: 'pa',
          size: 3,
          time: NOW,
          root: Buffer.alloc(32),
          note: 'n',
        })
        assert.deepEqual(await store.merkle.uncheckpointed(), [{ projectId: 'pb', size: 2 }])
        const key = (keyId: string, createdAt: number) => ({
          keyId,
          keyName: `k-${keyId}`,
          publicKey: 'pem',
          sealedPrivateKey: 'sealed',
          createdAt,
        })
        await store.merkle.insertLogKey(key('0000000b', 2))
        await store.merkle.insertLogKey(key('0000000a', 1))
        await assert.rejects(store.merkle.insertLogKey(key('0000000a', 3)), {
          code: 'OCTS_ERR_KEY_EXISTS',
        })
        assert.deepEqual(
          (await store.merkle.listLogKeys()).map((k) => k.keyId),
          ['0000000a', '0000000b'],
        )
      } finally {
        await store.close()
      }
    })

    it('gives the same trace id its own leaf in each project; a retry keeps the leaf', async () => {
      const store = await factory.open()
      try {
        const [a] = traces('pa', 1)
        assert.ok(a !== undefined)
        const b = { ...a, project_id: 'pb' }
        await store.traces.append(traces('pb', 2))
        assert.deepEqual([...(await store.traces.append([a])).leafIndexes], [[a.trace_id, 0]])
        assert.deepEqual([...(await store.traces.append([b])).leafIndexes], [[b.trace_id, 2]])
        assert.deepEqual([...(await store.traces.append([b])).leafIndexes], [[b.trace_id, 2]])
        assert.equal((await store.merkle.leafOf('pb', b.trace_id))?.trace.project_id, 'pb')
        assert.equal((await store.merkle.leafOf('pa', a.trace_id))?.trace.project_id, 'pa')
        await checkLog(store, 'pa', 1)
        await checkLog(store, 'pb', 3)
      } finally {
        await store.close()
      }
    })
  })
}
