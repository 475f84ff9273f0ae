/**
 * @module delivery/log-streams/stream-selection
 * Which committed traces go to the log streams, and under which tracker. Pure.
 *
 * A trace is streamed when the tracker that takes it (the rule of transfer, `tracksTrace`: a
 * management tracker takes its project's management traces, a data tracker the data traces carrying
 * its name; `exclude_service: ["KMS"]` drops KMS `createDatakey`) has `lts.is_lts_enabled` and
 * delivers (`trackerDelivers`: not disabled). Any other trace is skipped for good: the cursor
 * passes it, so enabling LTS later does not stream what was recorded before (CTS: a stream starts
 * when it is enabled; a disabled tracker stops).
 */
import {
  trackerDelivers,
  traceCategory,
  type TraceRecord,
  type Tracker,
} from '../../model/index.js'
import type { SequencedTrace } from '../../store/index.js'
import { tracksTrace } from '../../transfer/trace-files.js'
import type { LogRecordInput } from './log-sink.js'

/** The trackers that stream, by project and then by the stream they feed. */
export type StreamIndex = ReadonlyMap<string, Tracker>

function streamKey(projectId: string, trackerKey: string): string {
  return `${projectId}\u0000${trackerKey}`
}

/** Indexes the trackers that stream (LTS enabled and delivering); others are left out. */
export function streamIndex(trackers: readonly Tracker[]): StreamIndex {
  const index = new Map<string, Tracker>()
  for (const tracker of trackers) {
    if (!tracker.lts.is_lts_enabled || !trackerDelivers(tracker)) continue
    // The management tracker is found by type: its traces do not carry its name.
    const key = tracker.tracker_type === 'system' ? '\u0000system' : tracker.tracker_name
    index.set(streamKey(tracker.project_id, key), tracker)
  }
  return index
}

/** The tracker streaming `trace`, or undefined when no tracker streams it. */
export function streamingTracker(index: StreamIndex, trace: TraceRecord): Tracker | undefined {
  const key =
    traceCategory(trace) === 'system' ? '\u0000system' : (trace.tracker_name ?? '\u0000none')
  const tracker = index.get(streamKey(trace.project_id, key))
  return tracker !== undefined && tracksTrace(tracker, trace) ? tracker : undefined
}

/** The records of a window of committed traces (commit order kept). */
export function selectRecords(
  window: readonly SequencedTrace[],
  index: StreamIndex,
): LogRecordInput[] {
  const records: LogRecordInput[] = []
  if (index.size === 0) return records
  for (const { seq, trace } of window) {
    const tracker = streamingTracker(index, trace)
    if (tracker !== undefined) records.push({ seq, trace, tracker })
  }
  return records
}
