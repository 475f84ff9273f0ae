/**
 * @module store/postgres/trace-append
 * The write path of PgTraceStore (see its module comment for the commit order): the batch's
 * documents and leaf hashes computed before the transaction (`prepareBatch`), then, in the
 * transaction, `appendLocked`: the head row lock, the keys already stored, the numbering, the new
 * Merkle subtrees (store/merkle-append), the `traces` rows by COPY and everything else in one
 * statement, with the wake-up of other nodes.
 */
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { TraceRecord } from '../../model/index.js'
import { appendLeaves, frontierKeys, nodeKey } from '../merkle-append.js'
import type { AppendResult, MerkleHashing } from '../store.js'
import { toStoreError } from './driver-errors.js'
import { COMMIT_CHANNEL, type PgExecutor } from './pg-database.js'
import { traceColumns } from '../trace-columns.js'

/** How long an append's transaction may sit idle before the server ends it (ms). */
const IDLE_IN_APPEND_MS = 30_000

/** What an append needs besides the batch. */
export interface AppendOptions {
  /** The Merkle log's hashing; undefined when the log is off. */
  readonly merkle: MerkleHashing | undefined
  /** Sent on COMMIT_CHANNEL (delivered at commit). */
  readonly nodeName: string
}

/** Batches at least this large have their leaves hashed off the event loop (when possible). */
const OFFLOAD_MIN_TRACES = 64

/** The documents and leaf hashes of a batch, computed before its transaction (batch order). */
export interface PreparedBatch {
  readonly documents: readonly string[]
  /** Undefined when the log is off. */
  readonly leafHashes: readonly Buffer[] | undefined
}

/** The columns of `traces` an append writes, in the order of `appendLocked`'s rows. */
const TRACE_INSERT_COLUMNS = `seq, trace_id, project_id, time, category, tracker_name, service_type,
  resource_type, resource_id, resource_name, trace_name, trace_rating, user_name, access_key_id,
  enterprise_project_id, doc, leaf_index, source_ip, code`

/**
 * Everything but the `traces` rows, in one statement: keys ($1 seq, $2 trace_id, $3 project_id,
 * $4 time, $5 leaf_index), nodes, sizes, operators, catalogue, the head and the wake-up of other
 * nodes (NOTIFY is delivered at commit). With `traces`, also the rows from UNNEST ($23… are the
 * columns category … doc).
 */
function writeSql(traces: boolean): string {
  const rows = traces
    ? `, t AS (
  INSERT INTO traces (${TRACE_INSERT_COLUMNS})
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $23::text[], $24::text[],
    $25::text[], $26::text[], $27::text[], $28::text[], $29::text[], $30::text[], $31::text[],
    $32::text[], $33::text[], $34::text[], $5::bigint[], $35::text[], $36::text[])
)`
    : ''
  return `
WITH k AS (
  INSERT INTO trace_keys (seq, trace_id, project_id, time, leaf_index)
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
)${rows}, n AS (
  INSERT INTO merkle_nodes (project_id, level, idx, hash)
  SELECT * FROM unnest($6::text[], $7::smallint[], $8::bigint[], $9::bytea[])
), s AS (
  INSERT INTO merkle_trees (project_id, size) SELECT * FROM unnest($10::text[], $11::bigint[])
  ON CONFLICT (project_id) DO UPDATE SET size = excluded.size
), o AS (
  INSERT INTO trace_operators (project_id, user_name, last_seen)
  SELECT * FROM unnest($12::text[], $13::text[], $14::bigint[])
  ON CONFLICT (project_id, user_name)
  DO UPDATE SET last_seen = greatest(trace_operators.last_seen, excluded.last_seen)
), c AS (
  INSERT INTO trace_catalogue (project_id, service_type, resource_type, trace_name, last_seen)
  SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::text[], $19::bigint[])
  ON CONFLICT (project_id, service_type, resource_type, trace_name)
  DO UPDATE SET last_seen = greatest(trace_catalogue.last_seen, excluded.last_seen)
), h AS (
  UPDATE trace_head SET seq = $20 WHERE id = 1
)
SELECT pg_notify($21, $22)`
}

const WRITE_SQL = writeSql(false)
const WRITE_WITH_TRACES_SQL = writeSql(true)

/** A value in COPY's text format. */
function copyText(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N'
  return String(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  )
}

/** Rows per chunk written to the COPY stream. */
const COPY_CHUNK_ROWS = 256

/**
 * Writes the rows (TRACE_INSERT_COLUMNS order) with COPY FROM STDIN: 1,000 rows take about 40 %
 * less time than one INSERT … SELECT FROM unnest (see README.md), time spent under the head lock.
 */
async function copyTraces(
  client: pg.ClientBase,
  rows: readonly (readonly (string | number | null | undefined)[])[],
): Promise<void> {
  const chunks = function* (): Generator<string> {
    for (let at = 0; at < rows.length; at += COPY_CHUNK_ROWS)
      yield rows
        .slice(at, at + COPY_CHUNK_ROWS)
        .map((row) => `${row.map(copyText).join('\t')}\n`)
        .join('')
  }
  await pipeline(
    Readable.from(chunks()),
    client.query(copyFrom(`COPY traces (${TRACE_INSERT_COLUMNS}) FROM STDIN`)),
  )
}

/** Documents and leaf hashes, before any transaction (large batches hashed off the loop). */
export async function prepareBatch(
  traces: readonly TraceRecord[],
  hashing: MerkleHashing | undefined,
): Promise<PreparedBatch> {
  try {
    if (hashing === undefined)
      return { documents: traces.map((t) => JSON.stringify(t)), leafHashes: undefined }
    const documents = traces.map((t) => hashing.document(t))
    const leafHashes =
      hashing.leafHashes !== undefined && traces.length >= OFFLOAD_MIN_TRACES
        ? await hashing.leafHashes(documents)
        : documents.map((d) => hashing.leafHash(d))
    return { documents, leafHashes }
  } catch (error) {
    throw toStoreError('write', error)
  }
}

/** The append under the head lock (see the module comment); `tx` is in a transaction. */
export async function appendLocked(
  tx: PgExecutor,
  traces: readonly TraceRecord[],
  prepared: PreparedBatch,
  options: AppendOptions,
): Promise<AppendResult> {
  // A node that stops between statements (paused, cut off) must not hold every node's appends
  // for long: the server ends its transaction, releasing the head lock.
  await tx.query(`SET LOCAL idle_in_transaction_session_timeout = ${IDLE_IN_APPEND_MS}`)
  const locked = await tx.query<{ seq: number }>(
    'SELECT seq FROM trace_head WHERE id = 1 FOR UPDATE',
  )
  let seq = locked.rows[0]?.seq
  if (seq === undefined) throw new Error('trace_head has no row')
  // The first occurrence of each (project, id) of the batch; later ones are duplicates.
  const key = (t: Pick<TraceRecord, 'project_id' | 'trace_id'>): string =>
    `${t.project_id}\u0000${t.trace_id}`
  const first = new Map<string, number>()
  for (const [i, t] of traces.entries()) if (!first.has(key(t))) first.set(key(t), i)
  const candidates = [...first.values()].map((i) => traces[i] as TraceRecord)
  // Under the lock no other append can store one of these keys before this one commits.
  const existing = await tx.query<{
    project_id: string
    trace_id: string
    leaf_index: number | null
  }>(
    `SELECT k.project_id, k.trace_id, k.leaf_index FROM trace_keys k
     JOIN unnest($1::text[], $2::text[]) AS b (project_id, trace_id) USING (project_id, trace_id)`,
    [candidates.map((t) => t.project_id), candidates.map((t) => t.trace_id)],
  )
  const stored = new Map(existing.rows.map((r) => [key(r), r.leaf_index]))
  const hashing = options.merkle
  const trees = new Map<string, { from: number; leaves: Buffer[] }>()
  if (hashing !== undefined) {
    const projects = [
      ...new Set(candidates.filter((t) => !stored.has(key(t))).map((t) => t.project_id)),
    ]
    const sizes =
      projects.length === 0
        ? []
        : (
            await tx.query<{ project_id: string; size: number }>(
              'SELECT project_id, size FROM merkle_trees WHERE project_id = ANY($1::text[])',
              [projects],
            )
          ).rows
    const size = new Map(sizes.map((r) => [r.project_id, r.size]))
    for (const p of projects) trees.set(p, { from: size.get(p) ?? 0, leaves: [] })
  }

  const inserted: string[] = []
  const duplicates: string[] = []
  const leafIndexes = new Map<string, number | null>()
  const rows: (string | number | null | undefined)[][] = []
  const operators = new Map<string, [string, string, number]>()
  const catalogue = new Map<string, [string, string, string, string, number]>()
  for (const [i, t] of traces.entries()) {
    const k = key(t)
    if (first.get(k) !== i || stored.has(k)) {
      duplicates.push(t.trace_id)
      if (hashing !== undefined && !leafIndexes.has(t.trace_id))
        leafIndexes.set(t.trace_id, stored.get(k) ?? null)
      continue
    }
    seq++
    let leaf: number | null = null
    const tree = trees.get(t.project_id)
    if (tree !== undefined) {
      leaf = tree.from + tree.leaves.length
      tree.leaves.push(prepared.leafHashes?.[i] as Buffer)
      leafIndexes.set(t.trace_id, leaf)
    }
    rows.push([seq, ...traceColumns(t), prepared.documents[i], leaf, t.source_ip, t.code])
    inserted.push(t.trace_id)
    if (t.user_name !== null) {
      const ok = `${t.project_id}\u0000${t.user_name}`
      const prev = operators.get(ok)
      if (prev === undefined || prev[2] < t.time)
        operators.set(ok, [t.project_id, t.user_name, t.time])
    }
    const ck = `${t.project_id}\u0000${t.service_type}\u0000${t.resource_type}\u0000${t.trace_name}`
    const prev = catalogue.get(ck)
    if (prev === undefined || prev[4] < t.time)
      catalogue.set(ck, [t.project_id, t.service_type, t.resource_type, t.trace_name, t.time])
  }
  if (inserted.length === 0) return { inserted, duplicates, leafIndexes }

  const nodes = await merkleNodes(tx, trees, hashing)
  const column = <T>(rows: readonly (readonly unknown[])[], c: number): T[] =>
    rows.map((r) => r[c] as T)
  const ops = [...operators.values()]
  const cat = [...catalogue.values()]
  const sizes = [...trees].filter(([, tree]) => tree.leaves.length > 0)
  // rows: seq, trace_id, project_id, time, category … doc (traceColumns order), leaf_index,
  // source_ip, code.
  const params = [
    column<number>(rows, 0),
    column<string>(rows, 1),
    column<string>(rows, 2),
    column<number>(rows, 3),
    column<number | null>(rows, 16),
    column<string>(nodes, 0),
    column<number>(nodes, 1),
    column<number>(nodes, 2),
    column<Buffer>(nodes, 3),
    sizes.map(([p]) => p),
    sizes.map(([, tree]) => tree.from + tree.leaves.length),
    column<string>(ops, 0),
    column<string>(ops, 1),
    column<number>(ops, 2),
    column<string>(cat, 0),
    column<string>(cat, 1),
    column<string>(cat, 2),
    column<string>(cat, 3),
    column<number>(cat, 4),
    seq,
    COMMIT_CHANNEL,
    options.nodeName,
  ]
  // COPY needs the driver's client (a pool client always is one); else the rows go by UNNEST.
  if (tx instanceof pg.Client) {
    await copyTraces(tx, rows)
    await tx.query(WRITE_SQL, params)
  } else
    await tx.query(WRITE_WITH_TRACES_SQL, [
      ...params,
      ...Array.from({ length: 12 }, (_, c) => column<string | null>(rows, 4 + c)),
      column<string | null>(rows, 17),
      column<string | null>(rows, 18),
    ])
  return { inserted, duplicates, leafIndexes }
}

/** Reads each tree's frontier in one query and computes the new subtrees `[p, level, idx, hash]`. */
async function merkleNodes(
  tx: PgExecutor,
  trees: ReadonlyMap<string, { from: number; leaves: Buffer[] }>,
  hashing: MerkleHashing | undefined,
): Promise<[string, number, number, Buffer][]> {
  if (hashing === undefined) return []
  const want: [string, number, number][] = []
  for (const [p, tree] of trees)
    if (tree.leaves.length > 0)
      for (const [level, index] of frontierKeys(tree.from)) want.push([p, level, index])
  const frontiers = new Map<string, Map<string, Buffer>>()
  if (want.length > 0) {
    const rows = await tx.query<{ project_id: string; level: number; idx: number; hash: Buffer }>(
      `SELECT n.project_id, n.level, n.idx, n.hash FROM merkle_nodes n
       JOIN unnest($1::text[], $2::smallint[], $3::bigint[]) AS f (project_id, level, idx)
       USING (project_id, level, idx)`,
      [want.map((w) => w[0]), want.map((w) => w[1]), want.map((w) => w[2])],
    )
    for (const r of rows.rows) {
      let frontier = frontiers.get(r.project_id)
      if (frontier === undefined) {
        frontier = new Map()
        frontiers.set(r.project_id, frontier)
      }
      frontier.set(nodeKey(r.level, r.idx), r.hash)
    }
  }
  const out: [string, number, number, Buffer][] = []
  for (const [p, tree] of trees) {
    if (tree.leaves.length === 0) continue
    const { nodes } = appendLeaves(
      hashing,
      tree.from,
      frontiers.get(p) ?? new Map(),
      tree.leaves,
      p,
    )
    for (const [level, index, hash] of nodes) out.push([p, level, index, hash])
  }
  return out
}
