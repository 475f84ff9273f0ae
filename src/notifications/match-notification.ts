/**
 * @module notifications/match-notification
 * Whether a committed trace matches a key-event notification (spec §6.6). Pure.
 *
 * A trace matches when all of these hold:
 * 1. the notification is `enabled`, has a `topic_id`, and belongs to the trace's project;
 * 2. `operation_type` is `complete`, or one entry of `operations` has the trace's `service_type`
 *    and `resource_type` and lists its `trace_name`;
 * 3. when `notify_user_list` names users, the trace's operator (`user.name`) is one of them
 *    (OpenCTS has no IAM groups: `user_group` is a label, only `user_list` counts);
 * 4. when `filter.is_support_filter`, its rules hold: all of them (`AND`) or at least one (`OR`).
 *    A rule compares the trace's field as a string; an absent field equals nothing, so
 *    `field != x` holds and `field = x` does not.
 */
import type { Notification, TraceRecord } from '../model/index.js'
import { parseFilterRule, type FilterRule } from '../model/index.js'

function fieldValue(trace: TraceRecord, rule: FilterRule): string | null {
  return trace[rule.field]
}

function ruleHolds(trace: TraceRecord, rule: FilterRule): boolean {
  const value = fieldValue(trace, rule)
  return rule.op === '=' ? value === rule.value : value !== rule.value
}

/** The users a notification is limited to, or null when it is not limited. */
export function notifiedUsers(notification: Notification): ReadonlySet<string> | null {
  const users = notification.notify_user_list.flatMap((group) => group.user_list)
  return users.length === 0 ? null : new Set(users)
}

export function notificationMatches(notification: Notification, trace: TraceRecord): boolean {
  if (notification.status !== 'enabled') return false
  if (notification.topic_id === undefined || notification.topic_id === '') return false
  if (notification.project_id !== trace.project_id) return false
  if (
    notification.operation_type === 'customized' &&
    !notification.operations.some(
      (op) =>
        op.service_type === trace.service_type &&
        op.resource_type === trace.resource_type &&
        op.trace_names.includes(trace.trace_name),
    )
  )
    return false
  const users = notifiedUsers(notification)
  const operator = trace.user_name ?? trace.user?.name ?? null
  if (users !== null && (operator === null || !users.has(operator))) return false
  const filter = notification.filter
  if (filter?.is_support_filter === true && filter.rule.length > 0) {
    const rules = filter.rule.map(parseFilterRule)
    // Stored rules were validated; an unparsable one (older data) never holds.
    const holds = rules.map((r) => !('error' in r) && ruleHolds(trace, r))
    return filter.condition === 'OR' ? holds.some(Boolean) : holds.every(Boolean)
  }
  return true
}
