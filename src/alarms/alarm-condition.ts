/**
 * @module alarms/alarm-condition
 * What state a rule is in at a time, given the count of its window. Pure.
 *
 * - `insufficient_data` while less than one whole period has passed since the rule was created or
 *   re-enabled (its first window would reach back before it existed), and when the window reaches
 *   back beyond the retention (older traces are purged: the count would be short). Nothing is
 *   counted then.
 * - otherwise `alarm` when `count comparison threshold` holds, else `ok`.
 */
import type { AlarmComparison, AlarmRule, AlarmState } from '../store/index.js'

export const COMPARISONS: readonly AlarmComparison[] = ['>', '>=', '<', '<=']

export function compare(count: number, comparison: AlarmComparison, threshold: number): boolean {
  switch (comparison) {
    case '>':
      return count > threshold
    case '>=':
      return count >= threshold
    case '<':
      return count < threshold
    case '<=':
      return count <= threshold
  }
}

/** The window a rule counts when evaluated at `now`: [start, end) in ms. */
export function windowAt(rule: Pick<AlarmRule, 'periodSeconds'>, now: number): [number, number] {
  return [now - rule.periodSeconds * 1000, now]
}

/**
 * Why the data is insufficient at `now` (the reason text), or null when the window can be counted.
 * `oldest` is the oldest time the store still holds (now minus the retention).
 */
export function insufficientReason(
  rule: Pick<AlarmRule, 'periodSeconds' | 'enabledAt'>,
  now: number,
  oldest: number,
): string | null {
  const [start] = windowAt(rule, now)
  if (start < rule.enabledAt)
    return `less than one period (${rule.periodSeconds} s) since the rule was created or enabled`
  if (start < oldest) return `the window reaches back beyond the retention of traces`
  return null
}

/** The state and its reason for a counted window. */
export function stateOf(
  rule: Pick<AlarmRule, 'comparison' | 'threshold' | 'periodSeconds'>,
  count: number,
): { state: AlarmState; reason: string } {
  const breached = compare(count, rule.comparison, rule.threshold)
  const { comparison, threshold, periodSeconds } = rule
  return {
    state: breached ? 'alarm' : 'ok',
    reason: `${count} matching traces in the last ${periodSeconds} s: ${breached ? '' : 'not '}${comparison} ${threshold}`,
  }
}
