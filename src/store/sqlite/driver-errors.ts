/**
 * @module store/sqlite/driver-errors
 * Converts better-sqlite3 errors into catalogue errors at the store boundary: nothing above `store/`
 * sees a driver error.
 */
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'

/** The driver's error code (`SQLITE_CONSTRAINT_UNIQUE` ...), if any. */
export function sqliteCode(error: unknown): string | undefined {
  if (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string'
  )
    return error.code
  return undefined
}

export function isUniqueViolation(error: unknown): boolean {
  const code = sqliteCode(error)
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** SQLITE_FULL: the disk (ENOSPC on the file or its WAL) or the `max_page_count` cap is full. */
export function isDiskFull(error: unknown): boolean {
  return sqliteCode(error) === 'SQLITE_FULL'
}

/** Seconds a client is asked to wait after a write refused for lack of space. */
export const DISK_FULL_RETRY_AFTER_S = 30

/**
 * Runs `fn`, converting driver errors: BUSY/LOCKED → OCTS_ERR_STORE_CONFLICT, FULL →
 * OCTS_ERR_STORAGE_FULL (503 with Retry-After; the transaction rolled back, nothing stored), others
 * → write/read failure.
 */
export function guard<T>(kind: 'read' | 'write', fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    if (isOpenCtsError(error)) throw error
    const code = sqliteCode(error) ?? ''
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new OpenCtsError('OCTS_ERR_STORE_CONFLICT', { cause: error, retryAfter: 1 })
    }
    if (code === 'SQLITE_FULL') {
      throw new OpenCtsError('OCTS_ERR_STORAGE_FULL', {
        cause: error,
        retryAfter: DISK_FULL_RETRY_AFTER_S,
      })
    }
    throw new OpenCtsError(kind === 'read' ? 'OCTS_ERR_READ_FAILED' : 'OCTS_ERR_WRITE_FAILED', {
      cause: error,
    })
  }
}

/** `guard` for async callers: driver and catalogue errors become a rejected promise, never a sync throw. */
export function run<T>(kind: 'read' | 'write', fn: () => T): Promise<T> {
  try {
    return Promise.resolve(guard(kind, fn))
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)))
  }
}
