/**
 * @module delivery/email-port
 * Sends an email delivery: the trace it carries (read back from the store by id), formatted by
 * `formatTraceEmail`, to the subscription's address through the SMTP sender. A trace no longer in
 * the store (older than the retention) cannot be sent any more: a permanent failure.
 */
import type { DeliveryRecord, TraceStore } from '../store/index.js'
import type { EmailPort } from './delivery-worker.js'
import type { KeyEventEnvelope } from './delivery-payload.js'
import { formatTraceEmail, type EmailSender } from './email-sender.js'

export function emailPort(sender: EmailSender, traces: TraceStore): EmailPort {
  return async (delivery: DeliveryRecord) => {
    const envelope = JSON.parse(delivery.payload) as KeyEventEnvelope
    const trace = await traces.get(delivery.projectId, delivery.traceId)
    if (trace === undefined)
      throw Object.assign(new Error(`trace ${delivery.traceId} is no longer stored`), {
        permanent: true,
      })
    const content = formatTraceEmail(trace, envelope.notification_name, delivery.id)
    await sender.send({ to: delivery.endpoint, ...content })
  }
}
