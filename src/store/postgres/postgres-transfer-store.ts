/**
 * @module store/postgres/postgres-transfer-store
 * TransferStore on PostgreSQL: `transfer_state` and `transfer_files` (schema-transfer.ts), with the
 * SQLite engine's semantics. Each method is one statement or one transaction. Only the holder of
 * the transfer lease writes a tracker's state, so no row lock beyond the transaction's is needed;
 * a commit for a tracker deleted meanwhile (state gone) changes nothing.
 */
import type { DeliveredFile, TransferState, TransferStore } from '../store.js'
import type { PgDatabase, PgExecutor } from './pg-database.js'

const STATE = 'SELECT tracker_id AS "trackerId", cursor, pending, digest FROM transfer_state'
const FILE = `SELECT tracker_id AS "trackerId", bucket, key, sha256, delivered_at AS "deliveredAt",
  trace_count AS "traceCount", oldest_time AS "oldestTime", newest_time AS "newestTime"
  FROM transfer_files`

export class PostgresTransferStore implements TransferStore {
  readonly #db: PgDatabase

  constructor(db: PgDatabase) {
    this.#db = db
  }

  async getTransferState(trackerId: string): Promise<TransferState | undefined> {
    const rows = await this.#db.query<TransferState>('read', `${STATE} WHERE tracker_id = $1`, [
      trackerId,
    ])
    return rows[0]
  }

  initTransferState(trackerId: string, cursor: number): Promise<TransferState> {
    return this.#db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO transfer_state (tracker_id, cursor) VALUES ($1, $2)
         ON CONFLICT (tracker_id) DO NOTHING`,
        [trackerId, cursor],
      )
      return (await state(tx, trackerId)) as TransferState
    })
  }

  async savePending(trackerId: string, pending: string): Promise<void> {
    await this.#db.query('write', 'UPDATE transfer_state SET pending = $1 WHERE tracker_id = $2', [
      pending,
      trackerId,
    ])
  }

  commitBatch(trackerId: string, cursor: number, files: readonly DeliveredFile[]): Promise<void> {
    return this.#db.transaction(async (tx) => {
      const updated = await tx.query(
        'UPDATE transfer_state SET cursor = $1, pending = NULL WHERE tracker_id = $2',
        [cursor, trackerId],
      )
      if (updated.rowCount === 0 || files.length === 0) return
      // One statement for the batch; a file recorded again (same bucket and key) is replaced, the
      // last of the batch winning, as SQLite's INSERT OR REPLACE row by row.
      const unique = [...new Map(files.map((f) => [`${f.bucket}\n${f.key}`, f])).values()]
      await tx.query(
        `INSERT INTO transfer_files (tracker_id, bucket, key, sha256, delivered_at, trace_count,
           oldest_time, newest_time)
         SELECT $1::text, * FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::integer[],
           $7::bigint[], $8::bigint[])
         ON CONFLICT (tracker_id, bucket, key) DO UPDATE SET sha256 = excluded.sha256,
           delivered_at = excluded.delivered_at, trace_count = excluded.trace_count,
           oldest_time = excluded.oldest_time, newest_time = excluded.newest_time`,
        [
          trackerId,
          unique.map((f) => f.bucket),
          unique.map((f) => f.key),
          unique.map((f) => f.sha256),
          unique.map((f) => f.deliveredAt),
          unique.map((f) => f.traceCount),
          unique.map((f) => f.oldestTime),
          unique.map((f) => f.newestTime),
        ],
      )
    })
  }

  async saveDigestState(trackerId: string, digest: string | null): Promise<void> {
    await this.#db.query('write', 'UPDATE transfer_state SET digest = $1 WHERE tracker_id = $2', [
      digest,
      trackerId,
    ])
  }

  deliveredFiles(trackerId: string, from: number, to: number): Promise<DeliveredFile[]> {
    return this.#db.query<DeliveredFile>(
      'read',
      `${FILE} WHERE tracker_id = $1 AND delivered_at >= $2 AND delivered_at < $3
       ORDER BY delivered_at, key`,
      [trackerId, from, to],
    )
  }

  deleteTransferState(trackerId: string): Promise<void> {
    return this.#db.transaction(async (tx) => {
      await tx.query('DELETE FROM transfer_state WHERE tracker_id = $1', [trackerId])
      await tx.query('DELETE FROM transfer_files WHERE tracker_id = $1', [trackerId])
    })
  }

  async purgeDeliveredFiles(trackerId: string, time: number): Promise<number> {
    const rows = await this.#db.query<{ n: number }>(
      'write',
      `WITH gone AS (DELETE FROM transfer_files WHERE tracker_id = $1 AND delivered_at < $2
       RETURNING 1) SELECT count(*)::integer AS n FROM gone`,
      [trackerId, time],
    )
    return rows[0]?.n ?? 0
  }
}

async function state(tx: PgExecutor, trackerId: string): Promise<TransferState | undefined> {
  const { rows } = await tx.query<TransferState>(`${STATE} WHERE tracker_id = $1`, [trackerId])
  return rows[0]
}
