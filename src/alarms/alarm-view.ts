/**
 * @module alarms/alarm-view
 * The API representations of a rule and of a transition (docs/alarms.md). Pure.
 */
import type { AlarmRule, AlarmTransition } from '../store/index.js'

export function alarmView(rule: AlarmRule): Record<string, unknown> {
  return {
    alarm_id: rule.id,
    alarm_name: rule.name,
    description: rule.description,
    filter: rule.filter,
    condition: {
      comparison: rule.comparison,
      threshold: rule.threshold,
      period: rule.periodSeconds,
    },
    enabled: rule.enabled,
    topic_urn: rule.topicUrn,
    state: rule.state,
    state_reason: rule.stateReason,
    state_changed_time: rule.stateChangedAt,
    last_count: rule.lastCount,
    last_evaluated_time: rule.lastEvaluatedAt,
    create_time: rule.createdAt,
    update_time: rule.updatedAt,
  }
}

export function transitionView(t: AlarmTransition): Record<string, unknown> {
  return {
    transition_id: t.id,
    alarm_id: t.alarmId,
    alarm_name: t.alarmName,
    old_state: t.oldState,
    new_state: t.newState,
    reason: t.reason,
    count: t.count,
    condition: { comparison: t.comparison, threshold: t.threshold, period: t.periodSeconds },
    window: { start: t.windowStart, end: t.windowEnd },
    time: t.time,
    notified: t.notified,
  }
}
