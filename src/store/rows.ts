/**
 * @module store/rows
 * Engine-neutral conversions between the ports' records and the rows every engine stores them in:
 * the activity chart's buckets from per-(interval, rating) counts, a checkpoint from its row, and
 * a delivery's values in column order. Each engine keeps its own SQL.
 */
import type { DeliveryRecord, StoredCheckpoint, TraceActivity } from './store.js'

/** One count of the activity query: interval `b`, rating `r`, `n` traces. */
export interface ActivityCount {
  readonly b: number
  readonly r: string
  readonly n: number
}

/** The non-empty intervals by rating (any rating but warning and incident counts as normal). */
export function activityBuckets(counts: readonly ActivityCount[]): {
  buckets: TraceActivity['buckets']
  total: number
} {
  const buckets = new Map<number, TraceActivity['buckets'][number]>()
  let total = 0
  for (const row of counts) {
    let bucket = buckets.get(row.b)
    if (bucket === undefined) {
      bucket = { index: row.b, normal: 0, warning: 0, incident: 0 }
      buckets.set(row.b, bucket)
    }
    if (row.r === 'warning' || row.r === 'incident') bucket[row.r] += row.n
    else bucket.normal += row.n
    total += row.n
  }
  return { buckets: [...buckets.values()], total }
}

/** A stored checkpoint row. */
export interface CheckpointRow {
  project_id: string
  size: number
  root: Buffer
  time: number
  note: string
}

export const checkpointOf = (row: CheckpointRow): StoredCheckpoint => ({
  projectId: row.project_id,
  size: row.size,
  root: row.root,
  time: row.time,
  note: row.note,
})

/**
 * A delivery's values in the column order of `deliveries`: id, project_id, notification_id,
 * trace_id, target_kind, target_id, protocol, endpoint, payload, status, attempts,
 * next_attempt_at, last_error, created_at, delivered_at.
 */
export function deliveryValues(d: DeliveryRecord): unknown[] {
  return [
    d.id,
    d.projectId,
    d.notificationId,
    d.traceId,
    d.targetKind,
    d.targetId,
    d.protocol,
    d.endpoint,
    d.payload,
    d.status,
    d.attempts,
    d.nextAttemptAt,
    d.lastError,
    d.createdAt,
    d.deliveredAt,
  ]
}

/** Transitions kept per alarm rule: recording one more deletes the oldest beyond this. */
export const ALARM_HISTORY_KEEP = 1000
