/**
 * @module store/sqlite/sqlite-transfer-store
 * TransferStore on SQLite: `transfer_state` (cursor, batch in flight, digest chain per tracker) and
 * `transfer_files` (delivered files until their digest is written). Each method is one transaction.
 * A tracker's rows are deleted with the tracker (SqliteConfigStore.deleteTrackers), so a commit for
 * a tracker deleted meanwhile changes nothing.
 */
import type { DeliveredFile, TransferState, TransferStore } from '../store.js'
import { run } from './driver-errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

const STATE = 'SELECT tracker_id AS trackerId, cursor, pending, digest FROM transfer_state'
const FILE = `SELECT tracker_id AS trackerId, bucket, key, sha256, delivered_at AS deliveredAt,
  trace_count AS traceCount, oldest_time AS oldestTime, newest_time AS newestTime FROM transfer_files`

export class SqliteTransferStore implements TransferStore {
  readonly #db: SqliteDatabase

  constructor(db: SqliteDatabase) {
    this.#db = db
  }

  #state(trackerId: string): TransferState | undefined {
    return this.#db.prepare(`${STATE} WHERE tracker_id = ?`).get(trackerId) as
      TransferState | undefined
  }

  getTransferState(trackerId: string): Promise<TransferState | undefined> {
    return run('read', () => this.#state(trackerId))
  }

  initTransferState(trackerId: string, cursor: number): Promise<TransferState> {
    return run('write', () =>
      this.#db.transaction(() => {
        this.#db
          .prepare('INSERT OR IGNORE INTO transfer_state (tracker_id, cursor) VALUES (?, ?)')
          .run(trackerId, cursor)
        return this.#state(trackerId) as TransferState
      })(),
    )
  }

  savePending(trackerId: string, pending: string): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare('UPDATE transfer_state SET pending = ? WHERE tracker_id = ?')
        .run(pending, trackerId)
    })
  }

  commitBatch(trackerId: string, cursor: number, files: readonly DeliveredFile[]): Promise<void> {
    return run('write', () =>
      this.#db.transaction(() => {
        const updated = this.#db
          .prepare('UPDATE transfer_state SET cursor = ?, pending = NULL WHERE tracker_id = ?')
          .run(cursor, trackerId)
        if (updated.changes === 0) return
        const insert = this.#db.prepare(
          `INSERT OR REPLACE INTO transfer_files (tracker_id, bucket, key, sha256, delivered_at,
             trace_count, oldest_time, newest_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        for (const f of files)
          insert.run(
            trackerId,
            f.bucket,
            f.key,
            f.sha256,
            f.deliveredAt,
            f.traceCount,
            f.oldestTime,
            f.newestTime,
          )
      })(),
    )
  }

  saveDigestState(trackerId: string, digest: string | null): Promise<void> {
    return run('write', () => {
      this.#db
        .prepare('UPDATE transfer_state SET digest = ? WHERE tracker_id = ?')
        .run(digest, trackerId)
    })
  }

  deliveredFiles(trackerId: string, from: number, to: number): Promise<DeliveredFile[]> {
    return run(
      'read',
      () =>
        this.#db
          .prepare(
            `${FILE} WHERE tracker_id = ? AND delivered_at >= ? AND delivered_at < ?
             ORDER BY delivered_at, key`,
          )
          .all(trackerId, from, to) as DeliveredFile[],
    )
  }

  deleteTransferState(trackerId: string): Promise<void> {
    return run('write', () =>
      this.#db.transaction(() => {
        this.#db.prepare('DELETE FROM transfer_state WHERE tracker_id = ?').run(trackerId)
        this.#db.prepare('DELETE FROM transfer_files WHERE tracker_id = ?').run(trackerId)
      })(),
    )
  }

  purgeDeliveredFiles(trackerId: string, time: number): Promise<number> {
    return run(
      'write',
      () =>
        this.#db
          .prepare('DELETE FROM transfer_files WHERE tracker_id = ? AND delivered_at < ?')
          .run(trackerId, time).changes,
    )
  }
}
