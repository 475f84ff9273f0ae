/**
 * @module delivery/notification-matcher
 * Turns committed traces into outbox deliveries: reads the store from the matcher's cursor, matches
 * each trace against its project's notifications (`notifications/match-notification.ts`), resolves
 * each matching notification's target — every subscription of its topic, or its function — and
 * enqueues one delivery per (trace, notification, endpoint) together with the new cursor, in one
 * transaction. After a crash it resumes from the cursor; delivery ids are stable, so nothing is
 * enqueued twice. On its first run the cursor starts at the head: notifications are about what
 * happens from now on, not the 7 days already stored. While no notification is enabled anywhere,
 * the cursor follows the head without reading traces, so ingest pays nothing for delivery.
 *
 * A notification whose topic or function does not exist (yet) matches but has nowhere to go; the
 * trace is passed by (counted in `unroutable`).
 */
import type { Notification, TraceRecord } from '../model/index.js'
import { notificationMatches } from '../notifications/match-notification.js'
import type { Clock } from '../platform/clock.js'
import type { ConfigStore, DeliveryRecord, DeliveryStore, TraceStore } from '../store/index.js'
import { deliveryId, functionPayload, topicPayload } from './delivery-payload.js'

const PAGE = 500
const MAX_PAGES = 40

export interface MatcherDeps {
  readonly traces: TraceStore
  readonly config: ConfigStore
  readonly delivery: DeliveryStore
  readonly clock: Clock
}

export interface MatchReport {
  readonly traces: number
  readonly enqueued: number
  readonly unroutable: number
}

interface Target {
  readonly kind: 'subscription' | 'function'
  readonly id: string
  readonly protocol: 'http' | 'https' | 'email'
  readonly endpoint: string
}

export class NotificationMatcher {
  readonly #deps: MatcherDeps

  constructor(deps: MatcherDeps) {
    this.#deps = deps
  }

  /** Matches everything committed since the cursor (bounded per call); returns what it did. */
  async runOnce(): Promise<MatchReport> {
    const { traces, delivery } = this.#deps
    let cursor = await delivery.deliveryCursor()
    if (cursor === undefined) {
      // Never set (not 0: a cursor set on an empty store keeps every trace since to match).
      cursor = await traces.headSeq()
      await delivery.enqueue(cursor, [])
    }
    const report = { traces: 0, enqueued: 0, unroutable: 0 }
    // Nothing can match: skip to the head without reading the traces. The head is read before
    // counting, so a trace committed after a notification appeared is never skipped.
    const head = await traces.headSeq()
    if ((await this.#deps.config.countActiveNotifications()) === 0) {
      if (head > cursor) await delivery.enqueue(head, [])
      return report
    }
    const notifications = new Map<string, Notification[]>()
    const targets = new Map<string, Target[]>()
    for (let page = 0; page < MAX_PAGES; page++) {
      const batch = await traces.readFrom(cursor, PAGE)
      if (batch.length === 0) break
      const records: DeliveryRecord[] = []
      for (const { trace } of batch) {
        report.traces++
        let list = notifications.get(trace.project_id)
        if (list === undefined) {
          list = await this.#deps.config.listNotifications(trace.project_id)
          notifications.set(trace.project_id, list)
        }
        for (const notification of list) {
          if (!notificationMatches(notification, trace)) continue
          const urn = notification.topic_id ?? ''
          let found = targets.get(urn)
          if (found === undefined) {
            found = await this.#targets(urn)
            targets.set(urn, found)
          }
          if (found.length === 0) report.unroutable++
          for (const target of found) records.push(this.#record(notification, trace, target))
        }
      }
      cursor = batch.at(-1)?.seq ?? cursor
      await delivery.enqueue(cursor, records)
      report.enqueued += records.length
      if (batch.length < PAGE) break
    }
    return report
  }

  async #targets(urn: string): Promise<Target[]> {
    const { delivery } = this.#deps
    if (urn.startsWith('urn:fss:')) {
      const fn = await delivery.getFunction(urn)
      if (fn === undefined) return []
      const protocol = fn.endpoint.startsWith('https:') ? 'https' : 'http'
      return [{ kind: 'function', id: fn.urn, protocol, endpoint: fn.endpoint }]
    }
    return (await delivery.listSubscriptions(urn)).map((s) => ({
      kind: 'subscription' as const,
      id: s.id,
      protocol: s.protocol,
      endpoint: s.endpoint,
    }))
  }

  #record(notification: Notification, trace: TraceRecord, target: Target): DeliveryRecord {
    const now = this.#deps.clock.now()
    const id = deliveryId(
      trace.trace_id,
      notification.notification_id,
      `${target.kind}:${target.id}`,
    )
    return {
      id,
      projectId: trace.project_id,
      notificationId: notification.notification_id,
      traceId: trace.trace_id,
      targetKind: target.kind,
      targetId: target.id,
      protocol: target.protocol,
      endpoint: target.endpoint,
      payload:
        target.kind === 'function' ? functionPayload(trace) : topicPayload(id, notification, trace),
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      createdAt: now,
      deliveredAt: null,
    }
  }
}
