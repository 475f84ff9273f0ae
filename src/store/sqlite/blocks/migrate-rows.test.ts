/**
 * The row-store upgrade on real SQLite files built with the version-7 table (its DDL copied here, as
 * the release wrote it, so the test does not depend on what schema.ts becomes): block boundaries
 * (per project, MAX_BLOCK_TRACES, leaf-index runs), byte-exact documents, keys, the head, resuming
 * after an interruption between chunks and after a failure inside one.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database, { type Database as Db } from 'better-sqlite3'
import { assertTraceKeys, blockRows, type TraceRow } from '../../../../test/helpers/block-rows.js'
import { BLOCK_TABLES_SQL, MAX_BLOCK_TRACES } from './block-schema.js'
import { BLOCK_SCHEMA_VERSION, MIGRATION_PROGRESS_KEY, migrateRowStore } from './migrate-rows.js'

const dir = mkdtempSync(join(tmpdir(), 'opencts-migrate-rows-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** The `traces` table and indexes of schema version 7 (src/store/sqlite/schema.ts at v7). */
const V7_TRACES_SQL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE traces (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, trace_id TEXT NOT NULL, project_id TEXT NOT NULL,
  time INTEGER NOT NULL, category TEXT NOT NULL, tracker_name TEXT, service_type TEXT NOT NULL,
  resource_type TEXT NOT NULL, resource_id TEXT, resource_name TEXT, trace_name TEXT NOT NULL,
  trace_rating TEXT NOT NULL, user_name TEXT, access_key_id TEXT, enterprise_project_id TEXT,
  doc TEXT NOT NULL, leaf_index INTEGER, UNIQUE (project_id, trace_id)
);
CREATE INDEX traces_by_project_time ON traces (project_id, time);
CREATE INDEX traces_by_time ON traces (time);
${[
  'tracker_name',
  'service_type',
  'resource_type',
  'resource_id',
  'resource_name',
  'trace_name',
  'trace_rating',
  'user_name',
  'access_key_id',
  'enterprise_project_id',
]
  .map((c) => `CREATE INDEX traces_by_${c} ON traces (project_id, ${c}, time);`)
  .join('\n')}
CREATE TABLE merkle_nodes (
  project_id TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (project_id, level, idx)
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('schema_version', '7');
INSERT INTO merkle_nodes VALUES ('p1', 0, 0, x'00112233'), ('p1', 4, 0, x'44556677');
`

let files = 0

/**
 * A v7 file: p1 has 5 000 traces (more than two full blocks), leaf indexes 0..2999, then 400 stored
 * while the log was off, then leaves 3000..; p2's traces interleave with p1's (every third seq);
 * some seqs were never used, and the AUTOINCREMENT head is past the last row (deleted).
 */
function makeV7File(): { db: Db; rows: TraceRow[] } {
  const db = new Database(join(dir, `v7-${++files}.db`))
  db.exec(V7_TRACES_SQL)
  const insert = db.prepare(
    `INSERT INTO traces (seq, trace_id, project_id, time, category, tracker_name, service_type,
       resource_type, resource_id, resource_name, trace_name, trace_rating, user_name,
       access_key_id, enterprise_project_id, doc, leaf_index)
     VALUES (@seq, @trace_id, @project_id, @time, @category, @tracker_name, @service_type,
       @resource_type, @resource_id, @resource_name, @trace_name, @trace_rating, @user_name,
       @access_key_id, @enterprise_project_id, @doc, @leaf_index)`,
  )
  const leaves = new Map<string, number>()
  let p1 = 0
  db.transaction(() => {
    for (let seq = 1; seq <= 7_600; seq++) {
      // Seqs never used (a rolled-back insert); a project's leaves still follow one by one.
      if (seq % 97 === 0) continue
      const project = seq % 3 === 0 ? 'p2' : 'p1'
      const n = project === 'p1' ? p1++ : seq
      const logged = project === 'p2' || n < 3_000 || n >= 3_400
      const leaf = leaves.get(project) ?? 0
      if (logged) leaves.set(project, leaf + 1)
      insert.run({
        seq,
        trace_id: seq === 7 ? 'same-id' : `id-${seq}`,
        project_id: project,
        time: 1_700_000_000_000 + Math.floor(seq / 4), // four traces per millisecond
        category: 'management',
        tracker_name: 'system',
        service_type: ['IMS', 'ECS', 'OBS'][seq % 3] ?? null,
        resource_type: 'image',
        resource_id: seq % 5 === 0 ? null : `r-${seq % 40}`,
        resource_name: seq % 7 === 0 ? 'ünïcödé ☃ 𝄞' : `name-${seq % 13}`,
        trace_name: 'createImage',
        trace_rating: seq % 11 === 0 ? 'warning' : 'normal',
        user_name: seq % 2 === 0 ? 'alice' : null,
        access_key_id: null,
        enterprise_project_id: seq % 9 === 0 ? '0' : null,
        // A document as stored: a key order and spacing no re-serialisation would keep.
        doc: `{"trace_id":"id-${seq}", "z":1,"a":"${'é'.repeat(seq % 50)}","n":${seq}.0}`,
        leaf_index: logged ? leaf : null,
      })
    }
    // The newest rows gone (deleted): the head stays at 7 600.
    db.exec('DELETE FROM traces WHERE seq > 7_590')
  })()
  const rows = db.prepare('SELECT * FROM traces ORDER BY seq').all() as TraceRow[]
  return { db, rows }
}

/** The columns a block keeps, of the rows as the row store held them. */
function kept(rows: readonly TraceRow[]): Record<string, unknown>[] {
  return rows.map((row) => ({ ...row }))
}

function tables(db: Db): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as {
      name: string
    }[]
  )
    .map((r) => r.name)
    .sort()
}

function assertMigrated(db: Db, rows: readonly TraceRow[], head: number): void {
  const decoded = blockRows(db)
  assert.deepEqual(kept(decoded), kept(rows))
  assertTraceKeys(db, decoded)
  assert.deepEqual(db.prepare('SELECT seq FROM trace_head').all(), [{ seq: head }])
  assert.ok(
    !tables(db).some((name) => name === 'traces' || name.startsWith('traces_by_')),
    `traces and its indexes dropped: ${tables(db).join(' ')}`,
  )
  const meta = db.prepare('SELECT key, value FROM meta ORDER BY key').all()
  assert.deepEqual(meta, [{ key: 'schema_version', value: String(BLOCK_SCHEMA_VERSION) }])
  assert.deepEqual(
    db.prepare('SELECT project_id, level, idx, hex(hash) AS h FROM merkle_nodes').all(),
    [{ project_id: 'p1', level: 4, idx: 0, h: '44556677' }],
    'merkle_nodes keeps its levels >= 4 only',
  )
}

describe('migrateRowStore', () => {
  it('turns every row into a block entry, byte for byte, in blocks of one project and one leaf run', () => {
    const { db, rows } = makeV7File()
    const progress: [number, number][] = []
    const result = migrateRowStore(db, (done, total) => progress.push([done, total]), {
      chunkRows: 100_000,
    })
    assert.equal(result.outcome, 'done')
    assert.equal(result.rows, rows.length)
    assertMigrated(db, rows, 7_600)
    assert.deepEqual(progress, [
      [0, rows.length],
      [rows.length, rows.length],
    ])

    const blocks = db
      .prepare('SELECT project_id, count, min_leaf FROM trace_blocks ORDER BY min_seq')
      .all() as { project_id: string; count: number; min_leaf: number | null }[]
    // p1: leaves 0..2999 (2 048 + 952), 400 unlogged, leaves 3000.. (the rest); p2: one run.
    const p1 = blocks.filter((b) => b.project_id === 'p1')
    assert.deepEqual(
      p1.map((b) => [b.count, b.min_leaf]),
      [
        [2_048, 0],
        [952, 2_048],
        [400, null],
        [p1.reduce((n, b) => n + b.count, 0) - 3_400, 3_000],
      ],
    )
    assert.ok(blocks.every((b) => b.count <= MAX_BLOCK_TRACES))
    db.close()
  })

  it('resumes after an interruption between chunks, converting each row once', () => {
    const { db, rows } = makeV7File()
    const first = migrateRowStore(db, undefined, { chunkRows: 1_000, stopAfterChunks: 1 })
    assert.equal(first.outcome, 'interrupted')
    assert.equal(first.rows, 1_000)
    // Still a whole version-7 file: every row there, the progress recorded.
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n,
      rows.length,
    )
    const recorded = db.prepare('SELECT value FROM meta WHERE key = ?').get(MIGRATION_PROGRESS_KEY)
    assert.deepEqual(recorded, { value: String(rows[999]?.seq) })

    const progress: number[] = []
    const second = migrateRowStore(db, (done) => progress.push(done), { chunkRows: 1_000 })
    assert.equal(second.outcome, 'done')
    assert.equal(second.rows, rows.length - 1_000)
    assert.equal(progress[0], 1_000, 'the count restarts where the first run stopped')
    assert.equal(progress.at(-1), rows.length)
    assertMigrated(db, rows, 7_600)
    db.close()
  })

  it('rolls a failed chunk back whole, and the next run completes', () => {
    const { db, rows } = makeV7File()
    // A failure inside the second chunk (as a full disk would raise).
    db.exec(BLOCK_TABLES_SQL)
    db.exec(`CREATE TEMP TRIGGER fail BEFORE INSERT ON trace_keys WHEN NEW.seq > ${rows[1_500]?.seq}
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`)
    assert.throws(() => migrateRowStore(db, undefined, { chunkRows: 1_000 }), /simulated failure/)
    assert.equal(blockRows(db).length, 1_000, 'only the first chunk is kept')
    db.exec('DROP TRIGGER fail')
    assert.equal(migrateRowStore(db, undefined, { chunkRows: 1_000 }).outcome, 'done')
    assertMigrated(db, rows, 7_600)
    db.close()
  })

  it('does nothing without a traces table, and reads files older than the leaf index', () => {
    const db = new Database(':memory:')
    assert.equal(migrateRowStore(db).outcome, 'nothing')
    db.exec(V7_TRACES_SQL.replace('doc TEXT NOT NULL, leaf_index INTEGER,', 'doc TEXT NOT NULL,'))
    db.prepare(
      `INSERT INTO traces (trace_id, project_id, time, category, service_type, resource_type,
         trace_name, trace_rating, doc) VALUES ('t1', 'p', 5, 'c', 's', 'r', 'n', 'normal', '{}')`,
    ).run()
    assert.equal(migrateRowStore(db).outcome, 'done')
    assert.deepEqual(
      blockRows(db).map((r) => [r.seq, r.trace_id, r.leaf_index, r.doc]),
      [[1, 't1', null, '{}']],
    )
    assert.deepEqual(db.prepare('SELECT seq FROM trace_head').all(), [{ seq: 1 }])
    db.close()
  })
})
