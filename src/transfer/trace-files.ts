/**
 * @module transfer/trace-files
 * Which traces a tracker transfers, how a batch of them is cut into files, and the bytes of a file
 * (spec/cts-api.md §9). Pure apart from gzip.
 *
 * - Selection: the tracker's project; a management tracker (`system`) takes management traces, a
 *   data tracker the data traces carrying its name; `management_event_selector.exclude_service`
 *   `["KMS"]` drops KMS `createDatakey` traces (as CTS).
 * - Files: one per service per batch when `is_sort_by_service` (else one per batch), split further
 *   past MAX_FILE_TRACES traces or MAX_FILE_BYTES of JSON. Traces keep commit order within a file.
 * - Content: UTF-8 JSON array of file-representation traces (`toFileTrace`); gzip-compressed as a
 *   single member (deterministic header: no name, mtime 0) when `compress_type` is gzip.
 */
import { gzipSync } from 'node:zlib'
import type { CompressType, TraceRecord, Tracker } from '../model/index.js'
import { toFileTrace, traceCategory } from '../model/index.js'
import type { SequencedTrace } from '../store/index.js'

export const MAX_FILE_TRACES = 5_000
export const MAX_FILE_BYTES = 16 * 1024 * 1024

/** Whether `trace` belongs to what `tracker` transfers. */
export function tracksTrace(
  tracker: Pick<
    Tracker,
    'project_id' | 'tracker_type' | 'tracker_name' | 'management_event_selector'
  >,
  trace: TraceRecord,
): boolean {
  if (trace.project_id !== tracker.project_id) return false
  if (tracker.tracker_type === 'system') {
    if (traceCategory(trace) !== 'system') return false
  } else if (traceCategory(trace) !== 'data' || trace.tracker_name !== tracker.tracker_name) {
    return false
  }
  const excluded = tracker.management_event_selector.exclude_service
  return !(
    excluded.includes(trace.service_type) &&
    trace.service_type === 'KMS' &&
    trace.trace_name === 'createDatakey'
  )
}

export interface FileGroup {
  /** The service folder, or null when the tracker does not sort by service. */
  readonly service: string | null
  readonly traces: readonly SequencedTrace[]
}

/** Cuts a batch (commit order) into files: by service when asked, then by count and size. */
export function groupIntoFiles(
  batch: readonly SequencedTrace[],
  sortByService: boolean,
  limits: { maxTraces: number; maxBytes: number } = {
    maxTraces: MAX_FILE_TRACES,
    maxBytes: MAX_FILE_BYTES,
  },
): FileGroup[] {
  const byService = new Map<string | null, SequencedTrace[]>()
  for (const item of batch) {
    const service = sortByService ? item.trace.service_type : null
    let list = byService.get(service)
    if (list === undefined) byService.set(service, (list = []))
    list.push(item)
  }
  const groups: FileGroup[] = []
  const services = [...byService.keys()].sort((a, b) => (a ?? '').localeCompare(b ?? ''))
  for (const service of services) {
    let current: SequencedTrace[] = []
    let bytes = 2
    for (const item of byService.get(service) ?? []) {
      const size = Buffer.byteLength(JSON.stringify(toFileTrace(item.trace))) + 1
      if (
        current.length > 0 &&
        (current.length >= limits.maxTraces || bytes + size > limits.maxBytes)
      ) {
        groups.push({ service, traces: current })
        current = []
        bytes = 2
      }
      current.push(item)
      bytes += size
    }
    if (current.length > 0) groups.push({ service, traces: current })
  }
  return groups
}

/** The bytes of a trace file before any encryption. */
export function encodeTraceFile(traces: readonly TraceRecord[], compress: CompressType): Buffer {
  const json = Buffer.from(JSON.stringify(traces.map(toFileTrace)), 'utf8')
  return compress === 'gzip' ? gzipSync(json) : json
}
