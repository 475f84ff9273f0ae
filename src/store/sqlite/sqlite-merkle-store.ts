/**
 * @module store/sqlite/sqlite-merkle-store
 * The per-project Merkle log on SQLite: `merkle_trees` (size per project) and `merkle_nodes` (the
 * hash of every complete subtree, level 0 = leaf hashes). `MerkleAppender` appends the newly stored
 * traces of a batch inside the batch's transaction; `SqliteMerkleStore` reads sizes and nodes for
 * proofs.
 */
import { OpenCtsError } from '../../errors/index.js'
import type { TraceRecord } from '../../model/index.js'
import type { MerkleHashing, MerkleLogStore, MerkleNodeReader } from '../store.js'
import { run } from './driver-errors.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

const SELECT_SIZE_SQL = 'SELECT size FROM merkle_trees WHERE project_id = ?'
const SELECT_NODE_SQL =
  'SELECT hash FROM merkle_nodes WHERE project_id = ? AND level = ? AND idx = ?'
/** Node rows written per INSERT statement (4 parameters each). */
const NODE_ROWS_PER_INSERT = 128

function insertNodesSql(rows: number): string {
  return `INSERT INTO merkle_nodes (project_id, level, idx, hash) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}`
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
 * One batch's appends, inside its write transaction: one size read per project, nodes completed in
 * this batch served from memory, node rows written in multi-row INSERTs and sizes updated once per
 * project by `finish()`. Discarded with the transaction (nothing outlives a rollback).
 */
export class MerkleBatch {
  readonly #appender: MerkleAppender
  readonly #sizes = new Map<string, { readonly from: number; size: number }>()
  readonly #written = new Map<string, Map<number, Buffer>[]>()

  constructor(appender: MerkleAppender) {
    this.#appender = appender
  }

  #tree(projectId: string): { readonly from: number; size: number } {
    let tree = this.#sizes.get(projectId)
    if (tree === undefined) {
      const size = this.#appender.storedSize(projectId)
      tree = { from: size, size }
      this.#sizes.set(projectId, tree)
    }
    return tree
  }

  /** The leaf index the project's next newly stored trace gets. */
  nextIndex(projectId: string): number {
    return this.#tree(projectId).size
  }

  /** Appends a newly stored trace as the project's next leaf (the index `nextIndex` gave). */
  append(trace: TraceRecord): void {
    const projectId = trace.project_id
    const tree = this.#tree(projectId)
    let levels = this.#written.get(projectId)
    if (levels === undefined) {
      levels = []
      this.#written.set(projectId, levels)
    }
    const written = levels
    const stored = this.#appender.reader(projectId)
    const node: MerkleNodeReader = (level, index) =>
      written[level]?.get(index) ?? stored(level, index)
    const hashing = this.#appender.hashing
    for (const [level, index, hash] of hashing.appendLeaf(
      tree.size,
      hashing.leafHash(trace),
      node,
    )) {
      let atLevel = written[level]
      if (atLevel === undefined) {
        atLevel = new Map()
        written[level] = atLevel
      }
      atLevel.set(index, hash)
    }
    tree.size++
  }

  /**
   * Writes the batch's subtrees, level by level in index order (each level's rows are one run at
   * the end of its key range), and the new sizes; call once, at the end of the batch.
   */
  finish(): void {
    let rows: unknown[] = []
    for (const [projectId, levels] of this.#written)
      for (const [level, atLevel] of levels.entries())
        for (const [index, hash] of atLevel ?? []) {
          rows.push(projectId, level, index, hash)
          if (rows.length === NODE_ROWS_PER_INSERT * 4) {
            this.#appender.insertNodes(rows)
            rows = []
          }
        }
    if (rows.length > 0) this.#appender.insertNodes(rows)
    for (const [projectId, tree] of this.#sizes)
      if (tree.size !== tree.from) this.#appender.setSize(projectId, tree.size)
  }
}

/** The prepared statements and hashing of the append path, shared by every batch. */
export class MerkleAppender {
  readonly hashing: MerkleHashing
  readonly #db: SqliteDatabase
  readonly #selectSize: SqliteStatement
  readonly #selectNode: SqliteStatement
  readonly #upsertSize: SqliteStatement
  readonly #insertNodes = new Map<number, SqliteStatement>()

  constructor(db: SqliteDatabase, hashing: MerkleHashing) {
    this.#db = db
    this.hashing = hashing
    this.#selectSize = db.prepare(SELECT_SIZE_SQL)
    this.#selectNode = db.prepare(SELECT_NODE_SQL)
    this.#upsertSize = db.prepare(
      `INSERT INTO merkle_trees (project_id, size) VALUES (?, ?)
       ON CONFLICT (project_id) DO UPDATE SET size = excluded.size`,
    )
  }

  /** Starts the appends of one batch; must be used inside the batch's write transaction. */
  begin(): MerkleBatch {
    return new MerkleBatch(this)
  }

  storedSize(projectId: string): number {
    return (this.#selectSize.get(projectId) as { size: number } | undefined)?.size ?? 0
  }

  reader(projectId: string): MerkleNodeReader {
    return storedNodes(this.#selectNode, projectId)
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

/** MerkleLogStore on SQLite: reads only (the appends happen in SqliteTraceStore's transactions). */
export class SqliteMerkleStore implements MerkleLogStore {
  readonly #db: SqliteDatabase
  readonly #selectSize: SqliteStatement
  readonly #selectNode: SqliteStatement
  readonly #selectLeafIndex: SqliteStatement

  constructor(db: SqliteDatabase) {
    this.#db = db
    this.#selectSize = db.prepare(SELECT_SIZE_SQL)
    this.#selectNode = db.prepare(SELECT_NODE_SQL)
    this.#selectLeafIndex = db.prepare(
      'SELECT leaf_index FROM traces WHERE trace_id = ? AND project_id = ?',
    )
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
      this.#db.transaction(() =>
        fn(storedNodes(this.#selectNode, projectId), this.#size(projectId)),
      )(),
    )
  }

  leafIndexOf(projectId: string, traceId: string): Promise<number | undefined> {
    return run('read', () => {
      const row = this.#selectLeafIndex.get(traceId, projectId) as
        { leaf_index: number | null } | undefined
      return row?.leaf_index ?? undefined
    })
  }
}
