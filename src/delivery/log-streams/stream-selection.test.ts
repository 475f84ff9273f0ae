import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../../test/helpers/make-trace.js'
import type { TraceRecord, Tracker } from '../../model/index.js'
import { newTracker } from '../../trackers/new-tracker.js'
import { selectRecords, streamIndex } from './stream-selection.js'

function tracker(project: string, name: string, patch: Partial<Tracker> = {}, lts = true): Tracker {
  const base = newTracker({
    id: `${project}-${name}`,
    now: 0,
    projectId: project,
    domainId: 'd1',
    type: name === 'system' ? 'system' : 'data',
    name,
  })
  return { ...base, ...patch, lts: { ...base.lts, is_lts_enabled: lts } }
}

const management = (project: string, patch: Partial<TraceRecord> = {}): TraceRecord =>
  makeTrace({ project_id: project, ...patch })
const dataTrace = (project: string, trackerName: string): TraceRecord =>
  makeTrace({
    project_id: project,
    trace_type: 'ObsSDK',
    event_type: 'data',
    tracker_name: trackerName,
  })

function selected(trackers: Tracker[], traces: TraceRecord[]): [string, string][] {
  const window = traces.map((trace, i) => ({ seq: i + 1, trace }))
  return selectRecords(window, streamIndex(trackers)).map((r) => [
    r.trace.trace_id,
    r.tracker.tracker_name,
  ])
}

it('streams management traces through the system tracker and data traces through theirs', () => {
  const traces = [
    management('p1'),
    dataTrace('p1', 'dt'),
    dataTrace('p1', 'other'),
    management('p2'),
  ]
  const [m1, d1] = traces
  assert.deepEqual(selected([tracker('p1', 'system'), tracker('p1', 'dt')], traces), [
    [m1?.trace_id, 'system'],
    [d1?.trace_id, 'dt'],
  ])
})

it('skips trackers without LTS, disabled trackers, and excluded KMS createDatakey traces', () => {
  const kms = management('p1', { service_type: 'KMS', trace_name: 'createDatakey' })
  const plain = management('p1')
  assert.deepEqual(selected([tracker('p1', 'system', {}, false)], [plain]), [])
  assert.deepEqual(selected([tracker('p1', 'system', { status: 'disabled' })], [plain]), [])
  // `error` keeps delivering (CTS: the tracker keeps trying).
  assert.equal(selected([tracker('p1', 'system', { status: 'error' })], [plain]).length, 1)
  const excluding = tracker('p1', 'system', {
    management_event_selector: { exclude_service: ['KMS'] },
  })
  assert.deepEqual(selected([excluding], [kms, plain]), [[plain.trace_id, 'system']])
  assert.equal(selected([tracker('p1', 'system')], [kms]).length, 1)
})

it('keeps commit order and the seq of each record', () => {
  const traces = Array.from({ length: 5 }, () => management('p1'))
  const window = traces.map((trace, i) => ({ seq: 10 + i, trace }))
  const records = selectRecords(window, streamIndex([tracker('p1', 'system')]))
  assert.deepEqual(
    records.map((r) => r.seq),
    [10, 11, 12, 13, 14],
  )
})
