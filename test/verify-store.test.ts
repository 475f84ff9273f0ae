/**
 * `opencts verify --store`: a real SQLite store built through the ingest path (two projects,
 * appended in interleaved batches, a checkpoint signed after each batch, a few traces stored
 * before the log was on), then edited behind OpenCTS's back with the SQLite driver, and audited
 * read-only. Each kind of tampering must be reported with the trace and leaf it concerns, and the
 * audited file must stay byte-identical.
 */
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { after, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { SettingError, UsageError } from '../src/cli/cli-errors.js'
import type { CliIo } from '../src/cli/cli-io.js'
import { runVerifyStore } from '../src/cli/verify-store.js'
import { checkpointOrigin, publicKeyId, signCheckpoint } from '../src/integrity/checkpoint.js'
import { MemoryTree } from '../src/integrity/merkle.js'
import { Checkpointer } from '../src/log/checkpointer.js'
import { LogKeys } from '../src/log/log-keys.js'
import { auditStore, type StoreAuditReport, type StoreFinding } from '../src/log/store-audit.js'
import { TRACE_LOG_HASHING, documentLeafHash } from '../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../src/model/index.js'
import { traceDocument } from '../src/model/trace-leaf.js'
import type { Sealer } from '../src/platform/sealer.js'
import { MERKLE_MIN_STORED_LEVEL } from '../src/store/sqlite/blocks/block-schema.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { INSERT_TRACE_SQL, traceRow } from '../src/store/sqlite/sqlite-trace-store.js'
import { makeTrace } from './helpers/make-trace.js'

const NOW = Date.now()
const DAY = 86_400_000
/** Batches per project, each followed by a checkpoint: pa gets 3 × 7 leaves, pb 3 × 5. */
const BATCHES = 3
const PER_BATCH = { pa: 7, pb: 5 } as const

/** Seals nothing (the test's log key needs no secrecy). */
const PLAIN_SEALER: Sealer = {
  seal: (plaintext, boundTo) => `${boundTo}:${plaintext}`,
  open: (sealed, boundTo) => sealed.slice(boundTo.length + 1),
}

interface Fixture {
  readonly dir: string
  readonly path: string
  /** The signed notes of the stored checkpoints, per project, smallest first. */
  readonly notes: Readonly<Record<string, string[]>>
  /** The published checkpoint keys, as GET /v3/{project_id}/log/keys answers them. */
  readonly logKeys: string
}

const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Builds the store; every call makes a fresh file (each test tampers with its own). */
async function buildStore(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-verify-store-'))
  dirs.push(dir)
  const path = join(dir, 'opencts.db')
  // Two traces stored while the log was off: not in the log, not a finding.
  const off = openSqliteStore({ path })
  await off.traces.append([makeTrace({ project_id: 'pa', time: NOW - 20_000 }), makeTrace()])
  await off.close()
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const clock = { now: () => NOW }
  const keys = new LogKeys({
    store: store.merkle,
    sealer: PLAIN_SEALER,
    clock,
    keyName: 'opencts-test',
  })
  const checkpointer = new Checkpointer({ store: store.merkle, keys, clock, intervalMs: 1000 })
  let n = 0
  for (let b = 0; b < BATCHES; b++) {
    const batch: TraceRecord[] = []
    for (let i = 0; i < PER_BATCH.pa; i++) {
      batch.push(makeTrace({ project_id: 'pa', time: NOW - 10_000 + n++, resource_id: `a${n}` }))
      // pb reports the trace ids pa does: two traces (one per project), never a finding.
      const shared = batch.at(-1)?.trace_id ?? ''
      if (i < PER_BATCH.pb)
        batch.push(
          makeTrace({
            project_id: 'pb',
            trace_id: shared,
            time: NOW - 10_000 + n++,
            user_name: 'bob',
          }),
        )
    }
    await store.traces.append(batch)
    assert.equal(await checkpointer.runOnce(), 2)
  }
  const notes: Record<string, string[]> = {}
  for (const projectId of ['pa', 'pb'])
    notes[projectId] = (await store.merkle.listCheckpoints(projectId, 0, 100)).map((c) => c.note)
  const logKeys = join(dir, 'log-keys.json')
  writeFileSync(logKeys, JSON.stringify({ keys: await keys.publicKeys() }))
  await store.close()
  return { dir, path, notes, logKeys }
}

/** Runs SQL on the file directly, as someone editing it behind OpenCTS's back would. */
function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path)
  try {
    edit(db)
  } finally {
    db.close()
  }
}

interface Row {
  seq: number
  trace_id: string
  doc: string
  leaf_index: number | null
}

function rowAt(db: Database.Database, projectId: string, leafIndex: number): Row {
  const row = db
    .prepare(
      'SELECT seq, trace_id, doc, leaf_index FROM traces WHERE project_id = ? AND leaf_index = ?',
    )
    .get(projectId, leafIndex) as Row | undefined
  assert.ok(row, `leaf ${leafIndex} of ${projectId}`)
  return row
}

interface Run {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

function capture(): { stream: Writable; text: () => string } {
  const parts: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      parts.push(chunk.toString())
      done()
    },
  })
  return { stream, text: () => parts.join('') }
}

/** Calls runVerifyStore with captured output (thrown usage errors propagate). */
async function verifyStore(
  args: readonly string[],
  options: { now?: () => number; tty?: boolean; env?: Record<string, string> } = {},
): Promise<Run> {
  const out = capture()
  const err = capture()
  const io: CliIo = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from([]),
    env: options.env ?? {},
    stderrIsTty: options.tty ?? false,
    now: options.now ?? (() => NOW),
    untilShutdown: () => new Promise(() => undefined),
  }
  const status = await runVerifyStore(args, io)
  return { status, stdout: out.text(), stderr: err.text() }
}

/** Runs with --json and parses the report. */
async function audit(
  args: readonly string[],
  now: () => number = () => NOW,
): Promise<{ status: number; report: StoreAuditReport }> {
  const run = await verifyStore([...args, '--json'], { now })
  return { status: run.status, report: JSON.parse(run.stdout) as StoreAuditReport }
}

function findingsOf(report: StoreAuditReport, kind: StoreFinding['kind']): StoreFinding[] {
  return report.findings.filter((f) => f.kind === kind)
}

const sha256 = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex')

/**
 * Rewrites every stored node of the project from the documents, as an attacker knowing the scheme
 * (SQLite stores the subtrees of 16 leaves and more only).
 */
function rewriteTree(db: Database.Database, projectId: string): void {
  const docs = db
    .prepare(
      'SELECT doc FROM traces WHERE project_id = ? AND leaf_index IS NOT NULL ORDER BY leaf_index',
    )
    .all(projectId) as { doc: string }[]
  const tree = new MemoryTree()
  for (const { doc } of docs) tree.appendHash(documentLeafHash(doc))
  const update = db.prepare(
    'UPDATE merkle_nodes SET hash = ? WHERE project_id = ? AND level = ? AND idx = ?',
  )
  let rewritten = 0
  let want = 0
  for (let level = MERKLE_MIN_STORED_LEVEL; 2 ** level <= tree.size; level++)
    for (let idx = 0; (idx + 1) * 2 ** level <= tree.size; idx++) {
      want++
      rewritten += update.run(tree.node(level, idx), projectId, level, idx).changes
    }
  assert.equal(rewritten, want, 'every stored node rewritten')
  db.prepare('UPDATE merkle_trees SET size = ? WHERE project_id = ?').run(tree.size, projectId)
}

describe('opencts verify --store', () => {
  it('finds nothing in an untouched store, and never writes to the file', async () => {
    const fx = await buildStore()
    const before = sha256(fx.path)
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 0, JSON.stringify(report.findings))
    assert.equal(report.ok, true)
    assert.equal(report.rows, 2 + BATCHES * (PER_BATCH.pa + PER_BATCH.pb))
    const pa = report.projects.find((p) => p.projectId === 'pa')
    const pb = report.projects.find((p) => p.projectId === 'pb')
    assert.ok(pa && pb)
    assert.deepEqual(
      [pa.treeSize, pa.logged, pa.notInLog, pa.checkpoints, pa.deleted, pa.findings],
      [21, 21, 1, 3, 0, 0],
    )
    assert.deepEqual([pb.treeSize, pb.logged, pb.checkpoints], [15, 15, 3])
    // The recomputed root is the root the newest checkpoint signed.
    const signedRoot = (fx.notes.pa?.at(-1) ?? '').split('\n')[2] ?? ''
    assert.equal(Buffer.from(pa.recomputedRoot ?? '', 'hex').toString('base64'), signedRoot)
    assert.equal(report.keys.length, 1)
    assert.equal(report.keys[0]?.keyName, 'opencts-test')
    const text = await verifyStore(['--store', fx.path])
    assert.equal(text.status, 0)
    assert.match(text.stdout, /^project pa: 21 leaves, 21 rows in the log, 1 row not in the log,/m)
    assert.match(text.stdout, /^Result: valid$/m)
    assert.equal(sha256(fx.path), before, 'the audited file is byte-identical')
    const wal = `${fx.path}-wal`
    assert.ok(!existsSync(wal) || statSync(wal).size === 0, 'nothing written to the WAL')
  })

  it('audits the snapshot of the moment it opened the file, and cannot write to it', async () => {
    const fx = await buildStore()
    const readonly = openSqliteStore({ path: fx.path, readonly: true, merkle: TRACE_LOG_HASHING })
    try {
      // The server goes on writing, and someone deletes a row, after the audit opened the file.
      const writer = openSqliteStore({ path: fx.path, merkle: TRACE_LOG_HASHING })
      await writer.traces.append([makeTrace({ project_id: 'pa' }), makeTrace({ project_id: 'pc' })])
      await writer.close()
      tamper(fx.path, (db) => {
        db.prepare('DELETE FROM traces WHERE seq = ?').run(rowAt(db, 'pb', 0).seq)
      })
      const report = await auditStore(readonly.merkle, { now: NOW, pageSize: 5 })
      assert.equal(report.ok, true, JSON.stringify(report.findings))
      assert.deepEqual(
        report.projects.map((p) => [p.projectId, p.treeSize, p.logged]),
        [
          ['p1', 0, 0],
          ['pa', 21, 21],
          ['pb', 15, 15],
        ],
      )
      await assert.rejects(readonly.traces.append([makeTrace()]), {
        code: 'OCTS_ERR_WRITE_FAILED',
      })
    } finally {
      await readonly.close()
    }
    // A new audit sees both: the new leaf of pa is covered by no checkpoint, the deletion is found.
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.from]),
      [['deleted', 'pb', 0]],
    )
    // pb's 15 leaves make no stored group: its checkpoints past the deleted leaf are not compared.
    assert.deepEqual(report.notes, [
      'project pb: 3 checkpoints could not be compared: their size falls inside leaves 0-14, a group with a leaf without row whose lower Merkle levels are not stored',
    ])
    assert.deepEqual(
      report.projects.map((p) => [p.projectId, p.treeSize, p.covered]),
      [
        ['p1', 0, 0],
        ['pa', 22, 21],
        // No checkpoint of pb could be compared (the deleted leaf 0 is in a group of 16 not stored).
        ['pb', 15, 0],
        ['pc', 1, 0],
      ],
    )
    await assert.rejects(
      async () => openSqliteStore({ path: join(fx.dir, 'missing.db'), readonly: true }),
      { code: 'OCTS_ERR_READ_FAILED' },
    )
    assert.ok(!existsSync(join(fx.dir, 'missing.db')), 'a read-only open creates no file')
  })

  it('reports an edited document as CHANGED, with its trace and leaf, and the checkpoints after it', async () => {
    const fx = await buildStore()
    let traceId = ''
    tamper(fx.path, (db) => {
      const row = rowAt(db, 'pa', 9)
      traceId = row.trace_id
      const edited = row.doc.replace('"192.0.2.10"', '"192.0.2.66"')
      assert.notEqual(edited, row.doc)
      db.prepare('UPDATE traces SET doc = ? WHERE seq = ?').run(edited, row.seq)
    })
    const before = sha256(fx.path)
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Leaf hashes are not stored: the group of 16 leaves holding leaf 9 differs from its stored
    // node, and the finding names the range and its traces (the edited one among them).
    const changed = findingsOf(report, 'changed')
    assert.deepEqual(
      changed.map((f) => [f.projectId, f.from, f.to, f.message.split(' (traces ')[0]]),
      [
        [
          'pa',
          0,
          15,
          'leaves 0-15 do not give the stored node (level 4, index 0): a document among them was edited, moved, deleted or inserted, or merkle_nodes was edited',
        ],
      ],
    )
    assert.ok(changed[0]?.message.includes(traceId), 'the edited trace is named')
    // Checkpoints of 14 and 21 leaves hold leaf 9; the one of 7 does not.
    assert.deepEqual(
      findingsOf(report, 'checkpoint').map((f) => f.treeSize),
      [14, 21],
    )
    assert.equal(report.findingCounts.deleted + report.findingCounts.reordered, 0)
    const text = await verifyStore(['--store', fx.dir])
    assert.match(text.stdout, /^CHANGED project pa.*: leaves 0-15 do not give the stored node/m)
    assert.match(text.stdout, /^CHECKPOINT project pa: checkpoint of size 14 does not match/m)
    assert.match(text.stdout, /^Result: INVALID \(3 findings: 1 changed, 2 checkpoint\)$/m)
    assert.equal(sha256(fx.path), before, 'the audited file is byte-identical')
  })

  it('reports an edited indexed column as CHANGED (columns), the log itself intact', async () => {
    const fx = await buildStore()
    let traceId = ''
    tamper(fx.path, (db) => {
      const row = rowAt(db, 'pb', 4)
      traceId = row.trace_id
      db.prepare("UPDATE traces SET user_name = 'mallory' WHERE seq = ?").run(row.seq)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.leafIndex, f.message]),
      [['changed', 'pb', traceId, 4, 'indexed columns disagree with the document']],
    )
  })

  it('reports a deleted row as DELETED with its leaf index; retention explains an old one', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      db.prepare('DELETE FROM traces WHERE seq = ?').run(rowAt(db, 'pb', 6).seq)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.from, f.to, f.count, f.message]),
      [['deleted', 'pb', 6, 6, 1, 'leaf 6 has no row (deleted)']],
    )
    assert.equal(report.notes.length, 1, 'checkpoints 10 and 15 fall in the group of leaf 6')
    assert.equal(report.projects.find((p) => p.projectId === 'pb')?.deleted, 1)
    // Eight days later the checkpoint that covered leaf 6 is older than the 7-day retention: the
    // retention job deleted it, not a finding.
    const later = await audit(['--store', fx.dir], () => NOW + 8 * DAY)
    assert.equal(later.status, 0, JSON.stringify(later.report.findings))
    assert.equal(later.report.projects.find((p) => p.projectId === 'pb')?.expired, 1)
    const longer = await audit(['--store', fx.dir, '--retention-days', '30'], () => NOW + 8 * DAY)
    assert.equal(longer.status, 1)
  })

  it('reports deleted rows at the tail, past the last checkpoint', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      for (const leaf of [19, 20])
        db.prepare('DELETE FROM traces WHERE seq = ?').run(rowAt(db, 'pa', leaf).seq)
    })
    const { status, report } = await audit(['--store', fx.dir], () => NOW + 8 * DAY)
    // Leaves 19-20 are covered by the checkpoint of 21 leaves, signed NOW: expired 8 days later.
    assert.equal(status, 0)
    const now = await audit(['--store', fx.dir])
    assert.equal(now.status, 1)
    assert.deepEqual(
      findingsOf(now.report, 'deleted').map((f) => [f.from, f.to, f.count]),
      [[19, 20, 2]],
    )
    assert.equal(report.projects.find((p) => p.projectId === 'pa')?.expired, 2)
  })

  it('reports swapped documents as REORDERED, naming the leaf whose content each holds', async () => {
    const fx = await buildStore()
    const ids: string[] = []
    tamper(fx.path, (db) => {
      const a = rowAt(db, 'pa', 3)
      const b = rowAt(db, 'pa', 4)
      ids.push(a.trace_id, b.trace_id)
      const set = db.prepare('UPDATE traces SET doc = ? WHERE seq = ?')
      set.run(b.doc, a.seq)
      set.run(a.doc, b.seq)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Without stored leaf hashes a swap is not told from an edit: the group of leaves 0-15
    // differs (both traces named); their columns no longer match their documents either, and
    // every checkpoint past leaf 3 differs.
    assert.deepEqual(findingsOf(report, 'reordered'), [])
    const changed = findingsOf(report, 'changed')
    assert.deepEqual(
      changed.map((f) => [f.traceId, f.from, f.message.split(':')[0]]),
      [
        [undefined, 0, 'leaves 0-15 do not give the stored node (level 4, index 0)'],
        [ids[0], undefined, 'indexed columns disagree with the document'],
        [ids[1], undefined, 'indexed columns disagree with the document'],
      ],
    )
    for (const id of ids) assert.ok(changed[0]?.message.includes(id))
    assert.deepEqual(
      findingsOf(report, 'checkpoint').map((f) => f.treeSize),
      [7, 14, 21],
    )
  })

  it('reports swapped leaf indexes as out of commit order, each holding the other leaf', async () => {
    const fx = await buildStore()
    const ids: string[] = []
    tamper(fx.path, (db) => {
      const a = rowAt(db, 'pb', 10)
      const b = rowAt(db, 'pb', 11)
      ids.push(a.trace_id, b.trace_id)
      const set = db.prepare('UPDATE traces SET leaf_index = ? WHERE seq = ?')
      set.run(11, a.seq)
      set.run(10, b.seq)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      findingsOf(report, 'reordered').map((f) => [f.traceId, f.leafIndex, f.message]),
      // Leaf hashes are not stored: "holds the content of leaf j" can no longer be told.
      [[ids[1], 10, 'out of commit order: leaf 10 is stored after leaf 11']],
    )
    assert.equal(report.findingCounts.deleted, 0, 'the leaf came late, it was not deleted')
  })

  it('reports a duplicated leaf index', async () => {
    const fx = await buildStore()
    let ids: string[] = []
    tamper(fx.path, (db) => {
      const a = rowAt(db, 'pb', 2)
      const b = rowAt(db, 'pb', 3)
      ids = [a.trace_id, b.trace_id]
      db.prepare('UPDATE traces SET leaf_index = 2 WHERE seq = ?').run(b.seq)
    })
    const { report } = await audit(['--store', fx.dir])
    const dup = findingsOf(report, 'reordered').find((f) => f.message.startsWith('duplicates'))
    assert.deepEqual(
      [dup?.traceId, dup?.message],
      [ids[1], `duplicates leaf 2 (held by trace ${ids[0]})`],
    )
    assert.deepEqual(
      findingsOf(report, 'deleted').map((f) => [f.from, f.to]),
      [[3, 3]],
    )
  })

  it('catches an edit whose leaf hash, ancestors and tree were rewritten, by the signed checkpoints', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      const row = rowAt(db, 'pa', 5)
      const trace = { ...(JSON.parse(row.doc) as TraceRecord), resource_name: 'innocent' }
      db.prepare('UPDATE traces SET doc = ?, resource_name = ? WHERE seq = ?').run(
        traceDocument(trace),
        'innocent',
        row.seq,
      )
      rewriteTree(db, 'pa')
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Rows, leaf hashes and the stored tree agree with each other: only the checkpoints tell.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.treeSize]),
      [
        ['checkpoint', 'pa', 7],
        ['checkpoint', 'pa', 14],
        ['checkpoint', 'pa', 21],
      ],
    )
    assert.match(
      report.findings[0]?.message ?? '',
      /^checkpoint of size 7 does not match the recomputed tree/,
    )

    // The attacker also deletes the stored checkpoints: a note saved outside the file still tells.
    const saved = join(fx.dir, 'saved-checkpoint.txt')
    writeFileSync(saved, `${fx.notes.pa?.[1] ?? ''}${fx.notes.pb?.[2] ?? ''}`)
    tamper(fx.path, (db) => db.prepare('DELETE FROM merkle_checkpoints').run())
    const blind = await audit(['--store', fx.dir])
    assert.equal(blind.status, 0, 'without checkpoints the rewrite is invisible')
    assert.deepEqual(
      blind.report.projects.map((p) => [p.projectId, p.checkpoints, p.covered]),
      [
        ['p1', 0, 0],
        ['pa', 0, 0],
        ['pb', 0, 0],
      ],
    )
    const blindText = await verifyStore(['--store', fx.dir])
    assert.match(blindText.stdout, /^project pa: .*, 21 leaves after the last checkpoint,/m)
    const anchored = await audit(['--store', fx.dir, '--checkpoints', saved])
    assert.equal(anchored.status, 1)
    assert.deepEqual(
      anchored.report.findings.map((f) => [f.kind, f.projectId, f.treeSize, f.source]),
      [['checkpoint', 'pa', 14, saved]],
    )
    assert.equal(anchored.report.projects.find((p) => p.projectId === 'pb')?.externalCheckpoints, 1)
  })

  it('with --log-keys, refuses checkpoints re-signed with a key added to the file', async () => {
    const fx = await buildStore()
    let forgedKeyId = ''
    tamper(fx.path, (db) => {
      const row = rowAt(db, 'pa', 2)
      const trace = { ...(JSON.parse(row.doc) as TraceRecord), message: 'nothing happened' }
      db.prepare('UPDATE traces SET doc = ? WHERE seq = ?').run(traceDocument(trace), row.seq)
      rewriteTree(db, 'pa')
      // A key of the same name, added to the file, signs checkpoints of the rewritten tree.
      const { publicKey, privateKey } = generateKeyPairSync('ed25519')
      forgedKeyId = publicKeyId('opencts-test', publicKey).toString('hex')
      db.prepare(
        'INSERT INTO log_keys (key_id, key_name, public_key, sealed_private_key, created_at) VALUES (?, ?, ?, ?, ?)',
      ).run(
        forgedKeyId,
        'opencts-test',
        publicKey.export({ format: 'pem', type: 'spki' }),
        'x',
        NOW,
      )
      const docs = db
        .prepare(
          "SELECT doc FROM traces WHERE project_id = 'pa' AND leaf_index IS NOT NULL ORDER BY leaf_index",
        )
        .all() as { doc: string }[]
      const tree = new MemoryTree()
      for (const { doc } of docs) tree.appendHash(documentLeafHash(doc))
      const update = db.prepare(
        "UPDATE merkle_checkpoints SET root = ?, note = ? WHERE project_id = 'pa' AND size = ?",
      )
      for (const size of [7, 14, 21]) {
        const root = tree.root(size)
        const cp = { origin: checkpointOrigin('pa'), size, root, time: NOW }
        assert.equal(
          update.run(root, signCheckpoint(cp, 'opencts-test', privateKey), size).changes,
          1,
        )
      }
    })
    const forged = await audit(['--store', fx.dir])
    assert.equal(forged.status, 0, 'with the keys of the file, a complete forgery passes')
    assert.deepEqual(
      forged.report.keys.map((k) => k.keyName),
      ['opencts-test', 'opencts-test'],
    )
    const { status, report } = await audit(['--store', fx.dir, '--log-keys', fx.logKeys])
    assert.equal(status, 1)
    assert.equal(report.keysFrom, 'trusted')
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.treeSize, f.message]),
      [7, 14, 21].map((size) => [
        'checkpoint',
        'pa',
        size,
        `checkpoint of size ${size} does not verify: signed by opencts-test (id ${forgedKeyId}): not a known key`,
      ]),
    )
    assert.deepEqual(report.notes, [
      `log key opencts-test (id ${forgedKeyId}) stored in the file is not a trusted key`,
    ])
    const clean = await buildStore()
    const trusted = await audit(['--store', clean.dir, '--log-keys', clean.logKeys])
    assert.equal(trusted.status, 0, JSON.stringify(trusted.report.findings))
    writeFileSync(clean.logKeys, '{"keys":[]}')
    await assert.rejects(
      verifyStore(['--store', clean.dir, '--log-keys', clean.logKeys]),
      SettingError,
    )
  })

  it('reports a row inserted without a leaf index after logged rows (behind the log)', async () => {
    const fx = await buildStore()
    const forged = makeTrace({ project_id: 'pa', time: NOW - 5000 })
    tamper(fx.path, (db) =>
      db.prepare(INSERT_TRACE_SQL).run(...traceRow(forged, traceDocument(forged))),
    )
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.leafIndex]),
      [['inserted', 'pa', forged.trace_id, undefined]],
    )
    assert.match(report.findings[0]?.message ?? '', /inserted behind the log/)
  })

  it('reports a forged checkpoint and a tree cut short', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      db.prepare(
        "UPDATE merkle_checkpoints SET note = replace(note, 'time ', 'time 1') WHERE project_id = 'pb' AND size = 5",
      ).run()
      db.prepare("UPDATE merkle_trees SET size = 20 WHERE project_id = 'pa'").run()
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    const messages = report.findings.map((f) => `${f.kind} ${f.projectId} ${f.message}`)
    assert.ok(
      messages.some((m) => m.startsWith('checkpoint pb checkpoint of size 5 does not verify')),
      messages.join('\n'),
    )
    assert.ok(
      messages.includes(
        'checkpoint pa checkpoint of size 21 is larger than the stored tree of 20 leaves',
      ),
      messages.join('\n'),
    )
    assert.ok(
      messages.some((m) => m.startsWith('inserted pa leaf index 20 is beyond the stored tree')),
    )
  })

  it('reports edited and missing stored nodes as TREE findings', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      // The stored node of pa's leaves 0-15 (the lowest stored level): the documents and the
      // checkpoints still agree, the node does not (the audit cannot tell which was edited).
      db.prepare(
        "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE project_id = 'pa' AND level = 4 AND idx = 0",
      ).run()
      // A leaf of pb whose row is gone, in a group of 16 not complete: nothing bridges it.
      db.prepare('DELETE FROM traces WHERE seq = ?').run(rowAt(db, 'pb', 8).seq)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => `${f.kind} ${f.projectId} ${f.message.split(' (traces ')[0]}`),
      [
        'changed pa leaves 0-15 do not give the stored node (level 4, index 0): a document among them was edited, moved, deleted or inserted, or merkle_nodes was edited',
        'deleted pb leaf 8 has no row (deleted)',
      ],
    )
    assert.equal(report.findingCounts.checkpoint, 0, 'pa still matches its checkpoints')
    assert.deepEqual(report.notes, [
      'project pb: 2 checkpoints could not be compared: their size falls inside leaves 0-14, a group with a leaf without row whose lower Merkle levels are not stored',
    ])
    assert.equal(report.projects.find((p) => p.projectId === 'pb')?.recomputedRoot, null)
  })

  it('audits one project with --project-id and draws progress on a terminal', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      db.prepare('DELETE FROM traces WHERE seq = ?').run(rowAt(db, 'pb', 1).seq)
    })
    const { status, report } = await audit(['--store', fx.dir, '--project-id', 'pa'])
    assert.equal(status, 0)
    assert.deepEqual(
      report.projects.map((p) => p.projectId),
      ['pa'],
    )
    let t = NOW
    const run = await verifyStore(['--store', fx.dir], { tty: true, now: () => (t += 1000) })
    assert.equal(run.status, 1)
    assert.match(run.stderr, /verify --store: [\d,]+ rows checked \(100%\)/)
    assert.match(run.stdout, /^DELETED project pb: leaf 1 has no row \(deleted\)$/m)
  })

  it('refuses bad command lines and missing stores (usage errors, exit 2)', async () => {
    const fx = await buildStore()
    await assert.rejects(verifyStore([]), UsageError)
    await assert.rejects(verifyStore(['--store', fx.dir, '--bucket', 'b']), UsageError)
    await assert.rejects(verifyStore(['--store', fx.dir, 'stray']), UsageError)
    await assert.rejects(verifyStore(['--store', join(fx.dir, 'nope')]), SettingError)
    await assert.rejects(verifyStore(['--store', tmpdir(), '--json']), SettingError)
    await assert.rejects(verifyStore(['--store', fx.dir, '--retention-days', '0']), UsageError)
    await assert.rejects(
      verifyStore(['--store', fx.dir], { env: { OPENCTS_RETENTION_DAYS: 'week' } }),
      SettingError,
    )
    const bad = join(fx.dir, 'bad.json')
    writeFileSync(bad, '{"note":"not a note"}')
    await assert.rejects(verifyStore(['--store', fx.dir, '--checkpoints', bad]), SettingError)
    // Several files after one --checkpoints; JSON answers of the API are read too.
    const one = join(fx.dir, 'one.json')
    writeFileSync(one, JSON.stringify({ checkpoints: [{ note: fx.notes.pa?.[0] }] }))
    const two = join(fx.dir, 'two.txt')
    writeFileSync(two, fx.notes.pb?.[0] ?? '')
    const both = await audit(['--store', fx.dir, '--checkpoints', one, two])
    assert.equal(both.status, 0)
    // p1 holds only a trace stored while the log was off.
    assert.deepEqual(
      both.report.projects.map((p) => [p.projectId, p.externalCheckpoints, p.notInLog]),
      [
        ['p1', 0, 1],
        ['pa', 1, 1],
        ['pb', 1, 0],
      ],
    )
    const help = await verifyStore(['--help'])
    assert.equal(help.status, 0)
    assert.match(help.stdout, /^Usage: opencts verify --store/)
  })
})
