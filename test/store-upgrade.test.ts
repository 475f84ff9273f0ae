/**
 * Issue 16: a data directory of the current release (the row store, SQLite schema version 7, made
 * by test/fixtures/make-v7-store.ts with a real server: three projects, a re-reported id, traces
 * sharing a millisecond, self-audit traces, signed checkpoints, traces stored while the log was
 * off) upgrades in place to the block layout with every trace, leaf and proof intact.
 *
 * - "the migration" runs store/sqlite/blocks/migrate-rows on a copy and decodes the blocks back:
 *   every row of the fixture, document byte for byte, seq, leaf index, project; the keys; the head;
 *   every other table untouched. Also resuming after an interruption.
 * - "the upgraded data directory" upgrades a copy the way an operator does (`opencts admin
 *   migrate`, or just `opencts serve`), then checks through the server and the store port: every
 *   trace by id, leaf indexes, inclusion proofs against the fixture's signed checkpoints (roots and
 *   notes as saved before the upgrade), `opencts verify --store`, headSeq. These need the block
 *   store (SQLite schema version 8); while the store is at version 7 nothing is upgraded and the
 *   same checks run on the version-7 directory itself (which shows they hold before the upgrade).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import Database, { type Database as Db } from 'better-sqlite3'
import { verifyCheckpoint } from '../src/integrity/checkpoint.js'
import { leafHash, verifyInclusion } from '../src/integrity/merkle.js'
import { leafTextOf } from '../src/model/trace-leaf.js'
import { migrateRowStore } from '../src/store/sqlite/blocks/migrate-rows.js'
import { openStore, SCHEMA_VERSIONS } from '../src/store/open-store.js'
import { assertTraceKeys, blockRows, type TraceRow } from './helpers/block-rows.js'
import { runOpencts } from './helpers/cluster.js'
import { repoRoot } from './helpers/repo-root.js'
import {
  ADMIN_ENV,
  killAllServers,
  MAIN,
  serve,
  signedFetch,
  WAIT_MS,
} from './helpers/server-process.js'

after(killAllServers)

const FIXTURE = join(repoRoot(), 'test/fixtures/v7-store')
/** The block store is the one of schema version 8. */
const BLOCKS = SCHEMA_VERSIONS.sqlite >= 8
/** The fixture's traces are from its making: a retention that keeps them for years. */
const KEEP = { OPENCTS_RETENTION_DAYS: '3650' }

interface Expected {
  projects: string[]
  head: { seq: number }
  trees: { project_id: string; size: number }[]
  checkpoints: { project_id: string; size: number; root: string; time: number; note: string }[]
  logKeys: { key_id: string; key_name: string; public_key: string }[]
  posted: { project: string; trace_ids: string[]; leaf_indexes?: number[] }[]
  rows: TraceRow[]
  verifyStore: { status: number; projects: AuditedProject[]; findings: unknown[] }
}

interface AuditedProject {
  projectId: string
  treeSize: number
  rows: number
  logged: number
  checkpoints: number
  covered: number
  recomputedRoot: string
  findings: number
}

const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected

const temp = mkdtempSync(join(tmpdir(), 'opencts-store-upgrade-'))
after(() => rmSync(temp, { recursive: true, force: true }))
let copies = 0

/** A fresh copy of the fixture's data directory (the master key readable by its owner only). */
function copyFixture(): string {
  const dataDir = join(temp, `data-${++copies}`)
  cpSync(FIXTURE, dataDir, { recursive: true })
  rmSync(join(dataDir, 'expected.json'))
  chmodSync(join(dataDir, 'master.key'), 0o600)
  chmodSync(join(dataDir, 'credentials'), 0o600)
  return dataDir
}

/** Every table but the traces' own, as rows: what the upgrade must leave as it was. */
function otherTables(db: Db): Record<string, unknown[]> {
  const skip = new Set([
    'traces',
    'sqlite_sequence',
    'meta',
    'trace_blocks',
    'trace_chunks',
    'trace_vals',
    'trace_postings',
    'trace_keys',
    // Created empty by version 13 (alarms): absent from the fixture before the upgrade.
    'alarm_rules',
    'alarm_history',
    // Version 13: the insights, created empty by the upgrade.
    'insights',
    'insight_state',
  ])
  const names = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string
    }[]
  )
    .map((t) => t.name)
    .filter((name) => !skip.has(name) && name !== 'trace_head')
  return Object.fromEntries(
    names.map((name) => {
      const columns = db.prepare(`PRAGMA table_info("${name}")`).all()
      const order = columns.map((_, i) => i + 1).join(', ')
      return [name, db.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).all()]
    }),
  )
}

describe('the v7 fixture', () => {
  it('is what expected.json says, and exercises what the upgrade must keep', () => {
    // On a copy: even a read-only open may leave -wal/-shm files beside the database.
    const db = new Database(join(copyFixture(), 'opencts.db'), { readonly: true })
    try {
      assert.deepEqual(db.prepare('SELECT * FROM traces ORDER BY seq').all(), expected.rows)
      assert.deepEqual(
        db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'traces'").get(),
        expected.head,
      )
    } finally {
      db.close()
    }
    const rows = expected.rows
    assert.equal(new Set(rows.map((r) => r.project_id)).size, 3, 'three projects')
    assert.ok(
      rows.some((r) => r.leaf_index === null),
      'traces stored while the log was off',
    )
    assert.ok(
      rows.some((r) => r.trace_name === 'updateTracker'),
      'self-audit traces',
    )
    const times = rows.map((r) => `${r.project_id} ${r.time}`)
    assert.ok(new Set(times).size < times.length, 'traces sharing a millisecond')
    const ids = rows.map((r) => r.trace_id)
    assert.ok(new Set(ids).size < ids.length, 'one id in two projects')
    assert.ok(expected.checkpoints.length >= 3, 'signed checkpoints')
  })
})

describe('the migration', () => {
  it('turns every row of the fixture into a block entry, byte for byte', () => {
    const dataDir = copyFixture()
    const db = new Database(join(dataDir, 'opencts.db'))
    try {
      const before = otherTables(db)
      const nodes = before.merkle_nodes as { level: number }[]
      assert.ok(
        nodes.some((n) => n.level < 4),
        'the fixture has leaf rows',
      )
      before.merkle_nodes = nodes.filter((n) => n.level >= 4)
      const result = migrateRowStore(db)
      assert.equal(result.outcome, 'done')
      assert.equal(result.rows, expected.rows.length)
      const decoded = blockRows(db)
      assert.deepEqual(
        decoded,
        expected.rows.map((row) => ({ ...row })),
      )
      assertTraceKeys(db, decoded)
      assert.deepEqual(db.prepare('SELECT seq FROM trace_head').get(), expected.head)
      assert.deepEqual(
        otherTables(db),
        before,
        'merkle_nodes keeps its levels >= 4, every other table is untouched',
      )
      assert.deepEqual(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get(), {
        value: String(SCHEMA_VERSIONS.sqlite),
      })
      const left = db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'traces%'").all()
      assert.deepEqual(left, [], 'traces and its indexes dropped')
    } finally {
      db.close()
    }
  })

  it('resumes after an interruption and converts each trace once', () => {
    const dataDir = copyFixture()
    const db = new Database(join(dataDir, 'opencts.db'))
    try {
      const first = migrateRowStore(db, undefined, { chunkRows: 40, stopAfterChunks: 1 })
      assert.equal(first.outcome, 'interrupted')
      assert.equal(blockRows(db).length, 40)
      const seen: number[] = []
      const second = migrateRowStore(db, (done) => seen.push(done), { chunkRows: 40 })
      assert.equal(second.outcome, 'done')
      assert.equal(seen[0], 40)
      assert.equal(seen.at(-1), expected.rows.length)
      const decoded = blockRows(db)
      assert.deepEqual(
        decoded,
        expected.rows.map((row) => ({ ...row })),
      )
      assertTraceKeys(db, decoded)
      assert.deepEqual(db.prepare('SELECT seq FROM trace_head').get(), expected.head)
    } finally {
      db.close()
    }
  })
})

interface Inclusion {
  leaf_index: number
  tree_size: number
  leaf_hash: string
  audit_path: string[]
}

/** Every trace by id, every leaf's proof against every saved checkpoint, through the server. */
async function checkServed(url: string): Promise<void> {
  const key = expected.logKeys[0]
  assert.ok(key !== undefined)
  for (const cp of expected.checkpoints)
    verifyCheckpoint(
      cp.note,
      key.key_name,
      createPublicKey(key.public_key),
      `opencts/${cp.project_id}`,
    )
  for (const row of expected.rows) {
    const base = `${url}/v3/${row.project_id}`
    const listed = await signedFetch(`${base}/traces?trace_id=${row.trace_id}`)
    assert.equal(listed.status, 200, await listed.clone().text())
    const { traces } = (await listed.json()) as { traces: { trace_id: string; time: number }[] }
    assert.deepEqual(
      traces.map((t) => [t.trace_id, t.time]),
      [[row.trace_id, row.time]],
      `trace ${row.trace_id} of ${row.project_id}`,
    )
    const leaf = leafHash(leafTextOf(row.doc))
    for (const cp of expected.checkpoints) {
      if (cp.project_id !== row.project_id || row.leaf_index === null || row.leaf_index >= cp.size)
        continue
      const answer = await signedFetch(
        `${base}/log/inclusion-proof?trace_id=${row.trace_id}&tree_size=${cp.size}`,
      )
      assert.equal(answer.status, 200, await answer.clone().text())
      const proof = (await answer.json()) as Inclusion
      assert.equal(proof.leaf_index, row.leaf_index)
      assert.equal(proof.leaf_hash, leaf.toString('hex'), 'the leaf of the original document')
      verifyInclusion(
        leaf,
        row.leaf_index,
        cp.size,
        proof.audit_path.map((h) => Buffer.from(h, 'hex')),
        Buffer.from(cp.root, 'hex'),
      )
    }
  }
}

/** Every trace through the store port: by id, its leaf index; the head; the tree sizes. */
async function checkStore(dataDir: string): Promise<void> {
  const store = await openStore({ url: `sqlite:${join(dataDir, 'opencts.db')}`, readonly: true })
  try {
    for (const row of expected.rows) {
      const trace = await store.traces.get(row.project_id, row.trace_id)
      assert.ok(trace !== undefined, `trace ${row.trace_id} of ${row.project_id}`)
      assert.equal(trace.time, row.time)
      const leaf = await store.merkle.leafIndexOf(row.project_id, row.trace_id)
      assert.equal(leaf ?? null, row.leaf_index, `leaf of ${row.trace_id}`)
    }
    assert.equal(await store.traces.headSeq(), expected.head.seq)
    for (const tree of expected.trees)
      assert.equal(await store.merkle.treeSize(tree.project_id), tree.size)
  } finally {
    await store.close()
  }
}

/**
 * `opencts verify --store` says of the upgraded store exactly what it said of the v7 one: every
 * tree recomputed from the documents equal to its signed checkpoints, and only the documented
 * INSERTED findings of the traces stored while the log was off after logged ones (exit 1).
 */
async function verifyStore(dataDir: string): Promise<void> {
  const run = await runOpencts(
    ['verify', '--store', dataDir, '--retention-days', '3650', '--json'],
    KEEP,
  )
  const want = expected.verifyStore
  assert.equal(run.status, want.status, run.stderr)
  const report = JSON.parse(run.stdout) as { projects: AuditedProject[]; findings: unknown[] }
  const summary = (p: AuditedProject): unknown[] => [
    p.projectId,
    p.treeSize,
    p.rows,
    p.logged,
    p.checkpoints,
    p.covered,
    p.recomputedRoot,
    p.findings,
  ]
  assert.deepEqual(report.projects.map(summary), want.projects.map(summary))
  assert.deepEqual(report.findings, want.findings)
  assert.ok(
    want.findings.every((f) => (f as { kind: string }).kind === 'inserted'),
    'the fixture holds no finding but the log-off traces',
  )
}

/** `opencts serve` on the directory, and what it printed until it listened. */
function serveWithBanner(
  dataDir: string,
): Promise<{ server: { child: ReturnType<typeof spawn>; url: string }; banner: string }> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'],
    { env: { PATH: process.env.PATH ?? '', ...ADMIN_ENV, ...KEEP } },
  )
  after(() => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`serve printed no URL within ${WAIT_MS} ms: ${out} ${err}`))
    }, WAIT_MS * 4)
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk))
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ server: { child, url: match[1] }, banner: out })
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${code ?? signal}) before listening: ${out} ${err}`))
    })
  })
}

describe('the upgraded data directory', { timeout: 300_000 }, () => {
  it('opencts admin migrate upgrades it; every trace, leaf and proof holds', async () => {
    const dataDir = copyFixture()
    const migrated = await runOpencts(['admin', 'migrate', '--json', '--data-dir', dataDir], KEEP)
    assert.equal(migrated.status, 0, migrated.stderr)
    const report = JSON.parse(migrated.stdout) as {
      schemaVersion: number
      convertedTraces?: number
    }
    assert.equal(report.schemaVersion, SCHEMA_VERSIONS.sqlite)
    // While the store is at version 7, there is nothing to convert.
    assert.equal(report.convertedTraces, BLOCKS ? expected.rows.length : undefined)
    await checkStore(dataDir)
    await verifyStore(dataDir)
    const server = await serve(dataDir, KEEP)
    try {
      await checkServed(server.url)
    } finally {
      server.child.kill('SIGTERM')
    }
  })

  it('opencts serve upgrades it at start, saying so', async () => {
    const dataDir = copyFixture()
    const { server, banner } = await serveWithBanner(dataDir)
    // One line per committed chunk: the first (0 of N) and the last (N of N) at least.
    const upgrade = banner.split('\n').filter((line) => line.startsWith('Upgrading the store'))
    assert.deepEqual(
      [upgrade[0], upgrade.at(-1)],
      BLOCKS
        ? [
            `Upgrading the store: 0 of ${expected.rows.length} traces converted to blocks`,
            `Upgrading the store: ${expected.rows.length} of ${expected.rows.length} traces converted to blocks`,
          ]
        : [undefined, undefined],
    )
    try {
      await checkServed(server.url)
    } finally {
      const gone = new Promise((resolve) => server.child.on('exit', resolve))
      server.child.kill('SIGTERM')
      await gone
    }
    await checkStore(dataDir)
    await verifyStore(dataDir)
    const db = new Database(join(dataDir, 'opencts.db'), { readonly: true })
    try {
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()
      assert.deepEqual(version, { value: String(SCHEMA_VERSIONS.sqlite) })
      const rowTable = db.prepare("SELECT name FROM sqlite_master WHERE name = 'traces'").all()
      assert.equal(rowTable.length, BLOCKS ? 0 : 1, 'the row table is gone once upgraded')
    } finally {
      db.close()
    }
  })
})
