/**
 * Tests of `--from/--to` parsing: epoch ms, ISO-8601, relative times and their errors.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UsageError } from './cli-errors.js'
import { parseTimeArg } from './parse-time.js'

const NOW = Date.UTC(2026, 4, 10, 12, 0, 0)

describe('parseTimeArg', () => {
  it('takes 13-digit epoch milliseconds as they are', () => {
    assert.equal(parseTimeArg('1767225600000', NOW), 1767225600000)
  })

  it('reads relative times as that long before now', () => {
    assert.equal(parseTimeArg('30s', NOW), NOW - 30_000)
    assert.equal(parseTimeArg('15m', NOW), NOW - 15 * 60_000)
    assert.equal(parseTimeArg('2h', NOW), NOW - 2 * 3_600_000)
    assert.equal(parseTimeArg('3d', NOW), NOW - 3 * 86_400_000)
    assert.equal(parseTimeArg('1w', NOW), NOW - 7 * 86_400_000)
    assert.equal(parseTimeArg('now', NOW), NOW)
  })

  it('reads ISO-8601 dates (UTC midnight) and date-times with an offset', () => {
    assert.equal(parseTimeArg('2026-01-01', NOW), Date.UTC(2026, 0, 1))
    assert.equal(parseTimeArg('2026-01-01T10:30:00Z', NOW), Date.UTC(2026, 0, 1, 10, 30))
    assert.equal(
      parseTimeArg('2026-01-01T10:30:00.250Z', NOW),
      Date.UTC(2026, 0, 1, 10, 30, 0, 250),
    )
    assert.equal(parseTimeArg('2026-01-01T12:30:00+02:00', NOW), Date.UTC(2026, 0, 1, 10, 30))
  })

  it('rejects seconds (10 digits), unknown units and free text, naming the flag', () => {
    assert.throws(
      () => parseTimeArg('1767225600', NOW, 'from'),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.match(error.message, /--from must be 13-digit epoch milliseconds.*10 digits/)
        return true
      },
    )
    for (const bad of ['15y', 'yesterday', '2026-13-45', '', '-5m', '2026/01/01'])
      assert.throws(() => parseTimeArg(bad, NOW, 'to'), /--to must be/, bad)
  })
})
