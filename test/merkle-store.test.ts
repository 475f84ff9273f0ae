/**
 * The per-project Merkle log of the SQLite store: every newly stored trace (ingest batches and the
 * audit traces of configuration changes) becomes the project's next leaf in commit order, in the
 * transaction that stores it; the stored subtrees give the root an in-memory tree computes from
 * the stored traces, and survive reopening the file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { MemoryTree, rootHash } from '../src/integrity/merkle.js'
import type { TraceRecord } from '../src/model/index.js'
import { traceLeaf } from '../src/model/trace-leaf.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { MerkleHashing, Store } from '../src/store/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { SCHEMA_VERSION } from '../src/store/sqlite/schema.js'
import { makeTrace } from './helpers/make-trace.js'

const HASHING: MerkleHashing = TRACE_LOG_HASHING
const NOW = Date.now()

function freshPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'opencts-merkle-')), 'opencts.db')
}

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

function nodeRows(path: string, projectId: string): number {
  const db = new Database(path, { readonly: true })
  try {
    const row = db
      .prepare('SELECT count(*) AS n FROM merkle_nodes WHERE project_id = ?')
      .get(projectId) as { n: number }
    return row.n
  } finally {
    db.close()
  }
}

describe('SQLite Merkle log', () => {
  it('appends every new trace of every project in commit order, duplicates skipped', async () => {
    const path = freshPath()
    let store = openSqliteStore({ path, merkle: HASHING })
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
    await store.close()
    store = openSqliteStore({ path, merkle: HASHING })
    await checkLog(store, 'pa', 335)
    for (let start = 333; start < 700; start += 97)
      await store.traces.append(a.slice(start, start + 97))
    await checkLog(store, 'pa', 702)
    await checkLog(store, 'pb', 301)
    assert.equal(await store.merkle.treeSize('nobody'), 0)
    assert.equal(await store.merkle.leafIndexOf('pb', a[0]?.trace_id ?? ''), undefined)
    await store.close()

    // Fewer than two stored subtrees per leaf (every complete subtree: 2n - popcount(n)).
    const popcount = (n: number): number => n.toString(2).replaceAll('0', '').length
    assert.equal(nodeRows(path, 'pa'), 2 * 702 - popcount(702))
    assert.ok(nodeRows(path, 'pb') < 2 * 301)
  })

  it('one batch of many leaves matches the in-memory tree', async () => {
    const store = openSqliteStore({ path: freshPath(), merkle: HASHING })
    await store.traces.append(traces('p1', 1000))
    await checkLog(store, 'p1', 1000)
    await store.close()
  })

  it('is off without MerkleHashing: size 0, no leaf index, no subtree', async () => {
    const path = freshPath()
    const store = openSqliteStore({ path })
    const batch = traces('p1', 10)
    await store.traces.append(batch)
    assert.equal(await store.merkle.treeSize('p1'), 0)
    assert.equal(await store.merkle.leafIndexOf('p1', batch[0]?.trace_id ?? ''), undefined)
    assert.equal(await store.merkle.withNodes('p1', (_node, size) => size), 0)
    await store.close()
    assert.equal(nodeRows(path, 'p1'), 0)
  })

  it('thins old checkpoints to the largest of each period per project, and keeps recent ones', async () => {
    const store = openSqliteStore({ path: freshPath(), merkle: HASHING })
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

  it('gives the same trace id its own leaf in each project; a retry keeps the leaf', async () => {
    const store = openSqliteStore({ path: freshPath(), merkle: HASHING })
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

  it('upgrades a version-4 file: adds traces.leaf_index and the merkle tables', async () => {
    const path = freshPath()
    const old = traces('p1', 3)
    const v4 = openSqliteStore({ path })
    await v4.traces.append(old)
    await v4.close()
    const db = new Database(path)
    db.exec(
      'DROP TABLE merkle_nodes; DROP TABLE merkle_trees; ALTER TABLE traces DROP COLUMN leaf_index',
    )
    db.prepare("UPDATE meta SET value = '4' WHERE key = 'schema_version'").run()
    db.close()

    const store = openSqliteStore({ path, merkle: HASHING })
    const added = traces('p1', 2)
    await store.traces.append(added)
    // Traces stored before the upgrade have no leaf; the log starts with the first new one.
    assert.equal(await store.merkle.leafIndexOf('p1', old[0]?.trace_id ?? ''), undefined)
    assert.equal(await store.merkle.leafIndexOf('p1', added[1]?.trace_id ?? ''), 1)
    assert.equal(await store.merkle.treeSize('p1'), 2)
    await store.close()
    const check = new Database(path, { readonly: true })
    const version = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
      value: string
    }
    check.close()
    assert.equal(version.value, String(SCHEMA_VERSION))
  })
})
