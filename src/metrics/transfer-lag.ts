/**
 * @module metrics/transfer-lag
 * `opencts_transfer_lag_seconds`, read from the store at scrape time. For each tracker that
 * transfers (a bucket configured, not disabled):
 *
 *   lag = now − record_time of the oldest trace of the tracker's project committed after the
 *         tracker's transfer cursor; 0 when there is none (caught up).
 *
 * That is how long a trace has been waiting for the transfer to pass it (deliver it, or skip it when
 * the tracker does not take it, e.g. a management trace for a data tracker). It grows between cycles
 * (up to `transferIntervalMs` when healthy) and without bound while a bucket refuses writes.
 *
 * Cost: `listAllTrackers` and `headSeq` once, then per tracker `getTransferState` and one bounded
 * `readFrom` over at most LAG_SCAN_WINDOW sequence numbers. When that window holds none of the
 * project's traces but more were committed beyond it, the age of the first trace after the cursor
 * (any project; one more `readFrom`) is reported instead: the transfer must walk past it first, so
 * the value is an upper bound there. A tracker without transfer state yet counts from cursor 0, as
 * the transfer service will.
 */
import { trackerDelivers } from '../model/index.js'
import type { Clock } from '../platform/clock.js'
import type { ConfigStore, TraceStore, TransferStore } from '../store/index.js'
import type { TransferLag } from './opencts-metrics.js'

/** Sequence numbers one lag query scans at most (as one window of the transfer's own scan). */
export const LAG_SCAN_WINDOW = 20_000

export interface TransferLagDeps {
  readonly traces: Pick<TraceStore, 'readFrom' | 'headSeq'>
  readonly transfer: Pick<TransferStore, 'getTransferState'>
  readonly config: Pick<ConfigStore, 'listAllTrackers'>
  readonly clock: Clock
}

/** The callback for `OpenCtsMetrics.setTransferLag`. Rejects when the store does. */
export function storeTransferLag(deps: TransferLagDeps): () => Promise<TransferLag[]> {
  const { traces, transfer, config, clock } = deps
  return async () => {
    const trackers = (await config.listAllTrackers()).filter(
      (tracker) => trackerDelivers(tracker) && tracker.obs_info.bucket_name !== '',
    )
    if (trackers.length === 0) return []
    const head = await traces.headSeq()
    const now = clock.now()
    const lags: TransferLag[] = []
    for (const tracker of trackers) {
      const cursor = (await transfer.getTransferState(tracker.id))?.cursor ?? 0
      const waiting = await oldestWaiting(traces, tracker.project_id, cursor, head)
      lags.push({
        tracker: tracker.tracker_name,
        project: tracker.project_id,
        seconds: waiting === undefined ? 0 : Math.max(0, (now - waiting) / 1000),
      })
    }
    return lags
  }
}

/** record_time of the oldest trace waiting for the transfer (see the module comment). */
async function oldestWaiting(
  traces: TransferLagDeps['traces'],
  projectId: string,
  cursor: number,
  head: number,
): Promise<number | undefined> {
  if (cursor >= head) return undefined
  const maxSeq = Math.min(head, cursor + LAG_SCAN_WINDOW)
  const [own] = await traces.readFrom(cursor, 1, { projectId, maxSeq })
  if (own !== undefined) return own.trace.record_time
  if (maxSeq >= head) return undefined
  const [first] = await traces.readFrom(cursor, 1)
  return first?.trace.record_time
}
