/**
 * @module errors/opencts-error
 * The typed error every OpenCTS module throws. Callers match on `code` (stable, from the catalogue);
 * the HTTP layer turns it into a CTS error body `{"error_code","error_msg"}` with `httpStatus`.
 */
import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js'

export interface OpenCtsErrorOptions {
  /** Overrides the catalogue message; should say what was got and what was wanted. */
  readonly message?: string
  readonly cause?: unknown
  /** Seconds a client should wait before retrying (503 answers carry it as `Retry-After`). */
  readonly retryAfter?: number
}

export class OpenCtsError extends Error {
  readonly code: ErrorCode
  readonly errorCode: string
  readonly httpStatus: number
  readonly retryAfter: number | undefined

  constructor(code: ErrorCode, options: OpenCtsErrorOptions = {}) {
    const entry = ERROR_CATALOGUE[code]
    super(
      options.message ?? entry.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'OpenCtsError'
    this.code = code
    this.errorCode = entry.errorCode
    this.httpStatus = entry.httpStatus
    this.retryAfter = options.retryAfter
  }

  /** The CTS error body for this error. */
  toBody(): { error_code: string; error_msg: string } {
    return { error_code: this.errorCode, error_msg: this.message }
  }
}

/** Shorthand: `ctsError('OCTS_ERR_QUERY', 'limit must be 1..200, got 0')`. */
export function ctsError(code: ErrorCode, message?: string): OpenCtsError {
  return new OpenCtsError(code, message === undefined ? {} : { message })
}

export function isOpenCtsError(value: unknown): value is OpenCtsError {
  return value instanceof OpenCtsError
}
