/**
 * @module store/ports/transfer
 * The transfer port: per-tracker cursor, batch in flight, delivered files, digest chain.
 */

/** A trace file delivered to object storage, as the digest of its period lists it. */
export interface DeliveredFile {
  readonly trackerId: string
  readonly bucket: string
  readonly key: string
  /** Lowercase hex SHA-256 of the stored object bytes. */
  readonly sha256: string
  /** The delivery time in the file name (ms); the digest of the period containing it lists it. */
  readonly deliveredAt: number
  readonly traceCount: number
  /** Oldest and newest trace `time` in the file (ms). */
  readonly oldestTime: number
  readonly newestTime: number
}

/**
 * Durable progress of one tracker's transfer. `pending` and `digest` are opaque JSON owned by the
 * transfer module (the batch in flight, the digest chain); the store only keeps them atomically.
 */
export interface TransferState {
  readonly trackerId: string
  /** Highest trace `seq` delivered or deliberately skipped. */
  readonly cursor: number
  readonly pending: string | null
  readonly digest: string | null
}

/**
 * Transfer progress (cursor, batch in flight, delivered files, digest chain). Each call is one
 * transaction, so after a crash the state is the one before or after a call, never in between.
 */
export interface TransferStore {
  getTransferState(trackerId: string): Promise<TransferState | undefined>
  /** Creates the state with `cursor` unless it exists; returns the stored state. */
  initTransferState(trackerId: string, cursor: number): Promise<TransferState>
  /** Records the batch about to be written (write-ahead), before any object is put. */
  savePending(trackerId: string, pending: string): Promise<void>
  /** Sets the cursor, clears `pending` and records the delivered files, in one transaction. */
  commitBatch(trackerId: string, cursor: number, files: readonly DeliveredFile[]): Promise<void>
  /** Replaces the digest chain state. */
  saveDigestState(trackerId: string, digest: string | null): Promise<void>
  /** Files of the tracker with `from <= deliveredAt < to`, by (deliveredAt, key). */
  deliveredFiles(trackerId: string, from: number, to: number): Promise<DeliveredFile[]>
  /** Forgets a tracker's state and files (the tracker was deleted). */
  deleteTransferState(trackerId: string): Promise<void>
  /** Deletes the tracker's file records delivered before `time` (digested); returns the count. */
  purgeDeliveredFiles(trackerId: string, time: number): Promise<number>
}
