/**
 * @module store/sqlite/sqlite-store
 * The embedded default store: one SQLite file in WAL mode with `synchronous=NORMAL`. A committed
 * transaction survives a crash of the process (SIGKILL); see README.md in this folder for the life
 * of a write and the durability trade-off.
 */
import Database from 'better-sqlite3'
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type { MerkleHashing, Store, StoreHealth } from '../store.js'
import { LocalCoordination } from '../local-coordination.js'
import {
  CONNECTION_PRAGMAS,
  SCHEMA_SQL,
  SCHEMA_VERSION,
  TRACE_TABLE_SQL,
  traceTableSql,
} from './schema.js'
import { SqliteConfigStore } from './sqlite-config-store.js'
import type { SqliteDatabase } from './sqlite-database.js'
import { SqliteIdentityStore } from './sqlite-identity-store.js'
import { SqliteKeyStore } from './sqlite-key-store.js'
import { SqliteMerkleStore } from './sqlite-merkle-store.js'
import { BlockTraceStore } from './blocks/block-trace-store.js'
import { SqliteTransferStore } from './sqlite-transfer-store.js'
import { SqliteDeliveryStore } from './sqlite-delivery-store.js'
import { SqliteAlarmStore } from './sqlite-alarm-store.js'
import { SqliteInsightStore } from './sqlite-insight-store.js'
import { StorageCondition } from '../../platform/storage-condition.js'
import { watchDiskFull } from './disk-full-watch.js'
import { describeWalDamage, inspectWal } from './wal-recovery.js'
import { run } from './driver-errors.js'
import { hasRowStore, migrateRowStore, type MigrationProgress } from './blocks/migrate-rows.js'

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. The folder must exist. */
  readonly path: string
  /** `NORMAL` (default: durable across process crashes) or `FULL` (also across power loss). */
  readonly synchronous?: 'NORMAL' | 'FULL'
  /**
   * The hashing of the per-project Merkle log; when given, every newly stored trace is appended to
   * its project's log in the transaction that stores it. Without it the log is off (size 0).
   */
  readonly merkle?: MerkleHashing
  /**
   * Opens an existing file read-only (audits, `verify --store`): never created, migrated or
   * written (a write fails with OCTS_ERR_WRITE_FAILED); its schema must be SCHEMA_VERSION. Every
   * read sees one snapshot, the file as it was when opened (a read transaction held until close),
   * even while a server writes to it (its WAL cannot be checkpointed past that snapshot until
   * close). SQLite may create the `-wal`/`-shm` side files when absent; the file itself is intact.
   */
  readonly readonly?: boolean
  /**
   * Told what a crash left at the end of the write-ahead log (a torn or uncommitted write, see
   * wal-recovery.ts): SQLite's recovery discards it, and the opener then checkpoints the log so the
   * damaged bytes are gone from disk. Not called when the log ended cleanly.
   */
  readonly onRecovery?: (message: string) => void
  /** Progress of the upgrade of a row store to blocks (blocks/migrate-rows), after each chunk. */
  readonly onMigrationProgress?: MigrationProgress
}

export class SqliteStore implements Store {
  readonly traces: BlockTraceStore
  readonly config: SqliteConfigStore
  readonly identity: SqliteIdentityStore
  readonly keys: SqliteKeyStore
  readonly transfer: SqliteTransferStore
  readonly delivery: SqliteDeliveryStore
  readonly alarms: SqliteAlarmStore
  readonly insights: SqliteInsightStore
  readonly merkle: SqliteMerkleStore
  readonly storage = new StorageCondition()
  /** One server per data directory (data-dir-lock): every lease is this node's. */
  readonly coordination = new LocalCoordination()
  readonly #db: SqliteDatabase

  constructor(driver: SqliteDatabase, merkle?: MerkleHashing) {
    // Every statement of the store passes the disk-full watch (store/sqlite/disk-full-watch).
    const db = watchDiskFull(driver, this.storage)
    this.#db = db
    this.traces = new BlockTraceStore(db, merkle, this.storage)
    this.merkle = new SqliteMerkleStore(db, this.traces, merkle)
    this.config = new SqliteConfigStore(db, this.traces)
    this.identity = new SqliteIdentityStore(db)
    this.keys = new SqliteKeyStore(db)
    this.transfer = new SqliteTransferStore(db)
    this.delivery = new SqliteDeliveryStore(db)
    this.alarms = new SqliteAlarmStore(db, this.traces)
    this.insights = new SqliteInsightStore(db)
  }

  health(): Promise<StoreHealth> {
    return Promise.resolve({ engine: 'sqlite', location: this.#db.name, reachable: this.#db.open })
  }

  probeSpace(): Promise<void> {
    return run('write', () => {
      // 64 KB in overflow pages: needs free pages in the file (max_page_count) and on the disk
      // (the WAL frames written at commit), and leaves nothing behind.
      this.#probe()
      this.storage.markWritable()
    })
  }

  readonly #probe = (): void =>
    this.#db.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO meta (key, value) VALUES ('space_probe', hex(randomblob(32768)))
           ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        )
        .run()
      this.#db.prepare("DELETE FROM meta WHERE key = 'space_probe'").run()
    })()

  /**
   * Test and drill hook: caps the file at `pages` pages (`PRAGMA max_page_count`; a cap below the
   * current size stops at the current size), after which writes needing new pages fail with
   * SQLITE_FULL exactly as on a full disk. Returns the cap in force. Not reachable from the API.
   */
  capPages(pages: number): number {
    const cap = Math.max(1, Math.trunc(pages))
    return Number(this.#db.pragma(`max_page_count = ${cap}`, { simple: true }))
  }

  async close(): Promise<void> {
    this.traces.stopWarming()
    await this.coordination.close()
    if (this.#db.open) this.#db.close()
  }
}

/** Whether `traces` still has the global `trace_id` uniqueness of versions 1–6. */
function hasGlobalTraceIdKey(db: SqliteDatabase): boolean {
  const indexes = db.prepare('PRAGMA index_list(traces)').all() as {
    name: string
    unique: number
  }[]
  return indexes.some((index) => {
    if (index.unique !== 1) return false
    const columns = db.prepare(`PRAGMA index_info("${index.name}")`).all() as { name: string }[]
    return columns.length === 1 && columns[0]?.name === 'trace_id'
  })
}

/**
 * Version 7: rebuilds `traces` with trace ids unique per project. Every row is copied with its
 * `seq`, and the AUTOINCREMENT high-water mark is kept (downstream cursors rely on it never going
 * back); the indexes are recreated. No row can clash: ids were unique across all projects.
 */
function scopeTraceIdsToProjects(db: SqliteDatabase): void {
  const columns = (db.prepare('PRAGMA table_info(traces)').all() as { name: string }[])
    .map((c) => c.name)
    .join(', ')
  const head = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'traces'").get() as
    { seq: number } | undefined
  db.exec(traceTableSql('traces_v7'))
  db.exec(`INSERT INTO traces_v7 (${columns}) SELECT ${columns} FROM traces ORDER BY seq`)
  db.exec('DROP TABLE traces')
  db.exec('ALTER TABLE traces_v7 RENAME TO traces')
  db.exec(TRACE_TABLE_SQL)
  if (head !== undefined) {
    db.prepare("DELETE FROM sqlite_sequence WHERE name = 'traces'").run()
    db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('traces', ?)").run(
      Math.max(
        head.seq,
        (db.prepare('SELECT max(seq) AS m FROM traces').get() as { m: number | null }).m ?? 0,
      ),
    )
  }
}

/**
 * Creates the missing tables and columns and records SCHEMA_VERSION, in one transaction: an older
 * file (version 1) is upgraded, a newer one is refused and left unchanged (OCTS_ERR_WRITE_FAILED).
 */
function migrate(db: SqliteDatabase, path: string, onProgress?: MigrationProgress): void {
  db.transaction(() => {
    const rowStore =
      (
        db
          .prepare(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'traces'",
          )
          .get() as { n: number }
      ).n > 0
    db.exec(SCHEMA_SQL)
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      { value: string } | undefined
    if (row !== undefined && Number(row.value) > SCHEMA_VERSION) {
      throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', {
        message: `the SQLite store at ${path} has schema version ${row.value}, this OpenCTS supports ${SCHEMA_VERSION}`,
      })
    }
    if (rowStore) {
      // Versions 1–7: bring the row table to version 7's form, then convert it into blocks.
      db.exec(TRACE_TABLE_SQL)
      const columns = db.prepare('PRAGMA table_info(traces)').all() as { name: string }[]
      if (!columns.some((c) => c.name === 'leaf_index'))
        db.exec('ALTER TABLE traces ADD COLUMN leaf_index INTEGER')
      if (hasGlobalTraceIdKey(db)) scopeTraceIdsToProjects(db)
    }
    // A row store keeps its version until its conversion below has finished (migrateRowStore
    // records version 8 in its last transaction): a half-converted file is never taken for done.
    if (!rowStore && (row === undefined || Number(row.value) < SCHEMA_VERSION)) {
      db.prepare(
        `INSERT INTO meta (key, value) VALUES ('schema_version', ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      ).run(String(SCHEMA_VERSION))
    }
  })()
  // A row store (versions 1-7) becomes blocks, chunk by chunk in transactions of its own (resumable).
  if (hasRowStore(db)) migrateRowStore(db, onProgress)
}

/** Checks the schema version of a file opened read-only and starts its snapshot. */
function startSnapshot(db: SqliteDatabase, path: string): void {
  db.exec('BEGIN')
  const meta = db
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'")
    .get() as { n: number }
  const row =
    meta.n === 0
      ? undefined
      : (db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
          { value: string } | undefined)
  if (row === undefined || Number(row.value) !== SCHEMA_VERSION)
    throw new OpenCtsError('OCTS_ERR_READ_FAILED', {
      message:
        row === undefined
          ? `${path} is not an OpenCTS SQLite store`
          : Number(row.value) < SCHEMA_VERSION
            ? `the SQLite store at ${path} has schema version ${row.value}, this OpenCTS reads ${SCHEMA_VERSION}: upgrade it first (\`opencts admin migrate\`, or start \`opencts serve\` on it once)`
            : `the SQLite store at ${path} has schema version ${row.value}, this OpenCTS reads ${SCHEMA_VERSION} (a newer OpenCTS wrote it)`,
    })
}

/**
 * Opens (creating if needed) an SQLite store, upgrading an older schema. Throws
 * OCTS_ERR_WRITE_FAILED if the file cannot be opened or is of a newer schema. With `readonly`,
 * see SqliteStoreOptions (OCTS_ERR_READ_FAILED when the file is missing or of another schema).
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  let db: SqliteDatabase | undefined
  const readonly = options.readonly === true
  try {
    // Read before SQLite opens the file: its recovery silently drops what a crash left half-written.
    const walPath = `${options.path}-wal`
    const damage =
      readonly || options.path === ':memory:'
        ? undefined
        : describeWalDamage(walPath, inspectWal(walPath))
    db = new Database(options.path, readonly ? { readonly, fileMustExist: true } : {})
    if (readonly) {
      for (const pragma of CONNECTION_PRAGMAS)
        if (!pragma.startsWith('journal_mode')) db.pragma(pragma)
      startSnapshot(db, options.path)
    } else {
      for (const pragma of CONNECTION_PRAGMAS) db.pragma(pragma)
      db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`)
      db.pragma('foreign_keys = ON')
      migrate(db, options.path, options.onMigrationProgress)
      if (damage !== undefined) {
        db.pragma('wal_checkpoint(TRUNCATE)')
        options.onRecovery?.(damage)
      }
    }
  } catch (error) {
    if (db?.open === true) db.close()
    if (isOpenCtsError(error)) throw error
    throw new OpenCtsError(readonly ? 'OCTS_ERR_READ_FAILED' : 'OCTS_ERR_WRITE_FAILED', {
      message: `cannot open the SQLite store at ${options.path}: ${String(error)}`,
      cause: error,
    })
  }
  const store = new SqliteStore(db, options.merkle)
  if (!readonly) store.traces.startWarming()
  return store
}
