/**
 * @module store/sqlite/sqlite-database
 * The subset of the better-sqlite3 API the store uses, so the store depends on the driver's shape
 * rather than on its package.
 */
import type { TraceRecord } from '../../model/index.js'
import type { AppendResult } from '../store.js'
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
  /** The same statement returning a row's first column instead of the row. */
  pluck(toggle?: boolean): SqliteStatement
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  exec(sql: string): unknown
  pragma(sql: string, options?: { simple?: boolean }): unknown
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R
  close(): unknown
  readonly open: boolean
  /** The file path (or `:memory:`). */
  readonly name: string
}

/**
 * The trace append inside a transaction already open (`SqliteDatabase.transaction`): configuration
 * changes commit their self-audit traces through the same append as ingest (same commit order, same
 * Merkle log).
 */
export interface SqliteTraceAppender {
  appendInTransaction(traces: readonly TraceRecord[]): AppendResult
}
