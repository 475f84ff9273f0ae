/**
 * @module delivery/delivery-payload
 * What a delivery sends, fixed when it is enqueued (stored in the outbox, so retries send the same
 * bytes), and its stable id. Pure (`node:crypto` for the id).
 *
 * - topic subscriptions (http, https, email): a JSON envelope
 *   `{"type":"opencts.key_event","delivery_id","notification_id","notification_name","topic_urn",
 *     "project_id","trace":<the trace as ListTraces returns it>}`;
 * - functions (`urn:fss:…`): the CTS trigger event `{"cts":<the trace>}`.
 */
import { createHash } from 'node:crypto'
import type { Notification, TraceRecord } from '../model/index.js'
import { toApiTrace } from '../model/index.js'

export interface KeyEventEnvelope {
  readonly type: 'opencts.key_event'
  readonly delivery_id: string
  readonly notification_id: string
  readonly notification_name: string
  readonly topic_urn: string
  readonly project_id: string
  readonly trace: ReturnType<typeof toApiTrace>
}

/** A UUID-shaped id derived from (trace, notification, target): the same inputs, the same id. */
export function deliveryId(traceId: string, notificationId: string, target: string): string {
  const h = createHash('sha256').update(`${traceId}|${notificationId}|${target}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

export function topicPayload(id: string, notification: Notification, trace: TraceRecord): string {
  const envelope: KeyEventEnvelope = {
    type: 'opencts.key_event',
    delivery_id: id,
    notification_id: notification.notification_id,
    notification_name: notification.notification_name,
    topic_urn: notification.topic_id ?? '',
    project_id: trace.project_id,
    trace: toApiTrace(trace),
  }
  return JSON.stringify(envelope)
}

export function functionPayload(trace: TraceRecord): string {
  return JSON.stringify({ cts: toApiTrace(trace) })
}
