import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compare, insufficientReason, stateOf, windowAt } from './alarm-condition.js'

const T = Date.UTC(2026, 10, 21, 12, 0, 0)

describe('alarm condition', () => {
  it('compares a count with each operator, at and around the threshold', () => {
    const table: [number, '>' | '>=' | '<' | '<=', number, boolean][] = [
      [5, '>', 5, false],
      [6, '>', 5, true],
      [5, '>=', 5, true],
      [4, '>=', 5, false],
      [4, '<', 5, true],
      [5, '<', 5, false],
      [5, '<=', 5, true],
      [6, '<=', 5, false],
      [0, '>', 0, false],
    ]
    for (const [count, op, threshold, want] of table)
      assert.equal(compare(count, op, threshold), want, `${count} ${op} ${threshold}`)
  })

  it('counts the window [now - period, now) and is short of data for one period after enabling', () => {
    const rule = { periodSeconds: 300, enabledAt: T }
    assert.deepEqual(windowAt(rule, T + 1000), [T + 1000 - 300_000, T + 1000])
    assert.match(insufficientReason(rule, T + 299_999, 0) ?? '', /less than one period \(300 s\)/)
    assert.equal(insufficientReason(rule, T + 300_000, 0), null)
    assert.match(insufficientReason(rule, T + 400_000, T + 200_000) ?? '', /retention/)
  })

  it('is alarm when the condition holds, ok otherwise, with the count in the reason', () => {
    const rule = { comparison: '>' as const, threshold: 2, periodSeconds: 60 }
    assert.deepEqual(stateOf(rule, 3), {
      state: 'alarm',
      reason: '3 matching traces in the last 60 s: > 2',
    })
    assert.deepEqual(stateOf(rule, 2), {
      state: 'ok',
      reason: '2 matching traces in the last 60 s: not > 2',
    })
  })
})
