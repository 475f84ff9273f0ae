/**
 * @module delivery/email-port
 * Sends an email delivery: the trace it carries (read back from the store by id), formatted by
 * `formatTraceEmail`, to the subscription's address through the SMTP sender. A trace no longer in
 * the store (older than the retention) cannot be sent any more: a permanent failure. An alarm
 * transition (`{"type":"opencts.alarm",…}`, alarms/alarm-notice) is sent from its payload alone.
 */
import type { DeliveryRecord, TraceStore } from '../store/index.js'
import type { EmailPort } from './delivery-worker.js'
import type { KeyEventEnvelope } from './delivery-payload.js'
import { formatTraceEmail, type EmailSender } from './email-sender.js'

/** The email of an alarm transition, from its notification body. */
export function alarmEmail(
  payload: Record<string, unknown>,
  deliveryId: string,
): { subject: string; text: string; headers: Record<string, string> } {
  const field = (key: string): string => {
    const value = payload[key]
    return typeof value === 'string' || typeof value === 'number'
      ? String(value).replace(/[\r\n]+/g, ' ')
      : '-'
  }
  const time = typeof payload.time === 'number' ? new Date(payload.time).toISOString() : '-'
  return {
    subject: `[OpenCTS] alarm ${field('alarm_name')}: ${field('old_state')} -> ${field('new_state')}`,
    text: [
      `OpenCTS alarm rule "${field('alarm_name')}" changed state.`,
      '',
      `From:        ${field('old_state')}`,
      `To:          ${field('new_state')}`,
      `Reason:      ${field('reason')}`,
      `Time:        ${time} (UTC)`,
      `Rule ID:     ${field('alarm_id')}`,
      `Project ID:  ${field('project_id')}`,
      `Delivery ID: ${deliveryId}`,
      '',
      JSON.stringify(payload, null, 2),
      '',
    ].join('\n'),
    headers: { 'X-OpenCTS-Delivery-Id': deliveryId.replace(/[\r\n]+/g, ' ') },
  }
}

export function emailPort(sender: EmailSender, traces: TraceStore): EmailPort {
  return async (delivery: DeliveryRecord) => {
    const parsed = JSON.parse(delivery.payload) as Record<string, unknown>
    if (parsed.type === 'opencts.alarm') {
      await sender.send({ to: delivery.endpoint, ...alarmEmail(parsed, delivery.id) })
      return
    }
    const envelope = parsed as unknown as KeyEventEnvelope
    const trace = await traces.get(delivery.projectId, delivery.traceId)
    if (trace === undefined)
      throw Object.assign(new Error(`trace ${delivery.traceId} is no longer stored`), {
        permanent: true,
      })
    const content = formatTraceEmail(trace, envelope.notification_name, delivery.id)
    await sender.send({ to: delivery.endpoint, ...content })
  }
}
