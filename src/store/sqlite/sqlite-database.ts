/**
 * @module store/sqlite/sqlite-database
 * The subset of the better-sqlite3 API the store uses, so the store depends on the driver's shape
 * rather than on its package.
 */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
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
