/**
 * @module recorder/data-trackers
 * Which data tracker records an object operation (spec §5.1 data trackers): the enabled tracker of
 * the project whose `data_bucket.data_bucket_name` is the operation's bucket and whose `data_event`
 * lists the operation's kind (READ or WRITE). No such tracker: the operation is not recorded. Pure;
 * the recorder refreshes the trackers from the OpenCTS API (`GET /v3/{project_id}/trackers
 * ?tracker_type=data`) every `refreshMs`.
 */
import { bucketOf, type RouteMatch } from './match-route.js'

/** The fields of a tracker this needs (a ListTrackers item). */
export interface DataTrackerView {
  readonly tracker_name: string
  readonly tracker_type: string
  readonly status: string
  readonly data_bucket?: {
    readonly data_bucket_name: string
    readonly data_event: readonly string[]
  }
}

/** The tracker recording `match`, or null. */
export function dataTrackerFor(
  trackers: readonly DataTrackerView[],
  match: RouteMatch,
): string | null {
  const bucket = bucketOf(match)
  const event = match.rule.data_event
  if (bucket === undefined || event === undefined) return null
  const tracker = trackers.find(
    (t) =>
      t.tracker_type === 'data' &&
      t.status !== 'disabled' &&
      t.data_bucket?.data_bucket_name === bucket &&
      t.data_bucket.data_event.includes(event),
  )
  return tracker?.tracker_name ?? null
}
