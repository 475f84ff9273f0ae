import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../../test/helpers/make-trace.js'
import { toFileTrace, type TraceRecord } from '../../model/index.js'
import { newTracker } from '../../trackers/new-tracker.js'
import type { LogRecordInput } from './log-sink.js'
import { otlpLogsRequest, otlpSeverity, unixNano } from './otlp-logs-body.js'

const system = newTracker({
  id: 't1',
  now: 0,
  projectId: 'p1',
  domainId: 'd1',
  type: 'system',
  name: 'system',
})
const data = newTracker({
  id: 't2',
  now: 0,
  projectId: 'p1',
  domainId: 'd1',
  type: 'data',
  name: 'dt',
})

function record(seq: number, trace: TraceRecord, tracker = system): LogRecordInput {
  return { seq, trace, tracker }
}

function attributes(list: readonly { key: string; value: { stringValue: string } }[]) {
  return Object.fromEntries(list.map((a) => [a.key, a.value.stringValue]))
}

it('maps trace_rating to OTLP severities: normal INFO 9, warning WARN 13, incident ERROR 17', () => {
  assert.deepEqual(otlpSeverity('normal'), { number: 9, text: 'INFO' })
  assert.deepEqual(otlpSeverity('warning'), { number: 13, text: 'WARN' })
  assert.deepEqual(otlpSeverity('incident'), { number: 17, text: 'ERROR' })
})

it('writes nanosecond times as exact decimal strings (beyond 2^53)', () => {
  assert.equal(unixNano(1_700_000_000_123), '1700000000123000000')
  assert.equal(unixNano(0), '0')
})

it('encodes one log record per trace, grouped by tracker in first-seen order, commit order kept', () => {
  const a = makeTrace({ project_id: 'p1', time: 1_700_000_000_001, record_time: 1_700_000_000_050 })
  const b = makeTrace({
    project_id: 'p1',
    trace_type: 'ObsSDK',
    event_type: 'data',
    tracker_name: 'dt',
    trace_rating: 'incident',
  })
  const c = makeTrace({ project_id: 'p1', trace_rating: 'warning', resource_id: null, code: null })
  const body = otlpLogsRequest([record(1, a), record(2, b, data), record(3, c)])
  // A JSON round trip: the body is exactly what is sent.
  const sent = JSON.parse(JSON.stringify(body))
  assert.equal(sent.resourceLogs.length, 2)
  const [first, second] = sent.resourceLogs
  assert.deepEqual(attributes(first.resource.attributes), {
    'service.name': 'opencts',
    'cts.project_id': 'p1',
    'cts.tracker_name': 'system',
    'cts.log_group_name': 'CTS',
    'cts.log_topic_name': 'system-trace',
  })
  assert.equal(attributes(second.resource.attributes)['cts.tracker_name'], 'dt')
  assert.equal(attributes(second.resource.attributes)['cts.log_topic_name'], 'dt')
  assert.deepEqual(first.scopeLogs[0].scope, { name: 'opencts' })
  const logs = first.scopeLogs[0].logRecords
  assert.equal(logs.length, 2)
  assert.equal(logs[0].timeUnixNano, '1700000000001000000')
  assert.equal(logs[0].observedTimeUnixNano, '1700000000050000000')
  assert.equal(logs[0].severityNumber, 9)
  assert.equal(logs[0].severityText, 'INFO')
  assert.deepEqual(JSON.parse(logs[0].body.stringValue), toFileTrace(a))
  assert.deepEqual(attributes(logs[0].attributes), {
    'cts.trace_id': a.trace_id,
    'cts.trace_name': 'createImage',
    'cts.trace_rating': 'normal',
    'cts.trace_type': 'ApiCall',
    'cts.event_type': 'system',
    'cts.service_type': 'IMS',
    'cts.resource_type': 'image',
    'cts.resource_id': 'img-1',
    'cts.resource_name': 'ubuntu',
    'cts.user': 'alice',
    'cts.code': '201',
    'cts.source_ip': '192.0.2.10',
  })
  // Null fields are left out, not sent as empty strings.
  assert.equal(logs[1].severityNumber, 13)
  assert.equal(attributes(logs[1].attributes)['cts.trace_id'], c.trace_id)
  assert.ok(!('cts.resource_id' in attributes(logs[1].attributes)))
  assert.ok(!('cts.code' in attributes(logs[1].attributes)))
  const dataLogs = second.scopeLogs[0].logRecords
  assert.equal(dataLogs[0].severityNumber, 17)
  assert.equal(dataLogs[0].severityText, 'ERROR')
  assert.equal(typeof dataLogs[0].timeUnixNano, 'string')
})

it('builds an empty request for no records', () => {
  assert.deepEqual(otlpLogsRequest([]), { resourceLogs: [] })
})
