/**
 * @module cli/parse-time
 * Time arguments of `opencts query --from/--to`, as epoch milliseconds:
 * - 13 digits: epoch milliseconds, as the API takes them (`1767225600000`);
 * - ISO-8601: a date (`2026-01-01`, midnight UTC) or a date-time (`2026-01-01T10:30:00Z`; without an
 *   offset it is local time, as in JavaScript);
 * - relative: a count and a unit s|m|h|d|w meaning that long before now (`15m`, `2h`, `3d`);
 * - `now`.
 */
import { UsageError } from './cli-errors.js'

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

const ISO_DATE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/

/** Parses one time argument; `name` is the flag, for the error message. Throws UsageError. */
export function parseTimeArg(text: string, now: number, name = 'time'): number {
  const value = text.trim()
  if (value === 'now') return now
  if (/^\d+$/.test(value)) {
    if (value.length !== 13) {
      throw new UsageError(
        `--${name} must be 13-digit epoch milliseconds, an ISO-8601 date or a relative time like 15m, got ${JSON.stringify(text)} (${value.length} digits)`,
      )
    }
    return Number(value)
  }
  const relative = /^(\d{1,6})([smhdw])$/.exec(value)
  if (relative !== null) {
    const [, count, unit] = relative
    return now - Number(count) * (UNIT_MS[unit ?? ''] ?? 0)
  }
  if (ISO_DATE.test(value)) {
    const ms = Date.parse(value)
    if (Number.isFinite(ms)) return ms
  }
  throw new UsageError(
    `--${name} must be 13-digit epoch milliseconds, an ISO-8601 date (2026-01-01T10:00:00Z) or a relative time (15m, 2h, 3d), got ${JSON.stringify(text)}`,
  )
}
