/**
 * @module store/sqlite/data-dir-lock
 * One server per data directory. `lockDataDir` takes an exclusive SQLite lock on `server.lock` in
 * the directory (an OS file lock, `locking_mode=EXCLUSIVE` plus an open `BEGIN EXCLUSIVE`) and
 * writes its PID to `server.pid`. The operating system drops the lock when the process ends in any
 * way (SIGKILL and power loss included), so a stale `server.lock` or `server.pid` never blocks a
 * start: only a live holder does. A second start on the same directory, in this process or another,
 * fails at once with OCTS_ERR_DATA_DIR_IN_USE naming the directory and the holder's PID.
 *
 * Commands that open the store directly (`opencts keys`, `admin`, `verify --store`) do not take
 * this lock: SQLite in WAL mode lets them work beside a running server.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { OpenCtsError } from '../../errors/index.js'
import { sqliteCode } from './driver-errors.js'
import type { SqliteDatabase } from './sqlite-database.js'

export const LOCK_FILE = 'server.lock'
export const PID_FILE = 'server.pid'

export interface DataDirLock {
  /** Releases the lock (idempotent); the PID file is left, harmless once the lock is free. */
  release(): void
}

/** The PID recorded by the holder, or a phrase saying it is unknown. */
function holderPid(dir: string): string {
  try {
    const pid = readFileSync(join(dir, PID_FILE), 'utf8').trim()
    return /^\d+$/.test(pid) ? `PID ${pid}` : 'an unknown PID'
  } catch {
    return 'an unknown PID'
  }
}

/** Locks `dir` (which must exist) for this process. Throws OCTS_ERR_DATA_DIR_IN_USE when held. */
export function lockDataDir(dir: string): DataDirLock {
  let db: SqliteDatabase | undefined
  try {
    // timeout 0: a held lock answers SQLITE_BUSY at once instead of waiting for it.
    db = new Database(join(dir, LOCK_FILE), { timeout: 0 })
    db.pragma('locking_mode = EXCLUSIVE')
    db.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    if (db?.open === true) db.close()
    const code = sqliteCode(error) ?? ''
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
      throw new OpenCtsError('OCTS_ERR_DATA_DIR_IN_USE', {
        message: `the data directory ${dir} is in use by another OpenCTS server (${holderPid(dir)}); stop it first, or give this one another --data-dir`,
        cause: error,
      })
    throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', {
      message: `cannot lock the data directory ${dir}: ${String(error)}`,
      cause: error,
    })
  }
  const held = db
  try {
    writeFileSync(join(dir, PID_FILE), `${process.pid}\n`, { mode: 0o600 })
  } catch (error) {
    held.close()
    throw new OpenCtsError('OCTS_ERR_WRITE_FAILED', {
      message: `cannot write ${join(dir, PID_FILE)}: ${String(error)}`,
      cause: error,
    })
  }
  return {
    release() {
      if (held.open) held.close()
    },
  }
}
