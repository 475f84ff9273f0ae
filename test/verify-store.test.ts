/**
 * `opencts verify --store` on the block layout: a real SQLite store built through the ingest path
 * (two projects, appended in interleaved batches, a checkpoint signed after each batch, a few
 * traces stored before the log was on), then edited behind OpenCTS's back with the block codec
 * (test/helpers/block-tamper: blocks decoded, changed, re-encoded and their rows rewritten with
 * consistent bounds), and audited read-only. Each kind of tampering must be reported with the
 * trace or the leaves it concerns, and the audited file must stay byte-identical.
 *
 * The SQLite Merkle log stores no leaf hash (levels >= 4 only): an edited, moved or inserted
 * document shows as a group of 16 leaves whose recomputed node differs from the stored one
 * (CHANGED, naming the range and its traces) and as the checkpoints after it. pa has 45 leaves
 * (groups 0-15 and 16-31 complete, a tail of 13) in three blocks of 15, pb 15 (no complete group).
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { after, describe, it } from 'node:test'
import { SettingError, UsageError } from '../src/cli/cli-errors.js'
import type { CliIo } from '../src/cli/cli-io.js'
import { runVerifyStore } from '../src/cli/verify-store.js'
import { checkpointOrigin, publicKeyId, signCheckpoint } from '../src/integrity/checkpoint.js'
import { Checkpointer } from '../src/log/checkpointer.js'
import { LogKeys } from '../src/log/log-keys.js'
import { auditStore, type StoreAuditReport, type StoreFinding } from '../src/log/store-audit.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { TraceCategory, TraceRecord } from '../src/model/index.js'
import { traceDocument } from '../src/model/trace-leaf.js'
import type { Sealer } from '../src/platform/sealer.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { blockRows } from './helpers/block-rows.js'
import {
  atLeaf,
  deleteTrace,
  editDocument,
  insertBlock,
  insertTrace,
  projectBlocks,
  reorder,
  rewritePostings,
  rewriteTree,
  setValue,
  swapDocuments,
  tamper,
  toEleventhForm,
  traceOf,
  writeBlock,
} from './helpers/block-tamper.js'
import {
  decodeValueRows,
  encodeValueRows,
  type ValueRows,
} from '../src/store/sqlite/blocks/value-index.js'
import { CHUNK_ROW_SPAN } from '../src/store/sqlite/blocks/block-schema.js'
import { makeTrace } from './helpers/make-trace.js'

const NOW = Date.now()
const DAY = 86_400_000
/** Batches per project, each followed by a checkpoint: pa gets 3 × 15 leaves, pb 3 × 5. */
const BATCHES = 3
const PER_BATCH = { pa: 15, pb: 5 } as const

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

/** The trace ids of a project's leaves [from, to]. */
function idsOf(path: string, projectId: string, from: number, to: number): string[] {
  return tamper(path, (db) => {
    const ids: string[] = []
    for (let leaf = from; leaf <= to; leaf++)
      ids.push(atLeaf(db, projectId, leaf).trace.values.trace_id ?? '')
    return ids
  })
}

/** The part of a group finding's message before the trace ids. */
const groupText = (f: StoreFinding | undefined): string => f?.message.split(' (traces ')[0] ?? ''

const groupMessage = (first: number, last: number, index: number): string =>
  `leaves ${first}-${last} do not give the stored node (level 4, index ${index}): a document among them was edited, moved, deleted or inserted, or merkle_nodes was edited`

describe('opencts verify --store', () => {
  it('finds nothing in an untouched store, and never writes to the file', async () => {
    const fx = await buildStore()
    const before = sha256(fx.path)
    // The fixture is the layout the tamper tests assume: pa in blocks of 15 leaves.
    tamper(fx.path, (db) =>
      assert.deepEqual(
        projectBlocks(db, 'pa').map((b) => [b.minLeaf, b.traces.length]),
        [
          [null, 1],
          [0, 15],
          [15, 15],
          [30, 15],
        ],
      ),
    )
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 0, JSON.stringify(report.findings))
    assert.equal(report.ok, true)
    assert.equal(report.rows, 2 + BATCHES * (PER_BATCH.pa + PER_BATCH.pb))
    const pa = report.projects.find((p) => p.projectId === 'pa')
    const pb = report.projects.find((p) => p.projectId === 'pb')
    assert.ok(pa && pb)
    assert.deepEqual(
      [pa.treeSize, pa.logged, pa.notInLog, pa.checkpoints, pa.deleted, pa.findings],
      [45, 45, 1, 3, 0, 0],
    )
    assert.deepEqual([pb.treeSize, pb.logged, pb.checkpoints], [15, 15, 3])
    // The recomputed root is the root the newest checkpoint signed.
    const signedRoot = (fx.notes.pa?.at(-1) ?? '').split('\n')[2] ?? ''
    assert.equal(Buffer.from(pa.recomputedRoot ?? '', 'hex').toString('base64'), signedRoot)
    assert.equal(report.keys.length, 1)
    assert.equal(report.keys[0]?.keyName, 'opencts-test')
    const text = await verifyStore(['--store', fx.path])
    assert.equal(text.status, 0)
    assert.match(text.stdout, /^project pa: 45 leaves, 45 rows in the log, 1 row not in the log,/m)
    assert.match(text.stdout, /^Result: valid$/m)
    assert.equal(sha256(fx.path), before, 'the audited file is byte-identical')
    const wal = `${fx.path}-wal`
    assert.ok(!existsSync(wal) || statSync(wal).size === 0, 'nothing written to the WAL')
  })

  it('a block rewritten unchanged by the tamper helper still audits clean', async () => {
    // The helper's re-encoding must be faithful, or every other test here proves nothing.
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      const before = blockRows(db)
      for (const projectId of ['pa', 'pb'])
        for (const block of projectBlocks(db, projectId)) writeBlock(db, block)
      assert.deepEqual(blockRows(db), before)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 0, JSON.stringify(report.findings))
  })

  it('audits the snapshot of the moment it opened the file, and cannot write to it', async () => {
    const fx = await buildStore()
    const readonly = openSqliteStore({ path: fx.path, readonly: true, merkle: TRACE_LOG_HASHING })
    try {
      // The server goes on writing, and someone deletes a trace, after the audit opened the file.
      const writer = openSqliteStore({ path: fx.path, merkle: TRACE_LOG_HASHING })
      await writer.traces.append([makeTrace({ project_id: 'pa' }), makeTrace({ project_id: 'pc' })])
      await writer.close()
      tamper(fx.path, (db) => deleteTrace(db, 'pb', 0, 'split'))
      const report = await auditStore(readonly.merkle, { now: NOW, pageSize: 5 })
      assert.equal(report.ok, true, JSON.stringify(report.findings))
      assert.deepEqual(
        report.projects.map((p) => [p.projectId, p.treeSize, p.logged]),
        [
          ['p1', 0, 0],
          ['pa', 45, 45],
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
        ['pa', 46, 45],
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

  it('reports an edited document as CHANGED (its group of 16, naming it) and the checkpoints after it', async () => {
    const fx = await buildStore()
    let traceId = ''
    tamper(fx.path, (db) => {
      const edited = editDocument(db, 'pa', 9, (doc) => doc.replace('"192.0.2.10"', '"192.0.2.66"'))
      traceId = edited.values.trace_id ?? ''
    })
    const before = sha256(fx.path)
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Leaf hashes are not stored: the group of 16 leaves holding leaf 9 differs from its stored
    // node, and the finding names the range and its traces (the edited one among them).
    const changed = findingsOf(report, 'changed')
    assert.deepEqual(
      changed.map((f) => [f.projectId, f.from, f.to, groupText(f)]),
      [['pa', 0, 15, groupMessage(0, 15, 0)]],
    )
    assert.ok(changed[0]?.message.includes(traceId), 'the edited trace is named')
    // Every checkpoint of pa holds leaf 9; the group after it (16-31) still matches its node.
    assert.deepEqual(
      findingsOf(report, 'checkpoint').map((f) => f.treeSize),
      [15, 30, 45],
    )
    assert.equal(report.findingCounts.deleted + report.findingCounts.reordered, 0)
    assert.equal(report.findingCounts.tree, 0, 'the nodes above the group are not reported again')
    const text = await verifyStore(['--store', fx.dir])
    assert.match(text.stdout, /^CHANGED project pa.*: leaves 0-15 do not give the stored node/m)
    assert.match(text.stdout, /^CHECKPOINT project pa: checkpoint of size 15 does not match/m)
    assert.match(text.stdout, /^Result: INVALID \(4 findings: 1 changed, 3 checkpoint\)$/m)
    assert.equal(sha256(fx.path), before, 'the audited file is byte-identical')
  })

  it('reports an edit in a later group by that group only, and one in the tail by the checkpoints only', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) =>
      editDocument(db, 'pa', 20, (doc) => doc.replace('"alice"', '"eve"'), { columns: true }),
    )
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Leaf 20 is in the complete group 16-31: the checkpoint of 15 leaves still matches.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.from ?? f.treeSize, f.message.split(' (')[0]]),
      [
        ['changed', 16, 'leaves 16-31 do not give the stored node'],
        ['checkpoint', 30, 'checkpoint of size 30 does not match the recomputed tree'],
        ['checkpoint', 45, 'checkpoint of size 45 does not match the recomputed tree'],
      ],
    )
    // Leaf 40 is in the tail (32-44), which no stored node covers: only the checkpoint of 45
    // leaves (the signed root) tells. Past the last checkpoint nothing would (docs/verify.md).
    const tail = await buildStore()
    tamper(tail.path, (db) =>
      editDocument(db, 'pa', 40, (doc) => doc.replace('"alice"', '"eve"'), { columns: true }),
    )
    const tailAudit = await audit(['--store', tail.dir])
    assert.deepEqual(
      tailAudit.report.findings.map((f) => [f.kind, f.treeSize]),
      [['checkpoint', 45]],
    )
  })

  it('reports an indexed value that disagrees with its document as CHANGED (columns), the log itself intact', async () => {
    const fx = await buildStore()
    const ids: string[] = []
    tamper(fx.path, (db) => {
      // A dims column (dictionary), a strs column and the time.
      ids.push(setValue(db, 'pb', 4, 'user_name', 'mallory').values.trace_id ?? '')
      ids.push(setValue(db, 'pa', 33, 'resource_id', 'a-forged').values.trace_id ?? '')
      const { block, trace } = atLeaf(db, 'pa', 17)
      trace.time -= 1
      writeBlock(db, block)
      ids.push(trace.values.trace_id ?? '')
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    const columns = 'indexed columns disagree with the document'
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.leafIndex, f.message]),
      [
        ['changed', 'pa', ids[2], 17, columns],
        ['changed', 'pa', ids[1], 33, columns],
        ['changed', 'pb', ids[0], 4, columns],
      ],
    )
  })

  it('reports a block whose bounds or bloom no longer hold its traces (hidden from queries) as CHANGED (columns)', async () => {
    // Audit bug (fixed): queries skip a block by its row's min_time/max_time and bloom, so a block
    // row moved out of the time range or with its bloom cleared hides its traces from the API
    // while every document, node and checkpoint still agrees. The audit now checks them too.
    const fx = await buildStore()
    let hidden: string[] = []
    let unfiltered: string[] = []
    let category = ''
    tamper(fx.path, (db) => {
      const { block, trace } = atLeaf(db, 'pa', 20)
      category = trace.values.category ?? ''
      db.prepare('UPDATE trace_blocks SET min_time = ?, max_time = ? WHERE id = ?').run(
        NOW - 2 * DAY,
        NOW - 2 * DAY,
        block.id,
      )
      hidden = block.traces.map((t) => t.values.trace_id ?? '')
      const other = atLeaf(db, 'pb', 12).block
      db.prepare('UPDATE trace_blocks SET bloom = zeroblob(length(bloom)) WHERE id = ?').run(
        other.id,
      )
      unfiltered = other.traces.map((t) => t.values.trace_id ?? '')
    })
    // The attack works: the API no longer returns these traces.
    const store = openSqliteStore({ path: fx.path, readonly: true, merkle: TRACE_LOG_HASHING })
    try {
      const filter = { from: NOW - DAY, to: NOW + DAY, category: category as TraceCategory }
      const pa = await store.traces.page({ ...filter, projectId: 'pa' }, null, 1000)
      const pb = await store.traces.page(
        { ...filter, projectId: 'pb', userName: 'bob' },
        null,
        1000,
      )
      const ids = (page: { traces: TraceRecord[] }): Set<string> =>
        new Set(page.traces.map((t) => t.trace_id))
      assert.deepEqual(
        [hidden.filter((id) => ids(pa).has(id)), unfiltered.filter((id) => ids(pb).has(id))],
        [[], []],
      )
      assert.deepEqual([pa.traces.length, pb.traces.length], [1 + 45 - 15, 15 - 5])
    } finally {
      await store.close()
    }
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    const columns = 'indexed columns disagree with the document'
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.message]),
      [
        ...hidden.map((id) => ['changed', 'pa', id, columns]),
        ...unfiltered.map((id) => ['changed', 'pb', id, columns]),
      ],
    )
  })

  /** A resource filter no longer returns the trace (the attack works), and the audit reports it. */
  async function assertHiddenFromResourcePages(
    fx: { readonly path: string; readonly dir: string },
    traceId: string,
    resourceId: string,
  ): Promise<void> {
    const store = openSqliteStore({ path: fx.path, readonly: true, merkle: TRACE_LOG_HASHING })
    try {
      const page = await store.traces.page(
        { projectId: 'pa', from: NOW - DAY, to: NOW + DAY, category: 'system', resourceId },
        null,
        1000,
      )
      assert.ok(!page.traces.some((t) => t.trace_id === traceId))
    } finally {
      await store.close()
    }
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.message]),
      [['changed', 'pa', traceId, 'indexed columns disagree with the document']],
    )
  }

  /** Drops `position` from every list of an index (keys kept). */
  const withoutPosition = <T extends ValueRows>(rows: T, position: number): T => {
    const offsets = [0]
    const positions: number[] = []
    rows.keys.forEach((_, r) => {
      const list = rows.positions.subarray(rows.offsets[r], rows.offsets[r + 1])
      positions.push(...Array.from(list).filter((p) => p !== position))
      offsets.push(positions.length)
    })
    return { ...rows, offsets: Uint32Array.from(offsets), positions: Uint16Array.from(positions) }
  }

  /** The store as version 11 wrote it, then opened once (upgraded: its blocks as they were). */
  const toEleventhUpgraded = async (path: string): Promise<void> => {
    toEleventhForm(path)
    await openSqliteStore({ path, merkle: TRACE_LOG_HASHING }).close()
  }

  // Since schema version 12 a fresh block's index is its posting rows; `whole`: the store turned
  // into what version 11 wrote (the whole index in the block's trace_vals row), still read.
  for (const whole of [false, true]) {
    const form = whole ? 'a whole value index (version 11)' : 'posting rows'
    it(`reports a trace the value index no longer lists (hidden from resource filters) as CHANGED (columns): ${form}`, async () => {
      const fx = await buildStore()
      if (whole) await toEleventhUpgraded(fx.path)
      let traceId = ''
      let resourceId = ''
      tamper(fx.path, (db) => {
        const { block, position, trace } = atLeaf(db, 'pa', 20)
        traceId = trace.values.trace_id ?? ''
        resourceId = trace.values.resource_id ?? ''
        if (!whole) {
          rewritePostings(db, block, (rows) => withoutPosition(rows, position))
          return
        }
        const { vals } = db
          .prepare('SELECT data AS vals FROM trace_vals WHERE id = ?')
          .get(block.id) as { vals: Buffer }
        db.prepare('UPDATE trace_vals SET data = ? WHERE id = ?').run(
          encodeValueRows(withoutPosition(decodeValueRows(vals), position)),
          block.id,
        )
      })
      assert.notEqual(resourceId, '')
      await assertHiddenFromResourcePages(fx, traceId, resourceId)
    })

    it(`reports a trace whose time in the value index moves it out of its window as CHANGED (columns): ${form}`, async () => {
      const fx = await buildStore()
      if (whole) await toEleventhUpgraded(fx.path)
      let traceId = ''
      let resourceId = ''
      tamper(fx.path, (db) => {
        const { block, position, trace } = atLeaf(db, 'pa', 20)
        traceId = trace.values.trace_id ?? ''
        resourceId = trace.values.resource_id ?? ''
        const { vals } = db
          .prepare('SELECT data AS vals FROM trace_vals WHERE id = ?')
          .get(block.id) as { vals: Buffer }
        const rows = decodeValueRows(vals)
        assert.ok(rows.page !== null, 'a fresh block has page columns')
        // Its time as a resource page sees it: 49 days after the block's first trace.
        const times = Uint32Array.from(rows.page.times)
        times[position] = 0xffff_ffff
        if (!whole) {
          rewritePostings(db, block, (index) => ({ ...index, page: { ...index.page, times } }))
          return
        }
        db.prepare('UPDATE trace_vals SET data = ? WHERE id = ?').run(
          encodeValueRows({ ...rows, page: { ...rows.page, times } }),
          block.id,
        )
      })
      await assertHiddenFromResourcePages(fx, traceId, resourceId)
    })
  }

  it('reports a trace whose posting points at another document as CHANGED (columns)', async () => {
    const fx = await buildStore()
    let traceId = ''
    tamper(fx.path, (db) => {
      const { block, position, trace } = atLeaf(db, 'pa', 20)
      traceId = trace.values.trace_id ?? ''
      // Its posting gets the place of the next trace's document (same chunk: one trace later).
      rewritePostings(db, block, (rows) => {
        const ranks = Uint16Array.from(rows.page.ranks)
        const docLengths = Uint32Array.from(rows.page.docLengths)
        const other = position + 1
        ;[ranks[position], ranks[other]] = [ranks[other] ?? 0, ranks[position] ?? 0]
        ;[docLengths[position], docLengths[other]] = [
          docLengths[other] ?? 0,
          docLengths[position] ?? 0,
        ]
        return { ...rows, page: { ...rows.page, ranks, docLengths } }
      })
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.ok(
      report.findings.some(
        (f) => f.kind === 'changed' && f.traceId === traceId && /indexed columns/.test(f.message),
      ),
      JSON.stringify(report.findings),
    )
  })

  it('stops with an error naming the block when a body chunk row is missing', async () => {
    const fx = await buildStore()
    const blockId = tamper(fx.path, (db) => {
      const { block } = atLeaf(db, 'pa', 20)
      db.prepare('DELETE FROM trace_chunks WHERE id = ?').run(block.id * CHUNK_ROW_SPAN)
      return block.id
    })
    // CliFailure: `opencts verify` prints it and exits 1.
    await assert.rejects(verifyStore(['--store', fx.dir]), (error: Error) => {
      assert.equal(error.name, 'CliFailure')
      assert.match(
        error.message,
        new RegExp(
          `trace block ${blockId} of project pa: body unreadable \\(Error: chunk row 0 is missing\\)`,
        ),
      )
      return true
    })
  })

  it('reports a deleted trace as DELETED with its leaf index; retention explains an old one', async () => {
    const fx = await buildStore()
    // The block is cut in two around the trace: every other trace keeps its leaf index.
    tamper(fx.path, (db) => deleteTrace(db, 'pb', 6, 'split'))
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

  it('continues after a complete group with a deleted trace, from its stored node', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      deleteTrace(db, 'pa', 20, 'split')
      // An edit after that group must still be found by the group comparison and checkpoints.
      editDocument(db, 'pa', 35, (doc) => doc.replace('"ubuntu"', '"debian"'), { columns: true })
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Leaf 20 has no row: group 16-31 is bridged with its stored node (its other traces cannot be
    // checked, the checkpoint of 30 falls inside it: a note), and the tree goes on from there.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.from ?? f.treeSize, f.message.split(' (')[0]]),
      [
        ['deleted', 20, 'leaf 20 has no row'],
        ['checkpoint', 45, 'checkpoint of size 45 does not match the recomputed tree'],
      ],
    )
    assert.deepEqual(report.notes, [
      'project pa: 1 checkpoint could not be compared: their size falls inside leaves 16-31, a group with a leaf without row whose lower Merkle levels are not stored',
    ])
    const pa = report.projects.find((p) => p.projectId === 'pa')
    assert.deepEqual([pa?.checkpoints, pa?.covered], [2, 45])
  })

  it('reports a trace deleted out of a block that closes up: the leaves after it move', async () => {
    const fx = await buildStore()
    let deleted = ''
    const moved = idsOf(fx.path, 'pa', 32, 44)
    tamper(fx.path, (db) => {
      // The last block (leaves 30-44) without leaf 31: leaves 31-43 now hold what 32-44 held.
      deleted = deleteTrace(db, 'pa', 31, 'shift').values.trace_id ?? ''
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Without stored leaf hashes a missing leaf is only seen where no row holds an index: the last
    // one of the block (44). Group 16-31 ends with the trace that was leaf 32: CHANGED; the tail
    // 32-44 has no stored node and a leaf without row, so the checkpoint of 45 cannot be compared.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.from, groupText(f)]),
      [
        ['changed', 16, groupMessage(16, 31, 1)],
        ['deleted', 44, 'leaf 44 has no row (deleted)'],
      ],
    )
    const group = findingsOf(report, 'changed')[0]?.message ?? ''
    assert.ok(group.includes(moved[0] ?? '-'), 'the trace now at leaf 31 is named')
    assert.ok(!group.includes(deleted), 'the deleted trace is in no row')
    assert.equal(report.notes.length, 1)
  })

  it('reports deleted traces at the tail, past the last checkpoint', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      for (const leaf of [43, 44]) deleteTrace(db, 'pa', leaf, 'split')
    })
    const { status, report } = await audit(['--store', fx.dir], () => NOW + 8 * DAY)
    // Leaves 43-44 are covered by the checkpoint of 45 leaves, signed NOW: expired 8 days later.
    assert.equal(status, 0, JSON.stringify(report.findings))
    const now = await audit(['--store', fx.dir])
    assert.equal(now.status, 1)
    assert.deepEqual(
      findingsOf(now.report, 'deleted').map((f) => [f.from, f.to, f.count]),
      [[43, 44, 2]],
    )
    assert.equal(report.projects.find((p) => p.projectId === 'pa')?.expired, 2)
  })

  it('reports swapped documents as CHANGED: the group, and each trace by its columns', async () => {
    const fx = await buildStore()
    let ids: string[] = []
    tamper(fx.path, (db) => {
      ids = swapDocuments(db, 'pa', 3, 4).map((t) => t.values.trace_id ?? '')
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
      [15, 30, 45],
    )
  })

  it('reports two traces swapped with their seqs as out of commit order', async () => {
    const fx = await buildStore()
    let pb: string[] = []
    let pa: string[] = []
    tamper(fx.path, (db) => {
      pb = reorder(db, 'pb', 10, 11).map((t) => t.values.trace_id ?? '')
      pa = reorder(db, 'pa', 36, 37).map((t) => t.values.trace_id ?? '')
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Leaf 10 now holds the trace committed after the one at leaf 11. Leaf hashes are not stored:
    // "holds the content of leaf j" can no longer be told, the commit order still can.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.leafIndex, f.message]),
      [
        ['reordered', 'pa', pa[1], 36, 'out of commit order: leaf 36 is stored after leaf 37'],
        ['reordered', 'pb', pb[1], 10, 'out of commit order: leaf 10 is stored after leaf 11'],
      ],
    )
    assert.equal(report.findingCounts.deleted, 0, 'the leaf came late, it was not deleted')
  })

  it('reports a block whose leaves overlap the one before as duplicates, and the leaf it leaves out', async () => {
    const fx = await buildStore()
    let dup = ''
    tamper(fx.path, (db) => {
      // pb's second block (leaves 5-9) is made to start at leaf 4.
      const { block, trace } = atLeaf(db, 'pb', 5)
      dup = trace.values.trace_id ?? ''
      block.minLeaf = 4
      writeBlock(db, block)
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.traceId, f.from ?? f.leafIndex, f.message]),
      [
        ['deleted', undefined, 9, 'leaf 9 has no row (deleted)'],
        // The store's lookup of leaf 4 now finds the overlapping block (the later one), so the
        // first holder cannot be named: it would be the duplicate itself.
        ['reordered', dup, 4, 'duplicates leaf 4'],
      ],
    )
  })

  it('catches an edit whose ancestors and tree were rewritten, by the signed checkpoints', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      editDocument(
        db,
        'pa',
        5,
        (doc) => traceDocument({ ...(JSON.parse(doc) as TraceRecord), resource_name: 'innocent' }),
        { columns: true },
      )
      rewriteTree(db, 'pa')
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // Documents, columns and the stored tree agree with each other: only the checkpoints tell.
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.treeSize]),
      [
        ['checkpoint', 'pa', 15],
        ['checkpoint', 'pa', 30],
        ['checkpoint', 'pa', 45],
      ],
    )
    assert.match(
      report.findings[0]?.message ?? '',
      /^checkpoint of size 15 does not match the recomputed tree/,
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
    assert.match(blindText.stdout, /^project pa: .*, 45 leaves after the last checkpoint,/m)
    const anchored = await audit(['--store', fx.dir, '--checkpoints', saved])
    assert.equal(anchored.status, 1)
    assert.deepEqual(
      anchored.report.findings.map((f) => [f.kind, f.projectId, f.treeSize, f.source]),
      [['checkpoint', 'pa', 30, saved]],
    )
    assert.equal(anchored.report.projects.find((p) => p.projectId === 'pb')?.externalCheckpoints, 1)
  })

  it('with --log-keys, refuses checkpoints re-signed with a key added to the file', async () => {
    const fx = await buildStore()
    let forgedKeyId = ''
    tamper(fx.path, (db) => {
      editDocument(db, 'pa', 2, (doc) =>
        traceDocument({ ...(JSON.parse(doc) as TraceRecord), message: 'nothing happened' }),
      )
      const tree = rewriteTree(db, 'pa')
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
      const update = db.prepare(
        "UPDATE merkle_checkpoints SET root = ?, note = ? WHERE project_id = 'pa' AND size = ?",
      )
      for (const size of [15, 30, 45]) {
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
      [15, 30, 45].map((size) => [
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

  it('reports a block inserted without a leaf index after logged traces (behind the log)', async () => {
    const fx = await buildStore()
    const forged = makeTrace({ project_id: 'pa', time: NOW - 5000 })
    tamper(fx.path, (db) => insertTrace(db, 'pa', forged, 'block'))
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.leafIndex]),
      [['inserted', 'pa', forged.trace_id, undefined]],
    )
    assert.match(report.findings[0]?.message ?? '', /inserted behind the log/)
  })

  it('reports a trace stored without a leaf index in a project with no log, after the log was on', async () => {
    // Audit bug (fixed): the "behind the log" rule was per project, so a forged trace of a project
    // with no logged trace yet passed as "not in the log". The log is on for every project at
    // once: a trace without a leaf index committed after any logged trace is behind the log.
    const fx = await buildStore()
    const forged = makeTrace({ project_id: 'px', time: NOW - 5000 })
    tamper(fx.path, (db) => insertTrace(db, 'px', forged, 'block'))
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.message]),
      [
        [
          'inserted',
          'px',
          forged.trace_id,
          'stored without a leaf index after the log was on (inserted behind the log)',
        ],
      ],
    )
  })

  it('reports traces at commit positions no commit gives: below the first, or taken twice', async () => {
    // Audit bug (fixed): rows were read from seq 1 on, so a block at seq 0 or below was never
    // audited (yet served by queries); and a forged trace reusing the seq of an earlier one
    // passed as stored before the log (and could fall between two audit pages).
    const fx = await buildStore()
    const below = makeTrace({ project_id: 'pb', time: NOW - 30_000 })
    const twice = makeTrace({ project_id: 'pb', time: NOW - 30_000 })
    tamper(fx.path, (db) => {
      insertBlock(db, 'pb', null, [traceOf(below, 0)])
      // Seq 2 is p1's trace, stored while the log was off.
      insertBlock(db, 'pb', null, [traceOf(twice, 2)])
    })
    const readonly = openSqliteStore({ path: fx.path, readonly: true, merkle: TRACE_LOG_HASHING })
    after(() => readonly.close())
    for (const pageSize of [1000, 2, 1]) {
      const report = await auditStore(readonly.merkle, { now: NOW, pageSize })
      assert.deepEqual(
        report.findings.map((f) => [f.kind, f.projectId, f.traceId, f.seq, f.message]),
        [
          [
            'inserted',
            'pb',
            below.trace_id,
            0,
            'commit position 0 is below the first one (1): no commit gives it',
          ],
          [
            'inserted',
            'pb',
            twice.trace_id,
            2,
            'commit position 2 is held by another trace too: no commit gives it twice',
          ],
        ],
        `page size ${pageSize}`,
      )
      assert.equal(report.rows, 2 + 2 + BATCHES * (PER_BATCH.pa + PER_BATCH.pb))
    }
    const { status } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
  })

  it('reports a trace inserted into a block: at its end beyond the tree, inside it moving the leaves after it', async () => {
    const fx = await buildStore()
    const atEnd = makeTrace({ project_id: 'pa', time: NOW - 5000 })
    const inside = makeTrace({ project_id: 'pb', time: NOW - 5000 })
    tamper(fx.path, (db) => {
      insertTrace(db, 'pa', atEnd, { leaf: 45 })
      insertTrace(db, 'pb', inside, { leaf: 7 })
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    // pb: the forged trace takes leaf 7 with the newest seq, so it comes last in commit order;
    // the traces after it in its block (7-9) move to leaves 8-10 and overlap the next block.
    const messages = report.findings.map((f) => [
      f.kind,
      f.projectId,
      f.traceId ?? '',
      f.message.split(' (')[0],
    ])
    assert.deepEqual(messages, [
      ['inserted', 'pa', atEnd.trace_id, 'leaf index 45 is beyond the stored tree of 45 leaves'],
      ...messages.filter((m) => m[1] === 'pb'),
    ])
    const pb = report.findings.filter((f) => f.projectId === 'pb')
    assert.ok(
      pb.some((f) => f.kind === 'reordered' && f.traceId === inside.trace_id),
      JSON.stringify(pb),
    )
    assert.ok(pb.some((f) => f.message.startsWith('duplicates leaf 10')))
  })

  it('reports a forged checkpoint and a tree cut short', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      db.prepare(
        "UPDATE merkle_checkpoints SET note = replace(note, 'time ', 'time 1') WHERE project_id = 'pb' AND size = 5",
      ).run()
      db.prepare("UPDATE merkle_trees SET size = 44 WHERE project_id = 'pa'").run()
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
        'checkpoint pa checkpoint of size 45 is larger than the stored tree of 44 leaves',
      ),
      messages.join('\n'),
    )
    assert.ok(
      messages.some((m) => m.startsWith('inserted pa leaf index 44 is beyond the stored tree')),
    )
  })

  it('reports edited and missing stored nodes as CHANGED groups and TREE findings', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => {
      // The stored node of pa's leaves 0-15 (the lowest stored level): the documents and the
      // checkpoints still agree, the node does not (the audit cannot tell which was edited).
      db.prepare(
        "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE project_id = 'pa' AND level = 4 AND idx = 0",
      ).run()
      // A leaf of pb whose trace is gone, in a group of 16 not complete: nothing bridges it.
      deleteTrace(db, 'pb', 8, 'split')
    })
    const { status, report } = await audit(['--store', fx.dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => `${f.kind} ${f.projectId} ${groupText(f)}`),
      [`changed pa ${groupMessage(0, 15, 0)}`, 'deleted pb leaf 8 has no row (deleted)'],
    )
    assert.equal(report.findingCounts.checkpoint, 0, 'pa still matches its checkpoints')
    assert.deepEqual(report.notes, [
      'project pb: 2 checkpoints could not be compared: their size falls inside leaves 0-14, a group with a leaf without row whose lower Merkle levels are not stored',
    ])
    assert.equal(report.projects.find((p) => p.projectId === 'pb')?.recomputedRoot, null)

    // A node above the lowest stored level: TREE; a missing one stops the recomputation.
    const other = await buildStore()
    tamper(other.path, (db) =>
      db
        .prepare(
          "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE project_id = 'pa' AND level = 5 AND idx = 0",
        )
        .run(),
    )
    const upper = await audit(['--store', other.dir])
    assert.deepEqual(
      upper.report.findings.map((f) => [f.kind, f.projectId, f.message]),
      [
        [
          'tree',
          'pa',
          'stored node (level 5, index 0) differs from the one the documents give (leaves 0-31; merkle_nodes were edited)',
        ],
      ],
    )
  })

  it('audits one project with --project-id and draws progress on a terminal', async () => {
    const fx = await buildStore()
    tamper(fx.path, (db) => deleteTrace(db, 'pb', 1, 'split'))
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

  it('finds tampering inside a merged block (seqs not contiguous: kept as offsets)', async () => {
    // Nine small batches per project: the writer merges a project's small blocks into one whose
    // seqs interleave with the other project's, listed as seq offsets in its dims.
    const dir = mkdtempSync(join(tmpdir(), 'opencts-verify-merged-'))
    dirs.push(dir)
    const path = join(dir, 'opencts.db')
    const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
    const clock = { now: () => NOW }
    const keys = new LogKeys({ store: store.merkle, sealer: PLAIN_SEALER, clock, keyName: 'k' })
    const checkpointer = new Checkpointer({ store: store.merkle, keys, clock, intervalMs: 1000 })
    // Yesterday noon: blocks of two days are never merged, and these all fall in one.
    const noon = Math.floor(NOW / DAY) * DAY - DAY / 2
    for (let b = 0; b < 9; b++) {
      const batch: TraceRecord[] = []
      for (let i = 0; i < 3; i++) {
        batch.push(makeTrace({ project_id: 'pa', time: noon + b * 10 + i }))
        batch.push(makeTrace({ project_id: 'pb', time: noon + b * 10 + i }))
      }
      await store.traces.append(batch)
      await checkpointer.runOnce()
    }
    await store.close()
    const seqsOf = (): number[] =>
      tamper(path, (db) => projectBlocks(db, 'pa').flatMap((b) => b.traces.map((t) => t.seq)))
    const seqs = seqsOf()
    assert.equal(seqs.length, 27)
    assert.ok(
      seqs.some((seq, i) => i > 0 && seq !== (seqs[i - 1] ?? 0) + 1),
      'pa holds a merged block with seq gaps',
    )
    assert.equal((await audit(['--store', dir])).status, 0)
    let moved = ''
    tamper(path, (db) => {
      editDocument(db, 'pa', 7, (doc) => doc.replace('"img-1"', '"img-2"'), { columns: true })
      moved = reorder(db, 'pa', 20, 21)[1].values.trace_id ?? ''
    })
    assert.deepEqual(seqsOf().slice(0, 20), seqs.slice(0, 20), 'the other seqs are kept')
    const { status, report } = await audit(['--store', dir])
    assert.equal(status, 1)
    assert.deepEqual(
      report.findings.map((f) => [f.kind, f.traceId, f.from ?? f.leafIndex ?? f.treeSize]),
      [
        ['changed', undefined, 0],
        ['reordered', moved, 20],
        // Checkpoints past leaf 7 and before the reordered leaf 20 left a gap in the tail (16-26).
        ...report.findings
          .filter((f) => f.kind === 'checkpoint')
          .map((f) => ['checkpoint', undefined, f.treeSize]),
      ],
    )
    assert.deepEqual(
      findingsOf(report, 'checkpoint').map((f) => f.treeSize),
      [9, 12, 15, 18],
    )
    assert.equal(report.notes.length, 1, 'checkpoints 21-27 fall in the group of the gap')
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
