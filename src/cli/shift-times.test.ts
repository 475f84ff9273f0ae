/**
 * Tests of `--shift-to-now`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { shiftTimes } from './shift-times.js'

describe('shiftTimes', () => {
  it('moves every time by one offset so the newest is one second before now', () => {
    const out = shiftTimes(
      [
        { value: { time: 1000, trace_name: 'a' }, line: 1 },
        { value: { time: 61_000, trace_name: 'b' }, line: 2 },
        { value: { time: 31_000 }, line: 3 },
      ],
      10_000_000,
    )
    assert.deepEqual(
      out.map((t) => (t.value as { time: number }).time),
      [10_000_000 - 1000 - 60_000, 10_000_000 - 1000, 10_000_000 - 1000 - 30_000],
    )
    assert.deepEqual(out[0], { value: { time: 9_939_000, trace_name: 'a' }, line: 1 })
  })

  it('leaves traces without a numeric time unchanged', () => {
    const input = [
      { value: { time: 'soon' }, line: 1 },
      { value: { time: 5000 }, line: 2 },
    ]
    const out = shiftTimes(input, 100_000)
    assert.equal(out[0], input[0])
    assert.equal((out[1]?.value as { time: number }).time, 99_000)
  })
})
