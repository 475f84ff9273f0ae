/**
 * The SQLite Merkle log without its low levels: a rolled-back batch leaves no tail in memory (the
 * next appends still give the in-memory tree's root), a reopened store recomputes its tails from
 * the documents, proofs match the in-memory tree, and a missing document is a read failure, never
 * a made-up hash.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, it } from 'node:test'
import Database from 'better-sqlite3'
import { MemoryTree, inclusionProof, rootHash } from '../../integrity/merkle.js'
import { TRACE_LOG_HASHING } from '../../log/trace-log-hashing.js'
import { traceLeaf } from '../../model/trace-leaf.js'
import { makeTrace } from '../../../test/helpers/make-trace.js'
import { openSqliteStore } from './index.js'

const dir = mkdtempSync(join(tmpdir(), 'opencts-low-levels-'))
after(() => rmSync(dir, { recursive: true, force: true }))

it('a rolled-back batch leaves no tail behind; reopening recomputes the tails', async () => {
  const path = join(dir, 'rollback.db')
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const memory = new MemoryTree()
  const add = async (count: number): Promise<void> => {
    const batch = Array.from({ length: count }, () => makeTrace({ project_id: 'pa' }))
    await store.traces.append(batch)
    for (const t of batch) memory.append(traceLeaf(t))
  }
  const sql = (text: string): void => {
    const db = new Database(path)
    db.exec(text)
    db.close()
  }
  await add(21)
  // A batch whose transaction fails at its last statement (the size update), after its tail was
  // computed: nothing of it may serve the next append.
  sql(`CREATE TRIGGER fail AFTER UPDATE ON merkle_trees WHEN NEW.size = 24
       BEGIN SELECT RAISE(ABORT, 'refused'); END`)
  await assert.rejects(store.traces.append([1, 2, 3].map(() => makeTrace({ project_id: 'pa' }))))
  sql('DROP TRIGGER fail')
  await add(30)
  const root = (): Promise<Buffer> =>
    store.merkle.withNodes('pa', (node, size) => rootHash(size, node))
  assert.equal((await root()).toString('hex'), memory.root().toString('hex'))
  await store.close()
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  await add(13)
  assert.equal(memory.size, 64)
  assert.equal((await root()).toString('hex'), memory.root().toString('hex'))
  const proof = await store.merkle.withNodes('pa', (node, size) => inclusionProof(40, size, node))
  assert.deepEqual(proof, memory.inclusionProof(40, memory.size))
  await store.close()
  // A deleted block: the group of leaf 50 cannot be recomputed, the read fails.
  sql(
    "DELETE FROM trace_blocks WHERE project_id = 'pa' AND min_leaf <= 50 AND min_leaf + count > 50",
  )
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  await assert.rejects(
    store.merkle.withNodes('pa', (node) => inclusionProof(49, 64, node)),
    { code: 'OCTS_ERR_READ_FAILED' },
  )
  await store.close()
})

it('recomputes a tail from blocks the same append then merges (small blocks after a reopen)', async () => {
  const path = join(dir, 'merge.db')
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const memory = new MemoryTree()
  const one = async (): Promise<void> => {
    const trace = makeTrace({ project_id: 'pm' })
    await store.traces.append([trace])
    memory.append(traceLeaf(trace))
  }
  // Seven one-trace blocks; reopened, the tail is not in memory: the eighth append reads it from
  // those blocks, then merges them into one block in the same transaction.
  for (let i = 0; i < 7; i++) await one()
  await store.close()
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  await one()
  await one()
  const root = await store.merkle.withNodes('pm', (node, size) => rootHash(size, node))
  assert.equal(root.toString('hex'), memory.root().toString('hex'))
  const db = new Database(path, { readonly: true })
  const blocks = db.prepare("SELECT count(*) AS n FROM trace_blocks WHERE project_id = 'pm'").get()
  db.close()
  assert.deepEqual(blocks, { n: 2 }, 'the eight small blocks were merged into one')
  await store.close()
})
