import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TraceRecord, Tracker } from '../model/index.js'
import { FakeClock } from '../platform/clock.js'
import type { SequencedTrace } from '../store/index.js'
import { LAG_SCAN_WINDOW, storeTransferLag } from './transfer-lag.js'

const NOW = Date.UTC(2026, 0, 1)

function tracker(id: string, project: string, over: Partial<Tracker> = {}, bucket = 'b'): Tracker {
  return {
    id,
    tracker_name: `t-${id}`,
    project_id: project,
    status: 'enabled',
    obs_info: { bucket_name: bucket },
    ...over,
  } as Tracker
}

/** A store of traces (seq → project, record_time) and transfer cursors, counting reads. */
function world(
  trackers: Tracker[],
  traces: { seq: number; project: string; recorded: number }[],
  cursors: Record<string, number>,
) {
  const reads: string[] = []
  const rows: SequencedTrace[] = traces.map((t) => ({
    seq: t.seq,
    trace: { project_id: t.project, record_time: t.recorded } as TraceRecord,
  }))
  const lag = storeTransferLag({
    clock: new FakeClock(NOW),
    config: { listAllTrackers: async () => trackers },
    transfer: {
      getTransferState: async (id) =>
        cursors[id] === undefined
          ? undefined
          : { trackerId: id, cursor: cursors[id], pending: null, digest: null },
    },
    traces: {
      headSeq: async () => rows.at(-1)?.seq ?? 0,
      readFrom: async (after, limit, scope) => {
        reads.push(scope === undefined ? `all>${after}` : `${scope.projectId}>${after}`)
        return rows
          .filter(
            (r) =>
              r.seq > after &&
              (scope === undefined ||
                (r.trace.project_id === scope.projectId && r.seq <= scope.maxSeq)),
          )
          .slice(0, limit)
      },
    },
  })
  return { lag, reads }
}

describe('storeTransferLag', () => {
  it('is the age of the oldest trace of the project after the cursor, 0 when caught up', async () => {
    const { lag } = world(
      [tracker('a', 'p1'), tracker('b', 'p2'), tracker('c', 'p3')],
      [
        { seq: 1, project: 'p1', recorded: NOW - 600_000 },
        { seq: 2, project: 'p2', recorded: NOW - 300_000 },
        { seq: 3, project: 'p1', recorded: NOW - 120_000 },
        { seq: 4, project: 'p2', recorded: NOW - 1_000 },
      ],
      { a: 1, b: 4, c: 0 },
    )
    assert.deepEqual(await lag(), [
      { tracker: 't-a', project: 'p1', seconds: 120 },
      { tracker: 't-b', project: 'p2', seconds: 0 },
      { tracker: 't-c', project: 'p3', seconds: 0 },
    ])
  })

  it('counts from cursor 0 for a tracker the transfer has not seen yet', async () => {
    const { lag } = world(
      [tracker('a', 'p1')],
      [{ seq: 1, project: 'p1', recorded: NOW - 5_000 }],
      {},
    )
    assert.deepEqual(await lag(), [{ tracker: 't-a', project: 'p1', seconds: 5 }])
  })

  it('leaves out trackers without a bucket and disabled ones', async () => {
    const { lag, reads } = world(
      [tracker('a', 'p1', {}, ''), tracker('b', 'p1', { status: 'disabled' })],
      [{ seq: 1, project: 'p1', recorded: NOW - 5_000 }],
      {},
    )
    assert.deepEqual(await lag(), [])
    assert.deepEqual(reads, [])
  })

  it('scans one window, then falls back to the first trace after the cursor', async () => {
    const other = Array.from({ length: LAG_SCAN_WINDOW + 1 }, (_, i) => ({
      seq: i + 1,
      project: 'busy',
      recorded: NOW - 60_000 + i,
    }))
    const { lag, reads } = world(
      [tracker('a', 'quiet')],
      [...other, { seq: LAG_SCAN_WINDOW + 2, project: 'quiet', recorded: NOW - 1_000 }],
      { a: 0 },
    )
    assert.deepEqual(await lag(), [{ tracker: 't-a', project: 'quiet', seconds: 60 }])
    assert.deepEqual(reads, ['quiet>0', 'all>0'])
  })
})
