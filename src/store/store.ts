/**
 * @module store/store
 * The store: one object giving every port of one engine. The ports (`ports/`, one file each) are
 * shaped by what callers need (append a batch, page newest-first by a filter, get by id, purge
 * before a time, read from a cursor), not by tables, so that an engine (SQLite, PostgreSQL,
 * compressed blocks) can be replaced without touching ingest, query or http.
 *
 * Every engine passes the contract suite of every port (`test/contract/`). Errors leave a store only
 * as `OpenCtsError`:
 * - `OCTS_ERR_STORE_CONFLICT` (retryable, e.g. SQLITE_BUSY, a serialization failure),
 * - `OCTS_ERR_STORAGE_FULL` (retryable: the disk is full; nothing of the write was stored),
 * - `OCTS_ERR_STORE_UNAVAILABLE` (retryable: the database cannot be reached),
 * - `OCTS_ERR_CONFLICT` (a unique key was taken by a concurrent writer).
 */
import type { StorageCondition } from '../platform/storage-condition.js'
import type { AlarmStore } from './ports/alarms.js'
import type { ConfigStore } from './ports/config.js'
import type { Coordination } from './ports/coordination.js'
import type { DeliveryStore } from './ports/delivery.js'
import type { IdentityStore } from './ports/identity.js'
import type { InsightStore } from './ports/insights.js'
import type { KeyStore } from './ports/keys.js'
import type { MerkleLogStore } from './ports/merkle-log.js'
import type { TraceStore } from './ports/traces.js'
import type { TransferStore } from './ports/transfer.js'

export type * from './ports/alarms.js'
export type * from './ports/config.js'
export type * from './ports/coordination.js'
export type * from './ports/delivery.js'
export type * from './ports/identity.js'
export type * from './ports/insights.js'
export type * from './ports/keys.js'
export type * from './ports/merkle-log.js'
export type * from './ports/traces.js'
export type * from './ports/transfer.js'

/** What `/health` and the metrics say of the database. */
export interface StoreHealth {
  /** `sqlite` or `postgres`. */
  readonly engine: string
  /** Where it is, without credentials (a file path, or `postgres://host:port/db`). */
  readonly location: string
  /** False when the database cannot be reached now. */
  readonly reachable: boolean
  /** Connection pool use (PostgreSQL): connections open, idle, and callers waiting for one. */
  readonly pool?: { readonly size: number; readonly idle: number; readonly waiting: number }
  /** Why it is unreachable. */
  readonly error?: string
}

export interface Store {
  readonly traces: TraceStore
  readonly merkle: MerkleLogStore
  readonly config: ConfigStore
  readonly identity: IdentityStore
  readonly keys: KeyStore
  readonly transfer: TransferStore
  readonly delivery: DeliveryStore
  /** Alarm rules, their state and transition history. */
  readonly alarms: AlarmStore
  /** Insights found by the detectors, and the detectors' state and cursor. */
  readonly insights: InsightStore
  /** Whether writes fail for lack of space (set and cleared by the store; see StorageCondition). */
  readonly storage: StorageCondition
  /** Leases of background work and wake-ups across the nodes sharing this store. */
  readonly coordination: Coordination
  /** Reachability and pool use of the database, checked now (`/health`, metrics). */
  health(): Promise<StoreHealth>
  /**
   * Commits a small write that needs new space and clears `storage` when it succeeds; throws
   * OCTS_ERR_STORAGE_FULL while the disk is still full. Used by `/health` while `storage.full`.
   */
  probeSpace(): Promise<void>
  /** Flushes and releases the store. Further calls fail. */
  close(): Promise<void>
}
