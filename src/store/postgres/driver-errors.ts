/**
 * @module store/postgres/driver-errors
 * Converts `pg` errors into catalogue errors at the store boundary: nothing above `store/` sees a
 * driver error or SQLSTATE.
 */
import { OpenCtsError, isOpenCtsError } from '../../errors/index.js'
import type { StorageCondition } from '../../platform/storage-condition.js'

/** The SQLSTATE (`23505` …) or Node socket code (`ECONNREFUSED` …) of a driver error. */
export function pgCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code
    if (typeof code === 'string') return code
  }
  return undefined
}

/** 23505: a unique or primary key was taken. */
export function isUniqueViolation(error: unknown): boolean {
  return pgCode(error) === '23505'
}

const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
])

/** The database cannot be reached (or is shutting down / refusing connections). */
export function isUnavailable(error: unknown): boolean {
  const code = pgCode(error)
  if (code === undefined) {
    const message = error instanceof Error ? error.message : ''
    return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated unexpectedly/i.test(
      message,
    )
  }
  return (
    UNAVAILABLE_NODE_CODES.has(code) ||
    code.startsWith('08') || // connection exception
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' || // cannot_connect_now
    code === '53300' // too_many_connections
  )
}

/** Seconds a client is asked to wait after a write refused for lack of space. */
export const DISK_FULL_RETRY_AFTER_S = 30

/**
 * Converts a driver error: serialization failure / deadlock / lock timeout →
 * OCTS_ERR_STORE_CONFLICT; disk full (53100) → OCTS_ERR_STORAGE_FULL (marks `storage` full);
 * unreachable → OCTS_ERR_STORE_UNAVAILABLE; others → read/write failure. Catalogue errors pass.
 */
export function toStoreError(
  kind: 'read' | 'write',
  error: unknown,
  storage?: StorageCondition,
): OpenCtsError {
  if (isOpenCtsError(error)) return error
  const code = pgCode(error) ?? ''
  if (code === '40001' || code === '40P01' || code === '55P03')
    return new OpenCtsError('OCTS_ERR_STORE_CONFLICT', { cause: error, retryAfter: 1 })
  if (code === '53100') {
    storage?.markFull(error)
    return new OpenCtsError('OCTS_ERR_STORAGE_FULL', {
      cause: error,
      retryAfter: DISK_FULL_RETRY_AFTER_S,
    })
  }
  if (isUnavailable(error))
    return new OpenCtsError('OCTS_ERR_STORE_UNAVAILABLE', { cause: error, retryAfter: 1 })
  return new OpenCtsError(kind === 'read' ? 'OCTS_ERR_READ_FAILED' : 'OCTS_ERR_WRITE_FAILED', {
    cause: error,
  })
}
