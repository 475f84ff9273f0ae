/**
 * @module store/postgres/postgres-merkle-store
 * MerkleLogStore on PostgreSQL: sizes, nodes, checkpoints, keys and audit reads (the appends are
 * made by PgTraceStore, in the transaction that stores the traces).
 *
 * `withNodes` gives `fn` a synchronous node reader although the database is asynchronous: `fn`
 * runs once with a recording reader (a node not yet read is recorded and read as a placeholder),
 * the recorded nodes are fetched in one query, and `fn` runs again; its result is returned from
 * the first run that read only fetched nodes. The callers (proofs, roots, the audit) read nodes by
 * index and size only, so that is the second run; a reader whose reads depended on hashes would
 * take more rounds (bounded). `fn` must therefore be free of effects, or of effects that depend on
 * a hash (a placeholder is 32 zero bytes, the hash of no leaf). Nodes are never updated and the
 * size only grows, so reading the size first and the nodes after is consistent.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import { nodeKey } from '../merkle-append.js'
import type {
  AuditRow,
  LogKeyRecord,
  MerkleLogStore,
  MerkleNodeReader,
  StoredCheckpoint,
  StoredLeaf,
} from '../store.js'
import type { PgDatabase } from './pg-database.js'
import type { PgReader } from './pg-snapshot.js'
import { columnsMatch, TRACE_COLUMNS } from '../trace-columns.js'
import { checkpointOf, type CheckpointRow } from '../rows.js'

/** Runs of `fn` at most per `withNodes` (each but the last fetches at least one new node). */
const MAX_ROUNDS = 64

const notStored = (projectId: string, level: number, index: number): OpenCtsError =>
  new OpenCtsError('OCTS_ERR_READ_FAILED', {
    message: `Merkle node (level ${level}, index ${index}) of project ${projectId} is not stored`,
  })

export interface PgMerkleStoreOptions {
  /** Reads go through this (the snapshot of a read-only store); default the database. */
  readonly reader?: PgReader
  /** Every write fails with OCTS_ERR_WRITE_FAILED. */
  readonly readonly?: boolean
}

export class PgMerkleStore implements MerkleLogStore {
  /** Every level is stored, the leaf hashes included. */
  readonly minStoredLevel = 0
  readonly #db: PgDatabase
  readonly #reader: PgReader
  readonly #readonly: boolean

  constructor(db: PgDatabase, options: PgMerkleStoreOptions = {}) {
    this.#db = db
    this.#reader = options.reader ?? db
    this.#readonly = options.readonly === true
  }

  #writable(): void {
    if (this.#readonly)
      throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', { message: 'the store is open read-only' })
  }

  async treeSize(projectId: string): Promise<number> {
    const rows = await this.#reader.query<{ size: number }>(
      'read',
      'SELECT size FROM merkle_trees WHERE project_id = $1',
      [projectId],
    )
    return rows[0]?.size ?? 0
  }

  async withNodes<T>(
    projectId: string,
    fn: (node: MerkleNodeReader, size: number) => T,
  ): Promise<T> {
    const size = await this.treeSize(projectId)
    /** Fetched nodes; null for one that is not stored. */
    const known = new Map<string, Buffer | null>()
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const missing = new Map<string, [number, number]>()
      const node: MerkleNodeReader = (level, index) => {
        if (!Number.isSafeInteger(level) || level < 0 || level > 62)
          throw notStored(projectId, level, index)
        if (!Number.isSafeInteger(index) || index < 0) throw notStored(projectId, level, index)
        const key = nodeKey(level, index)
        const hash = known.get(key)
        if (hash === null) throw notStored(projectId, level, index)
        if (hash !== undefined) return hash
        missing.set(key, [level, index])
        return Buffer.alloc(32)
      }
      let result: { value: T } | { error: unknown }
      try {
        result = { value: fn(node, size) }
      } catch (error) {
        result = { error }
      }
      if (missing.size === 0) {
        if ('error' in result) throw result.error
        return result.value
      }
      const want = [...missing.values()]
      const rows = await this.#reader.query<{ level: number; idx: number; hash: Buffer }>(
        'read',
        `SELECT n.level, n.idx, n.hash FROM merkle_nodes n
         JOIN unnest($2::smallint[], $3::bigint[]) AS f (level, idx) USING (level, idx)
         WHERE n.project_id = $1`,
        [projectId, want.map((w) => w[0]), want.map((w) => w[1])],
      )
      for (const key of missing.keys()) known.set(key, null)
      for (const r of rows) known.set(nodeKey(r.level, r.idx), r.hash)
    }
    throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
      message: `the node reads of project ${projectId} did not settle in ${MAX_ROUNDS} rounds`,
    })
  }

  async leafIndexOf(projectId: string, traceId: string): Promise<number | undefined> {
    const rows = await this.#reader.query<{ leaf_index: number | null }>(
      'read',
      'SELECT leaf_index FROM trace_keys WHERE project_id = $1 AND trace_id = $2',
      [projectId, traceId],
    )
    return rows[0]?.leaf_index ?? undefined
  }

  async leafOf(projectId: string, traceId: string): Promise<StoredLeaf | undefined> {
    const rows = await this.#reader.query<{ leaf_index: number | null; doc: string }>(
      'read',
      `SELECT t.leaf_index, t.doc FROM trace_keys k JOIN traces t
         ON t.project_id = k.project_id AND t.time = k.time AND t.seq = k.seq
       WHERE k.project_id = $1 AND k.trace_id = $2`,
      [projectId, traceId],
    )
    const row = rows[0]
    if (row === undefined || row.leaf_index === null) return undefined
    return {
      leafIndex: row.leaf_index,
      trace: JSON.parse(row.doc) as TraceRecord,
      document: row.doc,
    }
  }

  async leafAt(projectId: string, leafIndex: number): Promise<StoredLeaf | undefined> {
    const rows = await this.#reader.query<{ doc: string }>(
      'read',
      `SELECT t.doc FROM trace_keys k JOIN traces t
         ON t.project_id = k.project_id AND t.time = k.time AND t.seq = k.seq
       WHERE k.project_id = $1 AND k.leaf_index = $2`,
      [projectId, leafIndex],
    )
    const row = rows[0]
    if (row === undefined) return undefined
    return { leafIndex, trace: JSON.parse(row.doc) as TraceRecord, document: row.doc }
  }

  async uncheckpointed(): Promise<{ projectId: string; size: number }[]> {
    const rows = await this.#reader.query<{ project_id: string; size: number }>(
      'read',
      `SELECT t.project_id, t.size FROM merkle_trees t
       WHERE t.size > coalesce(
         (SELECT max(c.size) FROM merkle_checkpoints c WHERE c.project_id = t.project_id), 0)
       ORDER BY t.project_id COLLATE "C"`,
    )
    return rows.map((r) => ({ projectId: r.project_id, size: r.size }))
  }

  async saveCheckpoint(cp: StoredCheckpoint): Promise<void> {
    this.#writable()
    await this.#db.query(
      'write',
      `INSERT INTO merkle_checkpoints (project_id, size, root, time, note)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, size) DO NOTHING`,
      [cp.projectId, cp.size, cp.root, cp.time, cp.note],
    )
  }

  async latestCheckpoint(projectId: string): Promise<StoredCheckpoint | undefined> {
    const rows = await this.#reader.query<CheckpointRow>(
      'read',
      'SELECT * FROM merkle_checkpoints WHERE project_id = $1 ORDER BY size DESC LIMIT 1',
      [projectId],
    )
    return rows[0] === undefined ? undefined : checkpointOf(rows[0])
  }

  async checkpointAt(projectId: string, size: number): Promise<StoredCheckpoint | undefined> {
    const rows = await this.#reader.query<CheckpointRow>(
      'read',
      'SELECT * FROM merkle_checkpoints WHERE project_id = $1 AND size = $2',
      [projectId, size],
    )
    return rows[0] === undefined ? undefined : checkpointOf(rows[0])
  }

  async listCheckpoints(
    projectId: string,
    afterSize: number,
    limit: number,
  ): Promise<StoredCheckpoint[]> {
    const rows = await this.#reader.query<CheckpointRow>(
      'read',
      `SELECT * FROM merkle_checkpoints WHERE project_id = $1 AND size > $2
       ORDER BY size LIMIT $3`,
      [projectId, afterSize, limit],
    )
    return rows.map(checkpointOf)
  }

  async logProjects(): Promise<string[]> {
    const rows = await this.#reader.query<{ project_id: string }>(
      'read',
      'SELECT project_id FROM merkle_trees WHERE size > 0 ORDER BY project_id COLLATE "C"',
    )
    return rows.map((r) => r.project_id)
  }

  async thinCheckpoints(before: number, spanMs: number): Promise<number> {
    this.#writable()
    if (!Number.isSafeInteger(spanMs) || spanMs < 1) throw new RangeError(`bad span ${spanMs}`)
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH d AS (
         DELETE FROM merkle_checkpoints c WHERE c.time < $1 AND c.size NOT IN (
           SELECT max(k.size) FROM merkle_checkpoints k
           WHERE k.project_id = c.project_id AND k.time < $1
           GROUP BY k.time / $2::bigint)
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [before, spanMs],
    )
    return rows[0]?.n ?? 0
  }

  async insertLogKey(key: LogKeyRecord): Promise<void> {
    this.#writable()
    const rows = await this.#db.query(
      'write',
      `INSERT INTO log_keys (key_id, key_name, public_key, sealed_private_key, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key_id) DO NOTHING RETURNING key_id`,
      [key.keyId, key.keyName, key.publicKey, key.sealedPrivateKey, key.createdAt],
    )
    if (rows.length === 0)
      throw new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
        message: `a checkpoint key with id ${key.keyId} exists`,
      })
  }

  async listLogKeys(): Promise<LogKeyRecord[]> {
    const rows = await this.#reader.query<{
      key_id: string
      key_name: string
      public_key: string
      sealed_private_key: string
      created_at: number
    }>('read', 'SELECT * FROM log_keys ORDER BY created_at, ord')
    return rows.map((r) => ({
      keyId: r.key_id,
      keyName: r.key_name,
      publicKey: r.public_key,
      sealedPrivateKey: r.sealed_private_key,
      createdAt: r.created_at,
    }))
  }

  async auditRows(afterSeq: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.#reader.query(
      'read',
      `SELECT seq, ${TRACE_COLUMNS.join(', ')}, doc, leaf_index FROM traces
       WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    )
    return rows.map((row) => ({
      seq: row.seq as number,
      projectId: row.project_id as string,
      traceId: row.trace_id as string,
      leafIndex: (row.leaf_index as number | null) ?? null,
      document: row.doc as string,
      columnsMatch: columnsMatch(row, row.doc as string),
    }))
  }

  async storedLeafHash(projectId: string, leafIndex: number): Promise<Buffer | undefined> {
    const rows = await this.#reader.query<{ hash: Buffer }>(
      'read',
      'SELECT hash FROM merkle_nodes WHERE project_id = $1 AND level = 0 AND idx = $2',
      [projectId, leafIndex],
    )
    return rows[0]?.hash
  }
}
