/**
 * @module alarms/alarm-notice
 * The notification of a transition: one outbox delivery per subscription of the rule's topic,
 * sent by the delivery worker like key-event notifications (signed, retried, dead letters). Its
 * id is derived from (transition, rule, subscription), so writing it again is harmless; its
 * `notification_id` is the rule's id and its `trace_id` the transition's id. The body:
 *
 * ```json
 * {"type":"opencts.alarm","delivery_id","transition_id","alarm_id","alarm_name","project_id",
 *  "topic_urn","old_state","new_state","reason","count",
 *  "condition":{"comparison","threshold","period"},"window":{"start","end"},"time"}
 * ```
 */
import { createHash } from 'node:crypto'
import type { AlarmTransition, DeliveryRecord, SubscriptionRecord } from '../store/index.js'

export const ALARM_NOTICE_TYPE = 'opencts.alarm'

function stableId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('|')).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export function alarmNotice(
  transition: AlarmTransition,
  topicUrn: string,
  deliveryId: string,
): Record<string, unknown> {
  return {
    type: ALARM_NOTICE_TYPE,
    delivery_id: deliveryId,
    transition_id: transition.id,
    alarm_id: transition.alarmId,
    alarm_name: transition.alarmName,
    project_id: transition.projectId,
    topic_urn: topicUrn,
    old_state: transition.oldState,
    new_state: transition.newState,
    reason: transition.reason,
    count: transition.count,
    condition: {
      comparison: transition.comparison,
      threshold: transition.threshold,
      period: transition.periodSeconds,
    },
    window: { start: transition.windowStart, end: transition.windowEnd },
    time: transition.time,
  }
}

/** The deliveries notifying `transition` to each subscription of the topic `topicUrn`. */
export function alarmDeliveries(
  transition: AlarmTransition,
  topicUrn: string,
  subscriptions: readonly SubscriptionRecord[],
): DeliveryRecord[] {
  return subscriptions.map((s) => {
    const id = stableId(transition.id, transition.alarmId, `subscription:${s.id}`)
    return {
      id,
      projectId: transition.projectId,
      notificationId: transition.alarmId,
      traceId: transition.id,
      targetKind: 'subscription',
      targetId: s.id,
      protocol: s.protocol,
      endpoint: s.endpoint,
      payload: JSON.stringify(alarmNotice(transition, topicUrn, id)),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: transition.time,
      lastError: null,
      createdAt: transition.time,
      deliveredAt: null,
    }
  })
}
