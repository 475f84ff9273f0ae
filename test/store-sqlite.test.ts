/**
 * What only the SQLite engine has: its file's schema versions and upgrades, and the Merkle
 * subtrees it stores. The engine's behaviour behind each port is checked by the contract suites
 * (`test/contract/`, run by `test/contract-*.test.ts` on every engine of `STORES`).
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import { isOpenCtsError } from '../src/errors/index.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../src/model/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { SCHEMA_VERSION, TRACE_TABLE_SQL } from '../src/store/sqlite/schema.js'
import { INSERT_TRACE_SQL, traceRow } from '../src/store/sqlite/sqlite-trace-store.js'
import { makeTrace } from './helpers/make-trace.js'

function freshPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'opencts-store-')), 'opencts.db')
}

const IAM_TABLES = [
  'iam_access_keys',
  'iam_accounts',
  'iam_grants',
  'iam_projects',
  'iam_tokens',
  'iam_users',
]

/** A store file as version 1 wrote it: no iam_ tables, schema_version 1. */
async function versionOneFile(): Promise<string> {
  const path = freshPath()
  await openSqliteStore({ path }).close()
  const db = new Database(path)
  for (const table of IAM_TABLES) db.exec(`DROP TABLE ${table}`)
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run()
  db.close()
  return path
}

function inspect(path: string): { tables: string[]; version: string | undefined } {
  const db = new Database(path, { readonly: true })
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .all() as { name: string }[]
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      { value: string } | undefined
    return {
      tables: tables.map((t) => t.name).filter((t) => t.startsWith('iam_')),
      version: row?.value,
    }
  } finally {
    db.close()
  }
}

it('upgrades a version-1 file on open: identity tables created, schema_version current', async () => {
  const path = await versionOneFile()
  assert.deepEqual(inspect(path), { tables: [], version: '1' })
  const store = openSqliteStore({ path })
  try {
    assert.equal(await store.identity.isEmpty(), true)
    await store.identity.insertAccount({ id: 'a'.repeat(32), name: 'acme', createdAt: 1 })
  } finally {
    await store.close()
  }
  assert.deepEqual(inspect(path), { tables: IAM_TABLES, version: String(SCHEMA_VERSION) })
})

/** The traces table of versions 1–6: trace ids unique across every project. */
const V6_TRACES_SQL = `CREATE TABLE traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, trace_id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
  time INTEGER NOT NULL, category TEXT NOT NULL, tracker_name TEXT, service_type TEXT NOT NULL,
  resource_type TEXT NOT NULL, resource_id TEXT, resource_name TEXT, trace_name TEXT NOT NULL,
  trace_rating TEXT NOT NULL, user_name TEXT, access_key_id TEXT, enterprise_project_id TEXT,
  doc TEXT NOT NULL, leaf_index INTEGER)`

/** Upgrades of row-store files (versions 1–7) end in the conversion of `traces` into blocks. */
it('upgrades a version-6 file to trace ids unique per project, keeping rows, seq and the head', async () => {
  const path = freshPath()
  await openSqliteStore({ path }).close()
  const old = [makeTrace({ project_id: 'p1' }), makeTrace({ project_id: 'p2' })]
  const db = new Database(path)
  db.exec(V6_TRACES_SQL)
  const insert = db.prepare(
    'INSERT INTO traces (seq, trace_id, project_id, time, category, service_type, resource_type, trace_name, trace_rating, doc, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  for (const [i, t] of old.entries())
    insert.run(
      i + 1,
      t.trace_id,
      t.project_id,
      t.time,
      'system',
      'IMS',
      'image',
      'createImage',
      'normal',
      JSON.stringify(t),
      i,
    )
  // A purge of the newest rows leaves the AUTOINCREMENT high-water mark above max(seq).
  db.prepare("UPDATE sqlite_sequence SET seq = 9 WHERE name = 'traces'").run()
  db.prepare("UPDATE meta SET value = '6' WHERE key = 'schema_version'").run()
  db.close()

  const store = openSqliteStore({ path })
  try {
    assert.deepEqual(await store.traces.get('p1', old[0]?.trace_id ?? ''), old[0])
    assert.deepEqual(
      (await store.traces.readFrom(0, 10)).map((r) => r.seq),
      [1, 2],
    )
    assert.equal(await store.traces.headSeq(), 9)
    const copy = { ...old[0], project_id: 'p2' } as TraceRecord
    assert.deepEqual((await store.traces.append([copy])).inserted, [copy.trace_id])
    assert.deepEqual(
      (await store.traces.readFrom(2, 10)).map((r) => r.seq),
      [10],
    )
    assert.deepEqual(await store.traces.get('p2', copy.trace_id), copy)
  } finally {
    await store.close()
  }
  const check = new Database(path, { readonly: true })
  const version = check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as {
    value: string
  }
  const left = check.prepare("SELECT name FROM sqlite_master WHERE tbl_name = 'traces'").all()
  check.close()
  assert.equal(version.value, String(SCHEMA_VERSION))
  assert.deepEqual(left, [], 'the row table and its indexes are gone (converted into blocks)')
})

it('refuses a file of a newer schema and leaves it unchanged', async () => {
  const path = await versionOneFile()
  const db = new Database(path)
  const newer = String(SCHEMA_VERSION + 1)
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(newer)
  db.close()
  assert.throws(
    () => openSqliteStore({ path }),
    (e) =>
      isOpenCtsError(e) &&
      e.code === 'OCTS_ERR_WRITE_FAILED' &&
      e.message.includes(`version ${newer}`),
  )
  assert.deepEqual(inspect(path), { tables: [], version: newer })
})

function traces(projectId: string, count: number): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({ project_id: projectId, time: Date.now() - 10_000 + i, resource_id: `r-${i}` }),
  )
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

it('stores every complete Merkle subtree of 16 leaves or more and no other, none with the log off', async () => {
  const path = freshPath()
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const a = traces('pa', 702)
  await store.traces.append([...a.slice(0, 300), ...traces('pb', 301)])
  await store.close()
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  for (let start = 300; start < 702; start += 97)
    await store.traces.append(a.slice(start, start + 97))
  assert.equal(await store.merkle.treeSize('pa'), 702)
  await store.close()
  // Levels 0-3 are recomputed from the documents: sum over levels >= 4 of floor(n / 2^level).
  const stored = (n: number): number => {
    let rows = 0
    for (let width = 16; width <= n; width *= 2) rows += Math.floor(n / width)
    return rows
  }
  assert.equal(nodeRows(path, 'pa'), stored(702))
  assert.equal(nodeRows(path, 'pb'), stored(301))

  const off = freshPath()
  const plain = openSqliteStore({ path: off })
  await plain.traces.append(traces('p1', 10))
  await plain.close()
  assert.equal(nodeRows(off, 'p1'), 0)
})

it('upgrades a version-4 file: adds traces.leaf_index and the merkle tables', async () => {
  const path = freshPath()
  const old = traces('p1', 3)
  await openSqliteStore({ path }).close()
  const db = new Database(path)
  db.exec(TRACE_TABLE_SQL)
  for (const t of old) db.prepare(INSERT_TRACE_SQL).run(...traceRow(t))
  db.exec(
    'DROP TABLE merkle_nodes; DROP TABLE merkle_trees; ALTER TABLE traces DROP COLUMN leaf_index',
  )
  db.prepare("UPDATE meta SET value = '4' WHERE key = 'schema_version'").run()
  db.close()

  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
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
