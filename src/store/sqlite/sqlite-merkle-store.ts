/**
 * @module store/sqlite/sqlite-merkle-store
 * The per-project Merkle log on SQLite: `merkle_trees` (size per project) and `merkle_nodes` (the
 * hash of every complete subtree of MERKLE_MIN_STORED_LEVEL (4) and above; the lower ones are
 * recomputed from the stored documents, see store/sqlite/merkle-low-levels). `MerkleAppender`
 * appends the newly stored traces of a batch inside the batch's transaction; `SqliteMerkleStore`
 * reads sizes and nodes for proofs. The documents of a leaf range come from a `LeafDocuments`
 * hook (here over the `traces` table).
 */
import { OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import type {
  AuditRow,
  LogKeyRecord,
  MerkleHashing,
  MerkleLogStore,
  MerkleNodeReader,
  StoredCheckpoint,
  StoredLeaf,
} from '../store.js'
import { appendLeaves, frontierKeys, nodeKey } from '../merkle-append.js'
import { MERKLE_MIN_STORED_LEVEL } from './blocks/block-schema.js'
import {
  GROUP_LEAVES,
  groupNodes,
  lowLevelReader,
  nextTail,
  TailCache,
  type LeafDocuments,
} from './merkle-low-levels.js'
import { run } from './driver-errors.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'
import { columnsMatch } from '../trace-columns.js'
import type { BlockTraceStore } from './blocks/block-trace-store.js'
import { filterKeys, type BlockEntry } from './blocks/block-codec.js'
import type { BlockMeta } from './blocks/block-directory.js'
import { bloomMayContain } from './blocks/bloom.js'
import { checkpointOf, type CheckpointRow } from '../rows.js'

const SELECT_SIZE_SQL = 'SELECT size FROM merkle_trees WHERE project_id = ?'
const SELECT_NODE_SQL =
  'SELECT hash FROM merkle_nodes WHERE project_id = ? AND level = ? AND idx = ?'
/** Node rows written per INSERT statement (4 parameters each). */
const NODE_ROWS_PER_INSERT = 128

function insertNodesSql(rows: number): string {
  return `INSERT INTO merkle_nodes (project_id, level, idx, hash) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}`
}

/** A reader of the levels below the stored ones when the store was opened without the hashing. */
const NO_LOW_LEVELS = (): Buffer => {
  throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
    message: `Merkle nodes below level ${MERKLE_MIN_STORED_LEVEL} are recomputed from the documents: open the store with the log's hashing`,
  })
}

/** A node reader over `merkle_nodes`; a missing subtree is a read failure, never a made-up hash. */
function storedNodes(select: SqliteStatement, projectId: string): MerkleNodeReader {
  return (level, index) => {
    const row = select.get(projectId, level, index) as { hash: Buffer } | undefined
    if (row === undefined)
      throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
        message: `Merkle node (level ${level}, index ${index}) of project ${projectId} is not stored`,
      })
    return row.hash
  }
}

/**
 * One batch's appends, inside its write transaction: one size read per project, the leaves of the
 * batch collected in order, and at `finish()` each project's frontier read, the new subtrees
 * computed by store/merkle-append, written in multi-row INSERTs and the size updated once.
 * Discarded with the transaction (nothing outlives a rollback).
 */
/** A project's appends in one batch, with the frontier read when the batch first touched it. */
interface BatchTree {
  readonly from: number
  readonly leaves: Buffer[]
  readonly frontier: ReturnType<MerkleAppender['frontier']>
}

export class MerkleBatch {
  readonly #appender: MerkleAppender
  readonly #trees = new Map<string, BatchTree>()

  constructor(appender: MerkleAppender) {
    this.#appender = appender
  }

  /**
   * The project's tree in this batch. Its frontier is read here, before the batch writes anything
   * of the project: the low levels are recomputed from stored documents, which a merge of small
   * blocks later in the same transaction may move to another block.
   */
  #tree(projectId: string): BatchTree {
    let tree = this.#trees.get(projectId)
    if (tree === undefined) {
      const from = this.#appender.storedSize(projectId)
      tree = { from, leaves: [], frontier: this.#appender.frontier(projectId, from) }
      this.#trees.set(projectId, tree)
    }
    return tree
  }

  /** The leaf index the project's next newly stored trace gets. */
  nextIndex(projectId: string): number {
    const tree = this.#tree(projectId)
    return tree.from + tree.leaves.length
  }

  /**
   * Appends a newly stored document as the project's next leaf (the index `nextIndex` gave);
   * `leafHash` is the document's leaf hash when already computed.
   */
  append(projectId: string, document: string, leafHash?: Buffer): void {
    this.#tree(projectId).leaves.push(leafHash ?? this.#appender.hashing.leafHash(document))
  }

  /**
   * Writes the batch's subtrees, per project level by level in index order (each level's rows are
   * one run at the end of its key range), and the new sizes; call once, at the end of the batch.
   */
  finish(): void {
    let rows: unknown[] = []
    for (const [projectId, tree] of this.#trees) {
      if (tree.leaves.length === 0) continue
      const frontier = tree.frontier
      const { nodes, size } = appendLeaves(
        this.#appender.hashing,
        tree.from,
        frontier.nodes,
        tree.leaves,
        projectId,
      )
      this.#appender.tails.stage(projectId, nextTail(frontier.tail, tree.leaves))
      for (const [level, index, hash] of nodes) {
        if (level < MERKLE_MIN_STORED_LEVEL) continue
        rows.push(projectId, level, index, hash)
        if (rows.length === NODE_ROWS_PER_INSERT * 4) {
          this.#appender.insertNodes(rows)
          rows = []
        }
      }
      if (rows.length > 0) this.#appender.insertNodes(rows)
      rows = []
      this.#appender.setSize(projectId, size)
    }
  }
}

/**
 * The prepared statements and hashing of the append path, shared by every batch, and the tails
 * (the leaf hashes below the stored levels) of recently appended projects. After the transaction
 * of a batch (`begin`) committed, the store calls `committed()`; a rollback needs nothing (the next
 * `begin` drops what the batch staged).
 */
export class MerkleAppender {
  readonly hashing: MerkleHashing
  readonly tails = new TailCache()
  readonly #documents: LeafDocuments
  readonly #db: SqliteDatabase
  readonly #selectSize: SqliteStatement
  readonly #selectNode: SqliteStatement
  readonly #upsertSize: SqliteStatement
  readonly #insertNodes = new Map<number, SqliteStatement>()

  /** `documents` reads the stored documents of a project's leaves (the blocks). */
  constructor(db: SqliteDatabase, hashing: MerkleHashing, documents: LeafDocuments) {
    this.#db = db
    this.hashing = hashing
    this.#documents = documents
    this.#selectSize = db.prepare(SELECT_SIZE_SQL)
    this.#selectNode = db.prepare(SELECT_NODE_SQL)
    this.#upsertSize = db.prepare(
      `INSERT INTO merkle_trees (project_id, size) VALUES (?, ?)
       ON CONFLICT (project_id) DO UPDATE SET size = excluded.size`,
    )
  }

  /** Starts the appends of one batch; must be used inside the batch's write transaction. */
  begin(): MerkleBatch {
    this.tails.discard()
    return new MerkleBatch(this)
  }

  /** The transaction of the last `begin` committed: its projects' tails serve the next appends. */
  committed(): void {
    this.tails.committed()
  }

  /**
   * The frontier an append at `size` reads: the stored nodes of levels >= 4, and the nodes below
   * from the tail (cached, or recomputed from the documents), with that tail.
   */
  frontier(
    projectId: string,
    size: number,
  ): { nodes: Map<string, Buffer>; tail: { size: number; leaves: readonly Buffer[] } } {
    const stored = storedNodes(this.#selectNode, projectId)
    const nodes = new Map<string, Buffer>()
    for (const [level, index] of frontierKeys(size))
      if (level >= MERKLE_MIN_STORED_LEVEL) nodes.set(nodeKey(level, index), stored(level, index))
    const tail = this.tails.tail(this.#documents, this.hashing, projectId, size)
    const base = size - (size % GROUP_LEAVES)
    for (const [key, hash] of groupNodes(this.hashing, base, tail.leaves)) nodes.set(key, hash)
    return { nodes, tail }
  }

  storedSize(projectId: string): number {
    return (this.#selectSize.get(projectId) as { size: number } | undefined)?.size ?? 0
  }

  /** Inserts node rows given flat as `[project, level, idx, hash, …]`. */
  insertNodes(flat: readonly unknown[]): void {
    const rows = flat.length / 4
    let statement = this.#insertNodes.get(rows)
    if (statement === undefined) {
      statement = this.#db.prepare(insertNodesSql(rows))
      this.#insertNodes.set(rows, statement)
    }
    statement.run(...flat)
  }

  setSize(projectId: string, size: number): void {
    this.#upsertSize.run(projectId, size)
  }
}

/**
 * MerkleLogStore on SQLite: reads, checkpoints and keys. Appends happen in the block trace store,
 * which also finds a trace's leaf (a block's `min_leaf` + position) and its stored document.
 */
export class SqliteMerkleStore implements MerkleLogStore {
  /** Levels below 4 are recomputed from the documents (see store/sqlite/merkle-low-levels). */
  readonly minStoredLevel = MERKLE_MIN_STORED_LEVEL
  readonly #db: SqliteDatabase
  readonly #traces: BlockTraceStore
  readonly #hashing: MerkleHashing | undefined
  readonly #selectSize: SqliteStatement
  readonly #selectNode: SqliteStatement
  readonly #statements = new Map<string, SqliteStatement>()

  /**
   * `traces` finds leaves and their documents in the blocks; `hashing` recomputes the levels below
   * the stored ones (without it, reading them throws OCTS_ERR_READ_FAILED).
   */
  constructor(db: SqliteDatabase, traces: BlockTraceStore, hashing?: MerkleHashing) {
    this.#db = db
    this.#traces = traces
    this.#hashing = hashing
    this.#selectSize = db.prepare(SELECT_SIZE_SQL)
    this.#selectNode = db.prepare(SELECT_NODE_SQL)
  }

  /** A prepared statement, compiled once per SQL text. */
  #stmt(sql: string): SqliteStatement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      this.#statements.set(sql, statement)
    }
    return statement
  }

  #size(projectId: string): number {
    return (this.#selectSize.get(projectId) as { size: number } | undefined)?.size ?? 0
  }

  treeSize(projectId: string): Promise<number> {
    return run('read', () => this.#size(projectId))
  }

  withNodes<T>(projectId: string, fn: (node: MerkleNodeReader, size: number) => T): Promise<T> {
    // One read transaction: the size and every node read by `fn` come from the same snapshot.
    return run('read', () =>
      this.#db.transaction(() => {
        const size = this.#size(projectId)
        return fn(this.#reader(projectId, size), size)
      })(),
    )
  }

  /** Stored nodes of levels >= 4, recomputed ones below, for a tree of `size` leaves. */
  #reader(projectId: string, size: number): MerkleNodeReader {
    const stored = storedNodes(this.#selectNode, projectId)
    if (this.#hashing === undefined)
      return (level, index) =>
        level >= MERKLE_MIN_STORED_LEVEL ? stored(level, index) : NO_LOW_LEVELS()
    return lowLevelReader(stored, this.#traces.leafDocuments, this.#hashing, projectId, size)
  }

  leafIndexOf(projectId: string, traceId: string): Promise<number | undefined> {
    return run('read', () => {
      const at = this.#traces.locate(projectId, traceId)
      return at?.meta.minLeaf == null ? undefined : at.meta.minLeaf + at.position
    })
  }

  leafOf(projectId: string, traceId: string): Promise<StoredLeaf | undefined> {
    return run('read', () => {
      const at = this.#traces.locate(projectId, traceId)
      if (at === undefined || at.meta.minLeaf === null) return undefined
      const document = this.#traces.documentAt(at.meta, at.position)
      return {
        leafIndex: at.meta.minLeaf + at.position,
        trace: JSON.parse(document) as TraceRecord,
        document,
      }
    })
  }

  leafAt(projectId: string, leafIndex: number): Promise<StoredLeaf | undefined> {
    return run('read', () => {
      const at = this.#traces.locateLeaf(projectId, leafIndex)
      if (at === undefined) return undefined
      const document = this.#traces.documentAt(at.meta, at.position)
      return { leafIndex, trace: JSON.parse(document) as TraceRecord, document }
    })
  }

  uncheckpointed(): Promise<{ projectId: string; size: number }[]> {
    return run('read', () =>
      (
        this.#stmt(
          `SELECT t.project_id AS projectId, t.size AS size FROM merkle_trees t
           WHERE t.size > coalesce(
             (SELECT max(c.size) FROM merkle_checkpoints c WHERE c.project_id = t.project_id), 0)
           ORDER BY t.project_id`,
        ).all() as { projectId: string; size: number }[]
      ).map((r) => ({ projectId: r.projectId, size: r.size })),
    )
  }

  saveCheckpoint(cp: StoredCheckpoint): Promise<void> {
    return run('write', () => {
      this.#stmt(
        `INSERT OR IGNORE INTO merkle_checkpoints (project_id, size, root, time, note)
         VALUES (?, ?, ?, ?, ?)`,
      ).run(cp.projectId, cp.size, cp.root, cp.time, cp.note)
    })
  }

  latestCheckpoint(projectId: string): Promise<StoredCheckpoint | undefined> {
    return run('read', () => {
      const row = this.#stmt(
        'SELECT * FROM merkle_checkpoints WHERE project_id = ? ORDER BY size DESC LIMIT 1',
      ).get(projectId) as CheckpointRow | undefined
      return row === undefined ? undefined : checkpointOf(row)
    })
  }

  checkpointAt(projectId: string, size: number): Promise<StoredCheckpoint | undefined> {
    return run('read', () => {
      const row = this.#stmt(
        'SELECT * FROM merkle_checkpoints WHERE project_id = ? AND size = ?',
      ).get(projectId, size) as CheckpointRow | undefined
      return row === undefined ? undefined : checkpointOf(row)
    })
  }

  listCheckpoints(
    projectId: string,
    afterSize: number,
    limit: number,
  ): Promise<StoredCheckpoint[]> {
    return run('read', () =>
      (
        this.#stmt(
          'SELECT * FROM merkle_checkpoints WHERE project_id = ? AND size > ? ORDER BY size LIMIT ?',
        ).all(projectId, afterSize, limit) as CheckpointRow[]
      ).map(checkpointOf),
    )
  }

  logProjects(): Promise<string[]> {
    return run('read', () =>
      (
        this.#stmt(
          'SELECT project_id FROM merkle_trees WHERE size > 0 ORDER BY project_id',
        ).all() as { project_id: string }[]
      ).map((r) => r.project_id),
    )
  }

  thinCheckpoints(before: number, spanMs: number): Promise<number> {
    return run('write', () => {
      if (!Number.isSafeInteger(spanMs) || spanMs < 1) throw new RangeError(`bad span ${spanMs}`)
      return this.#stmt(
        `DELETE FROM merkle_checkpoints WHERE time < ? AND size NOT IN (
           SELECT max(k.size) FROM merkle_checkpoints k
           WHERE k.project_id = merkle_checkpoints.project_id AND k.time < ?
           GROUP BY k.time / CAST(? AS INTEGER))`,
      ).run(before, before, spanMs).changes
    })
  }

  insertLogKey(key: LogKeyRecord): Promise<void> {
    return run('write', () => {
      const exists = this.#stmt('SELECT 1 FROM log_keys WHERE key_id = ?').get(key.keyId)
      if (exists !== undefined)
        throw new OpenCtsError('OCTS_ERR_KEY_EXISTS', {
          message: `a checkpoint key with id ${key.keyId} exists`,
        })
      this.#stmt(
        `INSERT INTO log_keys (key_id, key_name, public_key, sealed_private_key, created_at)
         VALUES (?, ?, ?, ?, ?)`,
      ).run(key.keyId, key.keyName, key.publicKey, key.sealedPrivateKey, key.createdAt)
    })
  }

  listLogKeys(): Promise<LogKeyRecord[]> {
    return run('read', () =>
      (
        this.#stmt('SELECT * FROM log_keys ORDER BY created_at, rowid').all() as {
          key_id: string
          key_name: string
          public_key: string
          sealed_private_key: string
          created_at: number
        }[]
      ).map((r) => ({
        keyId: r.key_id,
        keyName: r.key_name,
        publicKey: r.public_key,
        sealedPrivateKey: r.sealed_private_key,
        createdAt: r.created_at,
      })),
    )
  }

  /**
   * `columnsMatch` also covers what queries read before the indexed values: the block row's
   * bounds and bloom must hold the trace, and the value index must list it under its resource id
   * and name, or a query skips it (a trace hidden from the API while its document, the tree and
   * the checkpoints still agree).
   */
  auditRows(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return run('read', () =>
      this.#traces.scan(afterSeq, limit).map((row) => {
        const columns = this.#traces.columnsAt(row.meta, row.position)
        return {
          seq: row.seq,
          projectId: row.meta.projectId,
          traceId: String(columns.trace_id),
          leafIndex: row.meta.minLeaf === null ? null : row.meta.minLeaf + row.position,
          document: row.document,
          columnsMatch:
            columnsMatch(columns, row.document) &&
            blockHolds(row, columns) &&
            this.#traces.valueIndexHolds(row.meta, row.position, columns),
        }
      }),
    )
  }

  /** Leaf hashes are not stored (they are recomputed from the documents): always undefined. */
  storedLeafHash(): Promise<Buffer | undefined> {
    return Promise.resolve(undefined)
  }
}

/** Whether a block row's bounds and bloom hold one of its traces (see `auditRows`). */
function blockHolds(
  row: { readonly meta: BlockMeta; readonly seq: number; readonly position: number },
  columns: Readonly<Record<string, unknown>>,
): boolean {
  const { meta } = row
  const time = columns.time
  if (typeof time !== 'number' || time < meta.minTime || time > meta.maxTime) return false
  if (row.seq < meta.minSeq || row.seq > meta.maxSeq || row.position >= meta.count) return false
  const keys = new Set<string>()
  filterKeys(columns as BlockEntry['values'], keys)
  for (const key of keys) if (!bloomMayContain(meta.bloom, key)) return false
  return true
}
