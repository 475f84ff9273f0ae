/**
 * @module alarms/alarm-transition
 * Builds a rule's transition with the deliveries that notify it: the topic's subscriptions at the
 * time of the transition. A topic that no longer exists (or is not the rule's project's) has
 * nowhere to send to: the transition is recorded with `notified: 0`.
 */
import type {
  AlarmRule,
  AlarmState,
  AlarmTransition,
  DeliveryRecord,
  DeliveryStore,
} from '../store/index.js'
import { alarmDeliveries } from './alarm-notice.js'

export interface TransitionInput {
  readonly id: string
  readonly newState: AlarmState
  readonly reason: string
  readonly count: number | null
  readonly window: readonly [number, number]
  readonly time: number
}

export async function makeTransition(
  delivery: Pick<DeliveryStore, 'getTopic' | 'listSubscriptions'>,
  rule: AlarmRule,
  input: TransitionInput,
): Promise<{ transition: AlarmTransition; deliveries: DeliveryRecord[] }> {
  const base = {
    id: input.id,
    projectId: rule.projectId,
    alarmId: rule.id,
    alarmName: rule.name,
    oldState: rule.state,
    newState: input.newState,
    reason: input.reason,
    count: input.count,
    comparison: rule.comparison,
    threshold: rule.threshold,
    periodSeconds: rule.periodSeconds,
    windowStart: input.window[0],
    windowEnd: input.window[1],
    time: input.time,
  }
  const urn = rule.topicUrn
  const topic = urn === null ? undefined : await delivery.getTopic(urn)
  if (urn === null || topic?.projectId !== rule.projectId)
    return { transition: { ...base, notified: 0 }, deliveries: [] }
  const subscriptions = await delivery.listSubscriptions(urn)
  const transition = { ...base, notified: subscriptions.length }
  return { transition, deliveries: alarmDeliveries(transition, urn, subscriptions) }
}
