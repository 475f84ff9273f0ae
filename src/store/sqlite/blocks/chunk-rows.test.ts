import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import { TRACE_LOG_HASHING } from '../../../log/trace-log-hashing.js'
import type { TraceRecord } from '../../../model/index.js'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import {
  toEleventhForm,
  toFirstForm,
  toSecondForm,
  toTenthForm,
} from '../../../../test/helpers/block-tamper.js'
import { assertTraceKeys, blockRows } from '../../../../test/helpers/block-rows.js'
import type { TraceFilter } from '../../ports/traces.js'
import { SCHEMA_VERSION } from '../schema.js'
import { openSqliteStore, type SqliteStore } from '../sqlite-store.js'
import { MERGE_RUN } from './block-writer.js'

const NOW = Date.now()

function traces(projectId: string, count: number, from: number): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({
      project_id: projectId,
      time: from + i * 7,
      resource_id: `r-${i % 40}`,
      user_name: `u-${i % 9}`,
    }),
  )
}

/** What a client sees of a store: every trace by seq, pages and lookups. */
async function view(store: SqliteStore, ids: readonly string[]): Promise<unknown> {
  const filter = (extra: Partial<TraceFilter>): TraceFilter => ({
    projectId: 'p1',
    category: 'system',
    from: NOW - 3_600_000,
    to: NOW + 1,
    ...extra,
  })
  return {
    all: await store.traces.readFrom(0, 100_000),
    page: await store.traces.page(filter({}), null, 200),
    resource: await store.traces.page(filter({ resourceId: 'r-7' }), null, 200),
    user: await store.traces.page(filter({ userName: 'u-3' }), null, 10),
    gets: await Promise.all(ids.map((id) => store.traces.get('p1', id))),
  }
}

/**
 * A new store holding `batches` (appended one by one), with p1's trace ids and what a client sees
 * of it.
 */
async function filled(
  batches: readonly TraceRecord[][],
): Promise<{ path: string; written: TraceRecord[]; ids: string[]; before: unknown }> {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-chunks-')), 'opencts.db')
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const written: TraceRecord[] = []
  try {
    for (const batch of batches) {
      written.push(...batch)
      await store.traces.append(batch)
    }
  } finally {
    await store.close()
  }
  const ids = written.filter((t) => t.project_id === 'p1').map((t) => t.trace_id)
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    return { path, written, ids, before: await view(store, ids) }
  } finally {
    await store.close()
  }
}

it('reads blocks of schema version 8 (body in the block row) as before, and upgrades the file to the current version', async () => {
  // Small blocks, one short of a merge: the next small batch merges them with a new one.
  const { path, written, ids, before } = await filled([
    traces('p1', 700, NOW - 600_000),
    traces('p2', 300, NOW - 500_000),
    ...Array.from({ length: MERGE_RUN - 1 }, (_, b) => traces('p1', 3, NOW - 100_000 + b * 100)),
  ])
  toFirstForm(path)
  const v8 = new Database(path, { readonly: true })
  assert.equal(
    v8.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'trace_chunks'").pluck().get(),
    0,
  )
  v8.close()
  // An audit opens read-only and does not upgrade: it says how to.
  assert.throws(
    () => openSqliteStore({ path, merkle: TRACE_LOG_HASHING, readonly: true }),
    new RegExp(
      `schema version 8, this OpenCTS reads ${SCHEMA_VERSION}: upgrade it first \\(\`opencts admin migrate\``,
    ),
  )

  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    assert.deepEqual(await view(store, ids), before, 'first-form blocks read as before')
    // New blocks go to chunk rows; a merge re-encodes first-form blocks into the current form.
    const more = traces('p1', 3, NOW - 1_000)
    await store.traces.append(more)
    const all = await store.traces.readFrom(0, 100_000)
    assert.equal(all.length, written.length + more.length)
    assert.deepEqual(
      all.map((r) => r.trace.trace_id).sort(),
      [...written, ...more].map((t) => t.trace_id).sort(),
    )
  } finally {
    await store.close()
  }
  const db = new Database(path, { readonly: true })
  try {
    assert.equal(
      db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
      String(SCHEMA_VERSION),
    )
    const rows = blockRows(db)
    assert.equal(rows.length, written.length + 3)
    assertTraceKeys(db, rows)
    const bodies = db.prepare('SELECT length(body) AS n FROM trace_blocks').pluck().all()
    assert.ok(
      bodies.some((n) => n === 0),
      'some blocks have chunk rows (the merged one)',
    )
    assert.ok(
      bodies.some((n) => (n as number) > 0),
      'first-form blocks are left as they are',
    )
  } finally {
    db.close()
  }
})

it('reads blocks of schema version 9 (64 documents a chunk, a chunk a row, no page columns) as before', async () => {
  const { path, ids, before } = await filled([
    [...traces('p1', 700, NOW - 600_000), ...traces('p2', 300, NOW - 500_000)],
  ])
  toSecondForm(path)
  const v9 = new Database(path, { readonly: true })
  const rowsOf = (db: Database.Database): number =>
    db.prepare('SELECT count(*) FROM trace_chunks').pluck().get() as number
  const v9Rows = rowsOf(v9)
  v9.close()
  // 700 and 300 documents: 11 + 5 chunks of 64, a row each.
  assert.equal(v9Rows, 16)

  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    assert.deepEqual(await view(store, ids), before, 'second-form blocks read as before')
  } finally {
    await store.close()
  }
  const db = new Database(path, { readonly: true })
  try {
    assert.equal(
      db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
      String(SCHEMA_VERSION),
    )
    assert.equal(rowsOf(db), 16, 'the upgrade rewrites no block')
    assertTraceKeys(db, blockRows(db))
  } finally {
    db.close()
  }
})

/**
 * Appends `more` to the upgraded store at `path` and checks that a resource page returns the new
 * block's traces of r-7 before the older blocks' (`before`: what `view` saw of them): one page
 * reading both forms of index.
 */
async function assertNewAndOldInOnePage(
  path: string,
  more: readonly TraceRecord[],
  before: unknown,
): Promise<void> {
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    await store.traces.append([...more])
    const page = await store.traces.page(
      {
        projectId: 'p1',
        category: 'system',
        from: NOW - 3_600_000,
        to: NOW + 1,
        resourceId: 'r-7',
      },
      null,
      200,
    )
    const older = (before as { resource: { traces: TraceRecord[] } }).resource.traces
    const newer = more.filter((t) => t.resource_id === 'r-7').reverse()
    assert.ok(older.length > 0 && newer.length > 0)
    assert.deepEqual(
      page.traces.map((t) => t.trace_id),
      [...newer, ...older].map((t) => t.trace_id),
    )
  } finally {
    await store.close()
  }
}

it('reads blocks of schema version 10 (value index in the block row) as before, and writes new ones to trace_vals', async () => {
  const { path, ids, before } = await filled([
    [...traces('p1', 700, NOW - 600_000), ...traces('p2', 300, NOW - 500_000)],
  ])
  toTenthForm(path)
  const counts = (db: Database.Database): { rows: number; inBlocks: number } => ({
    rows: db.prepare('SELECT count(*) FROM trace_vals').pluck().get() as number,
    inBlocks: db
      .prepare('SELECT count(*) FROM trace_blocks WHERE length(vals) > 0')
      .pluck()
      .get() as number,
  })
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    assert.deepEqual(await view(store, ids), before, 'blocks read as before')
  } finally {
    await store.close()
  }
  let db = new Database(path, { readonly: true })
  try {
    assert.equal(
      db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
      String(SCHEMA_VERSION),
    )
    assert.deepEqual(counts(db), { rows: 0, inBlocks: 2 }, 'the upgrade moves no value index')
  } finally {
    db.close()
  }
  // A new block beside them keeps its index in trace_vals; a resource page reads both kinds.
  const more = traces('p1', 300, NOW - 400_000)
  await assertNewAndOldInOnePage(path, more, before)
  db = new Database(path, { readonly: true })
  try {
    assert.deepEqual(counts(db), { rows: 1, inBlocks: 2 })
  } finally {
    db.close()
  }
})

it('reads blocks of schema version 11 (whole value index in trace_vals) as before, and writes posting rows for new ones', async () => {
  const { path, ids, before } = await filled([
    [...traces('p1', 700, NOW - 600_000), ...traces('p2', 300, NOW - 500_000)],
  ])
  const postingRows = (): number => {
    const db = new Database(path, { readonly: true })
    try {
      return db.prepare('SELECT count(*) FROM trace_postings').pluck().get() as number
    } finally {
      db.close()
    }
  }
  // 700 traces of p1: 22 posting rows; 300 of p2: 10.
  assert.equal(postingRows(), 32, 'a fresh store writes posting rows')
  toEleventhForm(path)
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    assert.deepEqual(await view(store, ids), before, 'blocks read as before')
  } finally {
    await store.close()
  }
  assert.equal(postingRows(), 0, 'the upgrade adds the table and rewrites no block')
  const more = traces('p1', 300, NOW - 400_000)
  await assertNewAndOldInOnePage(path, more, before)
  assert.equal(postingRows(), 10)
})
