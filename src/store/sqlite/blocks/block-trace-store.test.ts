import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { Worker } from 'node:worker_threads'
import type { PreparedBatch } from '../../ports/traces.js'
import Database from 'better-sqlite3'
import { TRACE_LOG_HASHING } from '../../../log/trace-log-hashing.js'
import type { TraceRecord } from '../../../model/index.js'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import { openSqliteStore, type SqliteStore } from '../sqlite-store.js'
import { prepareBatch } from './prepare-batch.js'
import { MERGE_RUN } from './block-writer.js'
import { BlockTraceStore } from './block-trace-store.js'

const NOW = Date.now()
const DAY = 86_400_000

function freshPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'opencts-blocks-')), 'opencts.db')
}

function traces(projectId: string, count: number, time = NOW - 10_000): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({ project_id: projectId, time: time + i, resource_id: `r-${i}` }),
  )
}

function blockRows(path: string): { project_id: string; count: number; min_leaf: number | null }[] {
  const db = new Database(path, { readonly: true })
  try {
    return db
      .prepare('SELECT project_id, count, min_leaf FROM trace_blocks ORDER BY min_seq')
      .all() as { project_id: string; count: number; min_leaf: number | null }[]
  } finally {
    db.close()
  }
}

/**
 * Every trace of the store in seq order (readFrom), checked to be strictly increasing and to be
 * what windows of 7 read from cursor to cursor (a window starts inside blocks, merged ones too).
 */
async function allStored(store: SqliteStore): Promise<{ seq: number; trace: TraceRecord }[]> {
  const rows = await store.traces.readFrom(0, 100_000)
  for (let i = 1; i < rows.length; i++)
    assert.ok((rows[i]?.seq ?? 0) > (rows[i - 1]?.seq ?? 0), 'readFrom is in seq order')
  const windows: { seq: number; trace: TraceRecord }[] = []
  let cursor = 0
  for (let step = 0; step <= rows.length; step++) {
    const window = await store.traces.readFrom(cursor, 7)
    windows.push(...window)
    if (window.length < 7) break
    cursor = window.at(-1)?.seq ?? cursor
  }
  assert.deepEqual(windows, rows, 'windows of 7 read what one read does')
  return rows
}

it('merges a project’s small blocks, keeping seqs, leaves, pages and lookups', async () => {
  const path = freshPath()
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const small: TraceRecord[] = []
  try {
    // Small batches of p1 interleaved with batches of p2: p1's merged blocks interleave in seq.
    for (let b = 0; b < 3 * MERGE_RUN; b++) {
      const batch = traces('p1', 3, NOW - 100_000 + b * 10)
      small.push(...batch)
      await store.traces.append(batch)
      await store.traces.append(traces('p2', 1, NOW - 50_000 + b))
    }
    const rows = blockRows(path).filter((r) => r.project_id === 'p1')
    assert.ok(rows.length <= MERGE_RUN, `p1 has ${rows.length} blocks after merges`)
    assert.equal(
      rows.reduce((n, r) => n + r.count, 0),
      small.length,
    )
    for (let round = 0; round < 2; round++) {
      const stored = await allStored(store)
      assert.equal(stored.length, small.length + 3 * MERGE_RUN)
      const p1 = stored.filter((r) => r.trace.project_id === 'p1').map((r) => r.trace)
      assert.deepEqual(p1, small, 'commit order kept through merges')
      for (const [i, t] of small.entries()) {
        assert.equal(await store.merkle.leafIndexOf('p1', t.trace_id), i)
        if (i % 7 === 0) assert.deepEqual((await store.merkle.leafAt('p1', i))?.trace, t)
      }
      const page = await store.traces.page(
        { projectId: 'p1', from: 0, to: NOW, category: 'system' },
        { traceId: small[40]?.trace_id ?? '' },
        5,
      )
      assert.deepEqual(
        page.traces.map((t) => t.trace_id),
        small
          .slice(35, 40)
          .reverse()
          .map((t) => t.trace_id),
      )
      const audit = await store.merkle.auditRows(0, 1000)
      assert.equal(audit.length, stored.length)
      assert.ok(audit.every((r) => r.columnsMatch))
      store = await reopen(store, path)
    }
    const retry = await store.traces.append([small[5] as TraceRecord])
    assert.deepEqual(retry.duplicates, [small[5]?.trace_id])
    assert.deepEqual([...retry.leafIndexes], [[small[5]?.trace_id, 5]])
  } finally {
    await store.close()
  }
})

async function reopen(store: SqliteStore, path: string): Promise<SqliteStore> {
  await store.close()
  return openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
}

it('appendPrepared drops stored ids and repeats, and gives a re-reported trace its stored leaf', async () => {
  const path = freshPath()
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    const first = traces('p1', 300)
    await store.traces.append(first)
    const fresh = traces('p1', 200, NOW - 5_000)
    const batch = [...fresh.slice(0, 100), first[7] as TraceRecord, fresh[3] as TraceRecord]
    batch.push(...fresh.slice(100))
    const documents = batch.map((t) => TRACE_LOG_HASHING.document(t))
    const prepared = prepareBatch({
      projectId: 'p1',
      traces: batch,
      documents,
      leafHashes: documents.map((d) => TRACE_LOG_HASHING.leafHash(d)),
    })
    const result = await store.traces.appendPrepared?.(prepared)
    assert.ok(result !== undefined)
    assert.deepEqual(
      result.inserted,
      fresh.map((t) => t.trace_id),
    )
    assert.deepEqual(result.duplicates, [first[7]?.trace_id, fresh[3]?.trace_id])
    assert.equal(result.leafIndexes.get(first[7]?.trace_id ?? ''), 7)
    assert.equal(result.leafIndexes.get(fresh[150]?.trace_id ?? ''), 450)
    assert.equal(await store.merkle.treeSize('p1'), 500)
    assert.deepEqual((await store.merkle.leafAt('p1', 499))?.trace, fresh[199])
    assert.deepEqual(await store.traces.get('p1', fresh[150]?.trace_id ?? ''), fresh[150])
  } finally {
    await store.close()
  }
})

it('purges whole blocks before a time and cuts a block larger than the budget from its oldest end', async () => {
  const path = freshPath()
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    // One batch over two UTC days makes two blocks; retention drops the older day's block only.
    const today = Math.floor(NOW / DAY) * DAY
    const old = traces('p1', 600, today - DAY + 1_000)
    const recent = traces('p1', 10, today + 1)
    await store.traces.append([...old, ...recent])
    assert.equal(blockRows(path).length, 2)
    assert.equal(
      await store.traces.purgeBefore(today + 5, 1_000),
      600,
      'a block straddling the cut stays',
    )
    assert.equal(await store.traces.purgeBefore(today + 5, 1_000), 0, 'still straddling')

    const more = traces('p1', 500, today - 2 * DAY)
    await store.traces.append(more)
    assert.equal(await store.traces.purgeBefore(today, 200), 200)
    const left = await store.traces.readFrom(0, 10_000, { projectId: 'p1', maxSeq: 1e9 })
    assert.deepEqual(
      left.map((r) => r.trace.trace_id),
      [...recent, ...more.slice(200)].map((t) => t.trace_id),
    )
    assert.deepEqual((await store.merkle.leafAt('p1', 610 + 250))?.trace, more[250])
    assert.equal(await store.merkle.leafIndexOf('p1', more[199]?.trace_id ?? ''), undefined)
    assert.equal(await store.traces.get('p1', more[199]?.trace_id ?? ''), undefined)
    assert.deepEqual(await store.traces.get('p1', more[200]?.trace_id ?? ''), more[200])
    assert.equal(await store.traces.purgeBefore(today, 1_000), 300)
    assert.equal(await store.traces.headSeq(), 1110, 'the head never goes back')
  } finally {
    await store.close()
  }
})

it('forgets an in-transaction append whose transaction rolled back, keeps a committed one', async () => {
  const path = freshPath()
  await openSqliteStore({ path }).close()
  const db = new Database(path)
  try {
    const store = new BlockTraceStore(db, TRACE_LOG_HASHING)
    const [a, b, c] = traces('p1', 3)
    assert.ok(a !== undefined && b !== undefined && c !== undefined)
    assert.throws(
      db.transaction(() => {
        assert.deepEqual(store.appendInTransaction([a]).inserted, [a.trace_id])
        throw new Error('the configuration change failed')
      }),
      /configuration change failed/,
    )
    assert.equal(await store.get('p1', a.trace_id), undefined)
    db.transaction(() => store.appendInTransaction([c]))()
    assert.deepEqual(await store.get('p1', c.trace_id), c)
    const result = await store.append([a, b, c])
    assert.deepEqual(result.inserted, [a.trace_id, b.trace_id])
    assert.deepEqual(result.duplicates, [c.trace_id])
    assert.deepEqual(result.leafIndexes.get(c.trace_id), 0)
    assert.deepEqual(
      (await store.readFrom(0, 10)).map((r) => r.trace.trace_id),
      [c, a, b].map((t) => t.trace_id),
    )
  } finally {
    db.close()
  }
})

it('stores a batch prepared in a worker thread (the preparer module, transferred buffers)', async () => {
  const path = freshPath()
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    const batch = traces('p1', 50)
    const documents = batch.map((t) => TRACE_LOG_HASHING.document(t))
    const input = {
      projectId: 'p1',
      traces: batch,
      documents,
      leafHashes: documents.map((d) => TRACE_LOG_HASHING.leafHash(d)),
    }
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       import(workerData.module).then(({ prepareBatch }) => {
         const prepared = prepareBatch(workerData.input)
         parentPort.postMessage(prepared, prepared.transfer)
       })`,
      { eval: true, workerData: { module: store.traces.preparer.module, input } },
    )
    const prepared = await new Promise<PreparedBatch>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    await worker.terminate()
    const result = await store.traces.appendPrepared(prepared)
    assert.equal(result.inserted.length, 50)
    assert.deepEqual(await store.traces.get('p1', batch[17]?.trace_id ?? ''), batch[17])
    assert.equal(await store.merkle.leafIndexOf('p1', batch[49]?.trace_id ?? ''), 49)
  } finally {
    await store.close()
  }
})
