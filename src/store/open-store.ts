/**
 * @module store/open-store
 * The one place that picks an engine: `openStore` reads the store URL (`sqlite:PATH`, the embedded
 * default, or `postgres://…`) and opens that engine. The server, `opencts admin`, `opencts verify
 * --store` and the bench all open their store here.
 */
import { SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION } from './postgres/migrations.js'
import { openPostgresStore } from './postgres/postgres-store.js'
import { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './sqlite/schema.js'
import { openSqliteStore } from './sqlite/sqlite-store.js'
import type { MerkleHashing, Store } from './store.js'

// The server's lock on its data directory: one server per directory, whatever its store's engine
// (an OS file lock, which the SQLite driver provides).
export { lockDataDir, type DataDirLock } from './sqlite/data-dir-lock.js'

export type StoreLocation =
  | { readonly engine: 'sqlite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly url: string }

export interface OpenStoreOptions {
  /** `sqlite:PATH` (or `sqlite::memory:`) or `postgres://user@host:port/database`. */
  readonly url: string
  /** The hashing of the Merkle log; without it the log is off. */
  readonly merkle?: MerkleHashing
  /** SQLite: `NORMAL` (default) or `FULL`. */
  readonly sqliteSynchronous?: 'NORMAL' | 'FULL'
  /** PostgreSQL: connections open at most. Default 10. */
  readonly poolSize?: number
  /**
   * Read-only, one snapshot (audits, `verify --store`): never created, migrated or written; its
   * schema must be the current one.
   */
  readonly readonly?: boolean
  /** Name of this node in leases and logs (default `host:pid`). */
  readonly nodeName?: string
  /**
   * SQLite: progress of the upgrade of a row store to blocks, called after each committed chunk
   * with the traces converted and the total (`serve` logs it, `admin migrate` draws a bar).
   */
  readonly onMigrationProgress?: (done: number, total: number) => void
  /**
   * SQLite: what a crash left at the end of the write-ahead log and the opener discarded (a torn
   * or uncommitted write, never an acknowledged one), one line (`serve` prints it).
   */
  readonly onRecovery?: (message: string) => void
}

/** The schema version this OpenCTS writes, per engine (`opencts admin migrate` reports it). */
export const SCHEMA_VERSIONS: Readonly<Record<StoreLocation['engine'], number>> = {
  sqlite: SQLITE_SCHEMA_VERSION,
  postgres: POSTGRES_SCHEMA_VERSION,
}

/** The engine and place a store URL names; throws for anything else (config/ validated it). */
export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('sqlite:')) return { engine: 'sqlite', path: url.slice('sqlite:'.length) }
  if (/^postgres(ql)?:\/\//.test(url)) return { engine: 'postgres', url }
  throw new Error(
    `a store URL is sqlite:PATH or postgres://user@host:port/database, not ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}`,
  )
}

/**
 * Opens the store the URL names, creating or upgrading its schema unless read-only. Throws
 * OCTS_ERR_STORE_UNAVAILABLE when the database cannot be reached, OCTS_ERR_STORE_SCHEMA when its
 * schema is newer than this OpenCTS.
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const location = parseStoreUrl(options.url)
  if (location.engine === 'sqlite') {
    return openSqliteStore({
      path: location.path,
      ...(options.sqliteSynchronous === undefined
        ? {}
        : { synchronous: options.sqliteSynchronous }),
      ...(options.merkle === undefined ? {} : { merkle: options.merkle }),
      ...(options.readonly === true ? { readonly: true } : {}),
      ...(options.onMigrationProgress === undefined
        ? {}
        : { onMigrationProgress: options.onMigrationProgress }),
      ...(options.onRecovery === undefined ? {} : { onRecovery: options.onRecovery }),
    })
  }
  return openPostgresStore({
    url: location.url,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.merkle === undefined ? {} : { merkle: options.merkle }),
    ...(options.readonly === true ? { readonly: true } : {}),
    ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }),
  })
}
