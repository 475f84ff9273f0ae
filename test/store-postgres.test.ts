/**
 * The trace and Merkle log ports on PostgreSQL beyond their contract suites (test/contract-*.test.ts):
 * the per-project Merkle log (size, leaf indexes and root against the stored traces in commit
 * order), day partitions and their retention, two nodes appending into one project at once (commit
 * order = seq order, one tree, no fork), and `verify --store` on a read-only store (consistent
 * snapshot; a row edited with SQL behind the store's back is found). Every store lives in its own
 * fresh database, dropped afterwards.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pg from 'pg'
import { inclusionProof, MemoryTree, rootHash } from '../src/integrity/merkle.js'
import { Checkpointer } from '../src/log/checkpointer.js'
import { LogKeys } from '../src/log/log-keys.js'
import { auditStore } from '../src/log/store-audit.js'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../src/model/index.js'
import { traceLeaf } from '../src/model/trace-leaf.js'
import type { Sealer } from '../src/platform/sealer.js'
import type { Store } from '../src/store/index.js'
import { COMMIT_CHANNEL, PgDatabase } from '../src/store/postgres/pg-database.js'
import { connectionConfig } from '../src/store/postgres/pg-pool.js'
import { openPostgresStore, type PostgresStore } from '../src/store/postgres/postgres-store.js'
import { DAY_MS } from '../src/store/postgres/trace-partitions.js'
import { engineFactory } from './contract/engines.js'
import { makeTrace } from './helpers/make-trace.js'

const HASHING = TRACE_LOG_HASHING
/** A fixed date weeks in the past: every partition is created on demand. */
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

const plain = engineFactory('postgres')
const sqlite = engineFactory('sqlite')
const logged = engineFactory('postgres', { merkle: HASHING })
after(async () => {
  await plain.dropAll()
  await logged.dropAll()
})

function traces(projectId: string, count: number, time = NOW - 10_000): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({ project_id: projectId, time: time + i, resource_id: `r-${i}` }),
  )
}

/** The project's stored traces in commit order (read back through the store). */
async function storedTraces(store: Store, projectId: string): Promise<TraceRecord[]> {
  const head = await store.traces.headSeq()
  const out: TraceRecord[] = []
  for (let after = 0, guard = 0; guard < 10_000; guard++) {
    const page = await store.traces.readFrom(after, 500, { projectId, maxSeq: head })
    if (page.length === 0) return out
    out.push(...page.map((s) => s.trace))
    after = page.at(-1)?.seq ?? after
  }
  throw new Error('readFrom did not end')
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

/** A plain client on the store's database (edits behind the store's back, catalog reads). */
async function sql<R extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client(connectionConfig(url))
  await client.connect()
  try {
    return (await client.query<R>(text, params)).rows
  } finally {
    await client.end()
  }
}

describe('PostgreSQL Merkle log', () => {
  it('appends every new trace of every project in commit order, duplicates skipped', async () => {
    let store = (await logged.open()) as PostgresStore
    try {
      const a = traces('pa', 700)
      const b = traces('pb', 301)
      const first = [...a.slice(0, 300), ...b.slice(0, 100), a[0] as TraceRecord]
      const result = await store.traces.append(first)
      assert.equal(result.inserted.length, 400)
      assert.deepEqual(result.duplicates, [a[0]?.trace_id])
      assert.equal(result.leafIndexes.get(a[299]?.trace_id ?? ''), 299)
      await store.traces.append([...b.slice(50, 301), ...a.slice(250, 333)])
      await checkLog(store, 'pa', 333)
      await checkLog(store, 'pb', 301)

      // Traces appended in another transaction (a configuration change's audit) are leaves too.
      const audit = traces('pa', 2)
      const db = new PgDatabase(store.pool)
      // Through a plain executor (not the driver's client): the rows go by UNNEST, not COPY.
      const inTx = await db.transaction((tx) =>
        store.traces.appendIn({ query: (text, params) => tx.query(text, params) }, audit),
      )
      assert.deepEqual(
        inTx.inserted,
        audit.map((t) => t.trace_id),
      )
      assert.equal(await store.merkle.leafIndexOf('pa', audit[1]?.trace_id ?? ''), 334)
      await checkLog(store, 'pa', 335)

      store = (await logged.reopen?.(store)) as PostgresStore
      await checkLog(store, 'pa', 335)
      for (let start = 333; start < 700; start += 97)
        await store.traces.append(a.slice(start, start + 97))
      await checkLog(store, 'pa', 702)
      await checkLog(store, 'pb', 301)
      assert.equal(await store.merkle.treeSize('nobody'), 0)
      assert.equal(await store.merkle.leafIndexOf('pb', a[0]?.trace_id ?? ''), undefined)

      // Every complete subtree is stored once: 2n - popcount(n) rows.
      const url = logged.urlOf(store)
      const count = async (p: string): Promise<number> =>
        (
          await sql<{ n: number }>(
            url,
            'SELECT count(*)::int AS n FROM merkle_nodes WHERE project_id = $1',
            [p],
          )
        )[0]?.n ?? -1
      assert.equal(await count('pa'), 2 * 702 - (702).toString(2).replaceAll('0', '').length)
      assert.equal(await count('pb'), 2 * 301 - (301).toString(2).replaceAll('0', '').length)

      // Proofs read through the synchronous reader equal the in-memory tree's.
      const memory = new MemoryTree()
      for (const t of await storedTraces(store, 'pa')) memory.append(traceLeaf(t))
      for (const [index, size] of [
        [0, 1],
        [5, 333],
        [700, 702],
        [334, 600],
      ] as const) {
        const proof = await store.merkle.withNodes('pa', (node) =>
          inclusionProof(index, size, node),
        )
        assert.deepEqual(
          proof.map((h) => h.toString('hex')),
          memory.inclusionProof(index, size).map((h) => h.toString('hex')),
        )
      }
      await assert.rejects(
        store.merkle.withNodes('pa', (node) => node(0, 702)),
        { code: 'OCTS_ERR_READ_FAILED' },
        'a subtree that is not stored is a read failure',
      )
      const leaf = await store.merkle.leafAt('pa', 334)
      assert.equal(leaf?.trace.trace_id, audit[1]?.trace_id)
      assert.equal((await store.merkle.leafOf('pa', audit[1]?.trace_id ?? ''))?.leafIndex, 334)
      assert.deepEqual(
        await store.merkle.storedLeafHash('pa', 334),
        await store.merkle.withNodes('pa', (node) => node(0, 334)),
      )
    } finally {
      await store.close()
    }
  })

  it('stores every character COPY escapes, unchanged', async () => {
    const store = await logged.open()
    try {
      const odd = makeTrace({
        time: NOW - 5,
        resource_name: 'tab\there\\back\\N\nnew\rret',
        request: '\\N',
        user_name: '\\N',
      })
      const plainNull = makeTrace({ time: NOW - 4, user_name: null, resource_id: null })
      await store.traces.append([odd, plainNull, ...traces('p1', 70)])
      assert.deepEqual(await store.traces.get('p1', odd.trace_id), odd)
      assert.deepEqual(await store.traces.get('p1', plainNull.trace_id), plainNull)
      const page = await store.traces.page(
        { projectId: 'p1', from: 0, to: NOW, category: 'system', userName: '\\N' },
        null,
        10,
      )
      assert.deepEqual(
        page.traces.map((t) => t.trace_id),
        [odd.trace_id],
        'a text that reads \\N is not NULL',
      )
      await checkLog(store, 'p1', 72)
    } finally {
      await store.close()
    }
  })

  it('serves a node reader whose reads depend on the hashes it read', async () => {
    const store = await logged.open()
    try {
      await store.traces.append(traces('p1', 300))
      const memory = new MemoryTree()
      for (const t of await storedTraces(store, 'p1')) memory.append(traceLeaf(t))
      // Each read picks the next leaf from the previous hash: six rounds of fetches.
      const walk = (node: (level: number, index: number) => Buffer): number[] => {
        const seen = [7]
        for (let i = 0; i < 5; i++) seen.push((node(0, seen.at(-1) ?? 0)[0] ?? 0) % 300)
        return seen
      }
      assert.deepEqual(await store.merkle.withNodes('p1', walk), walk(memory.node))
    } finally {
      await store.close()
    }
  })

  it('is off without MerkleHashing: size 0, no leaf index, no subtree', async () => {
    const store = await plain.open()
    try {
      const batch = traces('p1', 10)
      const result = await store.traces.append(batch)
      assert.equal(result.leafIndexes.size, 0)
      assert.equal(await store.merkle.treeSize('p1'), 0)
      assert.equal(await store.merkle.leafIndexOf('p1', batch[0]?.trace_id ?? ''), undefined)
      assert.equal(await store.merkle.withNodes('p1', (_node, size) => size), 0)
      const rows = await sql<{ n: number }>(
        plain.urlOf(store),
        'SELECT count(*)::int AS n FROM merkle_nodes',
      )
      assert.equal(rows[0]?.n, 0)
    } finally {
      await store.close()
    }
  })
})

/** Seals nothing (the test's log key needs no secrecy). */
const PLAIN_SEALER: Sealer = {
  seal: (plaintext, boundTo) => `${boundTo}:${plaintext}`,
  open: (sealed, boundTo) => sealed.slice(boundTo.length + 1),
}

async function partitions(url: string): Promise<string[]> {
  return (
    await sql<{ name: string }>(
      url,
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'traces'::regclass ORDER BY 1`,
    )
  ).map((r) => r.name)
}

describe('PostgreSQL traces: partitions, nodes, read-only audit', () => {
  it('counts activity and pages filters as the SQLite engine does', async () => {
    const pgStore = await plain.open()
    const liteStore = await sqlite.open()
    try {
      const ratings = ['normal', 'warning', 'incident'] as const
      const batch = Array.from({ length: 200 }, (_, i) =>
        makeTrace({
          time: NOW - 100_000 + i * 400,
          trace_rating: ratings[i % 3] ?? 'normal',
          service_type: ['ECS', 'IMS', 'ecs', 'VPC'][i % 4] ?? 'ECS',
          trace_name: ['create', 'Delete', 'delete'][i % 3] ?? 'create',
          user_name: i % 5 === 0 ? null : `u${i % 7}`,
          resource_id: `r${i % 11}`,
        }),
      )
      for (const store of [pgStore, liteStore]) {
        await store.traces.append(batch.slice(0, 120))
        await store.traces.append(batch.slice(100))
      }
      const filter = { projectId: 'p1', from: NOW - 90_000, to: NOW, category: 'system' } as const
      for (const f of [filter, { ...filter, serviceType: 'ECS' }, { ...filter, resourceId: 'r3' }])
        assert.deepEqual(
          await pgStore.traces.activity(f, NOW - 95_000, 7_000, 5),
          await liteStore.traces.activity(f, NOW - 95_000, 7_000, 5),
        )
      for (const f of [
        filter,
        { ...filter, userName: 'u3' },
        { ...filter, traceRating: 'warning' as const },
      ]) {
        const ids = async (store: Store): Promise<string[]> => {
          const out: string[] = []
          let after: { traceId: string } | null = null
          for (let guard = 0; guard < 100; guard++) {
            const page: Awaited<ReturnType<Store['traces']['page']>> = await store.traces.page(
              f,
              after,
              9,
            )
            out.push(...page.traces.map((t) => t.trace_id))
            const last = page.traces.at(-1)
            if (!page.hasMore || last === undefined) break
            after = { traceId: last.trace_id }
          }
          return out
        }
        assert.deepEqual(await ids(pgStore), await ids(liteStore))
      }
      assert.deepEqual(
        await pgStore.traces.operators('p1', 0),
        await liteStore.traces.operators('p1', 0),
      )
      assert.deepEqual(await pgStore.traces.catalogue('p1'), await liteStore.traces.catalogue('p1'))
    } finally {
      await liteStore.close()
      await pgStore.close()
    }
  })

  it('creates a day partition for every day of a batch and drops whole days on purge', async () => {
    const store = (await plain.open()) as PostgresStore
    const url = plain.urlOf(store)
    const other = await openPostgresStore({ url, nodeName: 'other' })
    try {
      const day = (n: number): number => Math.floor(NOW / DAY_MS) - n
      const old = [
        ...traces('p1', 3, (day(10) + 0.5) * DAY_MS),
        ...traces('p2', 2, (day(9) + 0.5) * DAY_MS),
      ]
      const fresh = traces('p1', 2, NOW - 10)
      await store.traces.append([...old, ...fresh])
      assert.deepEqual(await partitions(url), [
        `traces_day_${day(10)}`,
        `traces_day_${day(9)}`,
        `traces_day_${day(0)}`,
      ])
      const head = await store.traces.headSeq()
      // A budget below a day's keys deletes that many keys; the day goes once its keys are gone.
      assert.equal(await store.traces.purgeBefore(NOW - 8 * DAY_MS, 2), 2)
      assert.equal((await partitions(url)).length, 3)
      assert.equal(await store.traces.purgeBefore(NOW - 8 * DAY_MS, 100), 3)
      assert.deepEqual(await partitions(url), [`traces_day_${day(0)}`], 'old days dropped')
      assert.equal(await store.traces.purgeBefore(NOW - 8 * DAY_MS, 100), 0)
      assert.equal(await store.traces.headSeq(), head, 'the head survives the drop')
      for (const t of old) assert.equal(await store.traces.get(t.project_id, t.trace_id), undefined)
      const keys = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM trace_keys')
      assert.equal(keys[0]?.n, 2, 'the idempotency keys of purged traces are gone')

      // The day the boundary falls in is kept whole until it has passed; a passed day goes at once,
      // its rows with the partition, whatever the budget left for the keys' deletes.
      const boundary = traces('p4', 3, (day(8) + 0.25) * DAY_MS)
      const passed = traces('p4', 40, (day(9) + 0.25) * DAY_MS)
      await store.traces.append([...boundary, ...passed])
      const cutoff = (day(8) + 0.75) * DAY_MS
      assert.equal(await store.traces.purgeBefore(cutoff, 100), 40)
      assert.deepEqual(await partitions(url), [`traces_day_${day(8)}`, `traces_day_${day(0)}`])
      for (const t of boundary)
        assert.ok(await store.traces.get(t.project_id, t.trace_id), 'the boundary day is kept')
      const rows = await sql<{ n: number }>(
        url,
        `SELECT count(*)::int AS n FROM traces WHERE project_id = 'p4'`,
      )
      assert.equal(rows[0]?.n, 3, 'the passed day went with its partition')
      assert.equal(await store.traces.purgeBefore((day(7) + 0.01) * DAY_MS, 100), 3)
      assert.deepEqual(await partitions(url), [`traces_day_${day(0)}`])

      // Another node dropped a day this one has cached: the append recreates it.
      await other.traces.append(traces('p3', 1, (day(20) + 0.5) * DAY_MS))
      assert.equal(await store.traces.purgeBefore(NOW - 8 * DAY_MS, 100), 1)
      const again = traces('p3', 2, (day(20) + 0.5) * DAY_MS)
      assert.deepEqual(
        (await other.traces.append(again)).inserted,
        again.map((t) => t.trace_id),
      )
      assert.ok((await other.traces.headSeq()) > head)
    } finally {
      await other.close()
      await store.close()
    }
  })

  it('wakes other nodes at the commit of an append that stored traces', async () => {
    const fresh = await plain.open()
    const url = plain.urlOf(fresh)
    await fresh.close()
    const store = await openPostgresStore({ url, nodeName: 'n1' })
    const listener = new pg.Client(connectionConfig(url))
    try {
      await listener.connect()
      const heard: string[] = []
      listener.on('notification', (n) => heard.push(`${n.channel}:${n.payload ?? ''}`))
      await listener.query(`LISTEN ${COMMIT_CHANNEL}`)
      const batch = traces('p1', 3)
      await store.traces.append(batch)
      await store.traces.append(batch)
      // A round trip on the listener delivers what the server sent before it.
      for (let i = 0; i < 50 && heard.length === 0; i++) {
        await listener.query('SELECT 1')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await listener.query('SELECT 1')
      assert.deepEqual(heard, [`${COMMIT_CHANNEL}:n1`], 'one wake-up: the repeat stored nothing')
    } finally {
      await listener.end()
      await store.close()
    }
  })

  it('numbers the appends of two nodes in commit order: a follower misses nothing, one tree', async () => {
    const first = await logged.open()
    const url = logged.urlOf(first)
    const second = await openPostgresStore({ url, merkle: HASHING, nodeName: 'second' })
    try {
      const day = NOW - 20 * DAY_MS
      const BATCHES = 40
      const per = [3, 5]
      let done = false
      const followed: number[] = []
      const follower = (async () => {
        // Bounded in count and time: stops at the end, or after 60 s.
        const deadline = Date.now() + 60_000
        for (let cursor = 0; Date.now() < deadline;) {
          const page = await first.traces.readFrom(cursor, 50)
          for (const s of page) followed.push(s.seq)
          cursor = page.at(-1)?.seq ?? cursor
          if (page.length === 0 && done) return
        }
      })()
      const writer = (store: Store, size: number, tag: string) => async () => {
        for (let b = 0; b < BATCHES; b++)
          await store.traces.append(
            Array.from({ length: size }, (_, i) =>
              makeTrace({ project_id: 'pc', time: day + b, resource_id: `${tag}-${b}-${i}` }),
            ),
          )
      }
      // Configuration changes' audit traces, appended in their own transactions (UNNEST path).
      const db = new PgDatabase(second.pool)
      const audits = async (): Promise<void> => {
        for (let b = 0; b < BATCHES; b++)
          await db.transaction((tx) =>
            second.traces.appendIn({ query: (text, params) => tx.query(text, params) }, [
              makeTrace({ project_id: 'pc', time: day + b, resource_id: `c-${b}` }),
            ]),
          )
      }
      await Promise.all([
        writer(first, per[0] ?? 0, 'a')(),
        writer(second, per[1] ?? 0, 'b')(),
        audits(),
      ])
      done = true
      await follower
      const total = BATCHES * ((per[0] ?? 0) + (per[1] ?? 0) + 1)
      assert.deepEqual(
        followed,
        Array.from({ length: total }, (_, i) => i + 1),
        'the follower saw every seq once, in order, with no gap',
      )
      assert.equal(await second.traces.headSeq(), total)
      await checkLog(first, 'pc', total)
      await checkLog(second, 'pc', total)
    } finally {
      await second.close()
      await first.close()
    }
  })

  it('audits read-only from one snapshot, and finds a row edited with SQL', async () => {
    const store = await logged.open()
    const url = logged.urlOf(store)
    try {
      const clock = { now: () => NOW }
      const keys = new LogKeys({ store: store.merkle, sealer: PLAIN_SEALER, clock, keyName: 't' })
      const checkpointer = new Checkpointer({ store: store.merkle, keys, clock, intervalMs: 1000 })
      for (let b = 0; b < 3; b++) {
        await store.traces.append([
          ...traces('pa', 7, NOW - 10_000 + b * 10),
          ...traces('pb', 5, NOW - 10_000 + b * 10),
        ])
        assert.equal(await checkpointer.runOnce(), 2)
      }
      const readonly = await openPostgresStore({ url, readonly: true })
      try {
        // Writes after the snapshot are not seen by the audit.
        await store.traces.append(traces('pa', 4))
        const report = await auditStore(readonly.merkle, { now: NOW, pageSize: 5 })
        assert.equal(report.ok, true, JSON.stringify(report.findings))
        assert.deepEqual(
          report.projects.map((p) => [p.projectId, p.treeSize, p.logged, p.checkpoints]),
          [
            ['pa', 21, 21, 3],
            ['pb', 15, 15, 3],
          ],
        )
        await assert.rejects(readonly.traces.append([makeTrace()]), {
          code: 'OCTS_ERR_WRITE_FAILED',
        })
        await assert.rejects(readonly.traces.purgeBefore(NOW, 10), {
          code: 'OCTS_ERR_WRITE_FAILED',
        })
      } finally {
        await readonly.close()
      }

      const [doc] = await sql<{ seq: number; trace_id: string }>(
        url,
        "SELECT seq, trace_id FROM traces WHERE project_id = 'pb' ORDER BY seq LIMIT 1 OFFSET 3",
      )
      assert.ok(doc !== undefined)
      await sql(url, "UPDATE traces SET doc = replace(doc, 'ubuntu', 'debian') WHERE seq = $1", [
        doc.seq,
      ])
      const [column] = await sql<{ seq: number; trace_id: string }>(
        url,
        "SELECT seq, trace_id FROM traces WHERE project_id = 'pa' ORDER BY seq LIMIT 1 OFFSET 8",
      )
      assert.ok(column !== undefined)
      await sql(url, "UPDATE traces SET user_name = 'mallory' WHERE seq = $1", [column.seq])
      const audited = await openPostgresStore({ url, readonly: true })
      try {
        const report = await auditStore(audited.merkle, { now: NOW })
        assert.equal(report.ok, false)
        const changed = report.findings.filter((f) => f.kind === 'changed')
        assert.deepEqual(
          [...new Set(changed.map((f) => f.traceId))].sort(),
          [doc.trace_id, column.trace_id].sort(),
          JSON.stringify(report.findings),
        )
        assert.ok(
          changed.some((f) => f.traceId === doc.trace_id && /leaf hash differs/.test(f.message)),
          'the edited document is not its leaf',
        )
        assert.ok(
          changed.some((f) => f.traceId === column.trace_id && /columns disagree/.test(f.message)),
          'the edited column disagrees with the document',
        )
      } finally {
        await audited.close()
      }
    } finally {
      await store.close()
    }
  })
})
