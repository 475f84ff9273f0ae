/**
 * @module store/postgres/postgres-store
 * The PostgreSQL engine: many stateless OpenCTS nodes share one database. See README.md in this
 * folder for the schema, the commit order across nodes, leases and wake-ups.
 */
import { hostname } from 'node:os'
import type pg from 'pg'
import { isOpenCtsError, OpenCtsError } from '../../errors/index.js'
import { StorageCondition } from '../../platform/storage-condition.js'
import { LocalCoordination } from '../local-coordination.js'
import type {
  AlarmStore,
  ConfigStore,
  Coordination,
  DeliveryStore,
  IdentityStore,
  InsightStore,
  KeyStore,
  MerkleHashing,
  MerkleLogStore,
  Store,
  StoreHealth,
  TransferStore,
} from '../store.js'
import { toStoreError } from './driver-errors.js'
import { migrate, requireVersion } from './migrations.js'
import { PgDatabase } from './pg-database.js'
import { PgConfigStore } from './postgres-config-store.js'
import { PgIdentityStore } from './postgres-identity-store.js'
import { PgKeyStore } from './postgres-key-store.js'
import { createPool, safeLocation } from './pg-pool.js'
import { PgSnapshot } from './pg-snapshot.js'
import { PgMerkleStore } from './postgres-merkle-store.js'
import { PgTraceStore } from './postgres-trace-store.js'
import { PgCoordination } from './pg-coordination.js'
import { PostgresDeliveryStore } from './postgres-delivery-store.js'
import { PostgresAlarmStore } from './postgres-alarm-store.js'
import { PostgresInsightStore } from './postgres-insight-store.js'
import { PostgresTransferStore } from './postgres-transfer-store.js'

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` (the OS user when none is named). */
  readonly url: string
  /** Connections open at most. Default 10. */
  readonly poolSize?: number
  /** The Merkle log's hashing; without it the log is off. */
  readonly merkle?: MerkleHashing
  /** Never migrates nor writes; the schema must be the current one. */
  readonly readonly?: boolean
  /** This node's name in leases and `pg_stat_activity` (default `host:pid`). */
  readonly nodeName?: string
}

export class PostgresStore implements Store {
  readonly traces: PgTraceStore
  readonly merkle: MerkleLogStore
  readonly config: ConfigStore
  readonly identity: IdentityStore
  readonly keys: KeyStore
  readonly transfer: TransferStore
  readonly delivery: DeliveryStore
  readonly alarms: AlarmStore
  readonly insights: InsightStore
  readonly coordination: Coordination
  readonly storage: StorageCondition
  readonly nodeName: string
  readonly #db: PgDatabase
  readonly #location: string
  /** The read-only store's snapshot (every trace and Merkle read goes through it). */
  readonly #snapshot: PgSnapshot | undefined

  constructor(
    db: PgDatabase,
    location: string,
    options: {
      nodeName: string
      merkle?: MerkleHashing
      snapshot?: PgSnapshot
      coordination?: Coordination
    },
  ) {
    this.#db = db
    this.#location = location
    this.nodeName = options.nodeName
    this.storage = db.storage ?? new StorageCondition()
    this.#snapshot = options.snapshot
    const reader = { reader: options.snapshot ?? db, readonly: options.snapshot !== undefined }
    this.traces = new PgTraceStore(db, {
      ...reader,
      nodeName: options.nodeName,
      ...(options.merkle === undefined ? {} : { merkle: options.merkle }),
    })
    this.merkle = new PgMerkleStore(db, reader)
    this.config = new PgConfigStore(db, this.traces)
    this.identity = new PgIdentityStore(db)
    this.keys = new PgKeyStore(db)
    this.transfer = new PostgresTransferStore(db)
    this.delivery = new PostgresDeliveryStore(db)
    this.alarms = new PostgresAlarmStore(db, this.traces)
    this.insights = new PostgresInsightStore(db)
    this.coordination = options.coordination ?? new LocalCoordination()
  }

  get pool(): pg.Pool {
    return this.#db.pool
  }

  async health(): Promise<StoreHealth> {
    const pool = {
      size: this.#db.pool.totalCount,
      idle: this.#db.pool.idleCount,
      waiting: this.#db.pool.waitingCount,
    }
    try {
      await this.#db.query('read', 'SELECT 1')
      return { engine: 'postgres', location: this.#location, reachable: true, pool }
    } catch (error) {
      return {
        engine: 'postgres',
        location: this.#location,
        reachable: false,
        pool,
        error:
          isOpenCtsError(error) && error.cause instanceof Error
            ? error.cause.message
            : String(error),
      }
    }
  }

  async probeSpace(): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.query(
        'CREATE TEMP TABLE opencts_space_probe ON COMMIT DROP AS SELECT repeat(md5(random()::text), 2048) AS v',
      )
    })
    this.storage.markWritable()
  }

  async close(): Promise<void> {
    await this.coordination.close()
    await this.#snapshot?.close()
    await this.#db.pool.end()
  }
}

/**
 * Connects, checks (or applies) the schema and opens the store. Throws OCTS_ERR_STORE_UNAVAILABLE
 * when the database cannot be reached, OCTS_ERR_STORE_SCHEMA when its schema is newer (or, read-only,
 * not the current one).
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const location = safeLocation(options.url)
  const nodeName = options.nodeName ?? `${hostname()}:${process.pid}`
  const storage = new StorageCondition()
  const pool = createPool({ url: options.url, size: options.poolSize ?? 10 })
  const db = new PgDatabase(pool, storage)
  try {
    // Reachability first, for a clear start-up error.
    try {
      await pool.query('SELECT 1')
    } catch (error) {
      const converted = toStoreError('read', error)
      throw converted.code === 'OCTS_ERR_STORE_UNAVAILABLE'
        ? new OpenCtsError('OCTS_ERR_STORE_UNAVAILABLE', {
            message: `cannot reach the PostgreSQL store at ${location}: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          })
        : new OpenCtsError('OCTS_ERR_READ_FAILED', {
            message: `cannot open the PostgreSQL store at ${location}: ${error instanceof Error ? error.message : String(error)}`,
            cause: error,
          })
    }
    if (options.readonly === true) await requireVersion(db, location)
    else await migrate(db, location)
    // Leases and wake-ups across nodes; a read-only open (audits) runs no background work.
    const coordination =
      options.readonly === true
        ? new LocalCoordination()
        : await PgCoordination.start({ url: options.url, nodeName })
    return new PostgresStore(db, location, {
      nodeName,
      coordination,
      ...(options.merkle === undefined ? {} : { merkle: options.merkle }),
      ...(options.readonly === true ? { snapshot: await PgSnapshot.open(pool) } : {}),
    })
  } catch (error) {
    await pool.end().catch(() => undefined)
    throw error
  }
}
