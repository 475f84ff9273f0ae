/**
 * @module store/postgres/pg-snapshot
 * What the trace and Merkle ports read through: the pool (`PgDatabase`), or, for a read-only store
 * (`opencts verify --store postgres://…`), one `REPEATABLE READ READ ONLY` transaction opened with
 * the store, so that an audit reading page by page, tree sizes, nodes and checkpoints sees one
 * consistent state however many nodes keep writing. The snapshot holds one connection until
 * `close()`; its statements run one at a time on it.
 */
import type pg from 'pg'
import { toStoreError } from './driver-errors.js'

/** Runs one read statement and returns its rows (catalogue errors only). */
export interface PgReader {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    kind: 'read' | 'write',
    sql: string,
    params?: readonly unknown[],
  ): Promise<R[]>
}

export class PgSnapshot implements PgReader {
  readonly #client: pg.PoolClient
  #open = true

  private constructor(client: pg.PoolClient) {
    this.#client = client
  }

  /** Takes a connection of `pool` and starts the snapshot transaction on it. */
  static async open(pool: pg.Pool): Promise<PgSnapshot> {
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw toStoreError('read', error)
    }
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      // The snapshot is taken by the first statement, not by BEGIN.
      await client.query('SELECT 1')
    } catch (error) {
      client.release(true)
      throw toStoreError('read', error)
    }
    return new PgSnapshot(client)
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    kind: 'read' | 'write',
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<R[]> {
    try {
      return (await this.#client.query<R>(sql, params as unknown[])).rows
    } catch (error) {
      throw toStoreError(kind, error)
    }
  }

  /** Ends the transaction and returns the connection (idempotent). */
  async close(): Promise<void> {
    if (!this.#open) return
    this.#open = false
    try {
      await this.#client.query('ROLLBACK')
      this.#client.release()
    } catch (error) {
      this.#client.release(error instanceof Error ? error : true)
    }
  }
}
