/**
 * @module store/sqlite/disk-full-watch
 * Wraps a database so that every SQLITE_FULL the engine raises (a write to the file or its WAL
 * failing with ENOSPC, or the `max_page_count` cap reached) is recorded in a StorageCondition, at
 * the driver boundary: every statement, `exec` and transaction of the store passes through here.
 * The error itself is left as is; `driver-errors.guard` turns it into OCTS_ERR_STORAGE_FULL.
 */
import type { StorageCondition } from '../../platform/storage-condition.js'
import { isDiskFull } from './driver-errors.js'
import type { SqliteDatabase, SqliteStatement } from './sqlite-database.js'

function watched<A extends unknown[], R>(
  fn: (...args: A) => R,
  condition: StorageCondition,
): (...args: A) => R {
  return (...args: A): R => {
    try {
      return fn(...args)
    } catch (error) {
      if (isDiskFull(error)) condition.markFull(error)
      throw error
    }
  }
}

function watchStatement(statement: SqliteStatement, condition: StorageCondition): SqliteStatement {
  return {
    run: watched(statement.run.bind(statement), condition),
    get: watched(statement.get.bind(statement), condition),
    all: watched(statement.all.bind(statement), condition),
    pluck: (toggle = true) => watchStatement(statement.pluck(toggle), condition),
  }
}

export function watchDiskFull(db: SqliteDatabase, condition: StorageCondition): SqliteDatabase {
  return {
    prepare: (sql) => watchStatement(db.prepare(sql), condition),
    exec: watched(db.exec.bind(db), condition),
    pragma: watched(db.pragma.bind(db), condition),
    transaction: (fn) => watched(db.transaction(fn), condition),
    close: () => db.close(),
    get open() {
      return db.open
    },
    name: db.name,
  }
}
