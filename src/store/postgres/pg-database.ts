/**
 * @module store/postgres/pg-database
 * The engine's access to PostgreSQL: queries and transactions on the pool, every driver error
 * converted at this boundary (driver-errors). Each port of the engine is built on one PgDatabase.
 */
import type pg from 'pg'
import type { TraceRecord } from '../../model/index.js'
import type { AppendResult } from '../store.js'
import type { StorageCondition } from '../../platform/storage-condition.js'
import { toStoreError } from './driver-errors.js'

/** A connection inside a transaction (or a plain pool query), as the ports use it. */
export interface PgExecutor {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>
}

export class PgDatabase {
  readonly pool: pg.Pool
  readonly storage: StorageCondition | undefined

  constructor(pool: pg.Pool, storage?: StorageCondition) {
    this.pool = pool
    this.storage = storage
  }

  /** One statement outside a transaction; the rows it returns. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    kind: 'read' | 'write',
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<R[]> {
    try {
      const result = await this.pool.query<R>(sql, params as unknown[])
      return result.rows
    } catch (error) {
      throw toStoreError(kind, error, this.storage)
    }
  }

  /**
   * Runs `fn` in one transaction on one connection (BEGIN … COMMIT; ROLLBACK when it throws). The
   * promise resolves once COMMIT has returned: the writes are durable and visible to every node.
   */
  async transaction<T>(
    fn: (tx: PgExecutor) => Promise<T>,
    kind: 'read' | 'write' = 'write',
    isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED',
  ): Promise<T> {
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw toStoreError(kind, error, this.storage)
    }
    let broken: unknown
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`)
      const result = await fn(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        broken = rollbackError
      }
      throw toStoreError(kind, error, this.storage)
    } finally {
      // A connection whose ROLLBACK failed is not returned to the pool.
      client.release(broken instanceof Error ? broken : undefined)
    }
  }
}

/**
 * The trace append as other ports of the engine use it: config changes commit their self-audit
 * traces in their own transaction, through the same append (same commit order, same Merkle log).
 */
export interface PgTraceAppender {
  appendIn(tx: PgExecutor, traces: readonly TraceRecord[]): Promise<AppendResult>
}

/** LISTEN/NOTIFY channel a committing node signals on (payload: the committing node's name). */
export const COMMIT_CHANNEL = 'opencts_commits'
