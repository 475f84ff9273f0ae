import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../../test/helpers/make-trace.js'
import { parseSyslog } from '../../../test/helpers/syslog-receiver.js'
import { toFileTrace, type TraceRecord } from '../../model/index.js'
import { newTracker } from '../../trackers/new-tracker.js'
import type { LogRecordInput } from './log-sink.js'
import { recordText } from './record-text.js'
import {
  MAX_DATAGRAM_BYTES,
  SD_ID,
  formatSyslogMessage,
  octetCountingFrame,
  parseSyslogTarget,
  sdValue,
  syslogDatagram,
  type SyslogHeader,
} from './syslog-message.js'

const tracker = newTracker({
  id: 't1',
  now: 0,
  projectId: 'p1',
  domainId: 'd1',
  type: 'system',
  name: 'system',
})
const header: SyslogHeader = { facility: 16, hostname: 'host-1', appName: 'opencts', procId: '42' }
const TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 678)

function record(patch: Partial<TraceRecord> = {}): LogRecordInput {
  return { seq: 1, trace: makeTrace({ project_id: 'p1', time: TIME, ...patch }), tracker }
}

it('writes PRI from the facility and the rating, version 1, the header fields and the BOM + JSON', () => {
  const input = record()
  const parsed = parseSyslog(formatSyslogMessage(input, header))
  assert.equal(parsed.pri, 16 * 8 + 6)
  assert.equal(parsed.version, 1)
  assert.equal(parsed.timestamp, '2026-01-02T03:04:05.678Z')
  assert.equal(parsed.hostname, 'host-1')
  assert.equal(parsed.appName, 'opencts')
  assert.equal(parsed.procId, '42')
  assert.equal(parsed.msgId, 'createImage')
  assert.equal(parsed.bom, true)
  assert.deepEqual(JSON.parse(parsed.msg ?? ''), toFileTrace(input.trace))
  assert.deepEqual(parsed.sd, [
    {
      id: SD_ID,
      params: {
        project_id: 'p1',
        tracker_name: 'system',
        trace_id: input.trace.trace_id,
        trace_rating: 'normal',
        trace_type: 'ApiCall',
        service_type: 'IMS',
        resource_type: 'image',
        resource_id: 'img-1',
        resource_name: 'ubuntu',
        user: 'alice',
        code: '201',
        source_ip: '192.0.2.10',
      },
    },
  ])
  const warning = parseSyslog(formatSyslogMessage(record({ trace_rating: 'warning' }), header))
  assert.equal(warning.severity, 4)
  const incident = parseSyslog(
    formatSyslogMessage(record({ trace_rating: 'incident' }), { ...header, facility: 23 }),
  )
  assert.equal(incident.pri, 23 * 8 + 3)
})

it('escapes ", \\ and ] in SD values, leaves null fields out, cuts MSGID to 32 printable ASCII', () => {
  const name = `a${'b'.repeat(40)}`
  const bytes = formatSyslogMessage(
    record({ resource_name: 'x"y\\z]w', resource_id: null, trace_name: name }),
    { ...header, hostname: 'my host\u00e9' },
  )
  assert.match(bytes.toString('utf8'), / resource_name="x\\"y\\\\z\\]w"/)
  const parsed = parseSyslog(bytes)
  assert.equal(parsed.sd[0]?.params.resource_name, 'x"y\\z]w')
  assert.ok(!('resource_id' in (parsed.sd[0]?.params ?? {})))
  assert.equal(parsed.msgId, name.slice(0, 32))
  assert.equal(parsed.hostname, 'myhost')
})

it('cuts SD values to 256 UTF-8 bytes on a character boundary', () => {
  const cut = sdValue('é'.repeat(200))
  assert.equal(Buffer.byteLength(cut), 256)
  assert.equal(cut, 'é'.repeat(128))
  assert.equal(sdValue('ab]'), 'ab\\]')
})

it('frames with octet counting: the byte length, a space, the message', () => {
  const message = Buffer.from('<134>1 - - - - - - é', 'utf8')
  const frame = octetCountingFrame(message)
  assert.equal(frame.toString('utf8'), `${message.length} <134>1 - - - - - - é`)
  assert.equal(message.length, 21)
})

it('keeps datagrams under 8 KB: bodies left out first, then the MSG, each marked in the SD', () => {
  const small = syslogDatagram(record(), header)
  assert.equal(small.reduction, 'none')

  const big = record({ request: 'q'.repeat(9000), response: 'r'.repeat(100) })
  const reduced = syslogDatagram(big, header)
  assert.equal(reduced.reduction, 'bodies')
  assert.ok(reduced.datagram.length <= MAX_DATAGRAM_BYTES)
  const parsed = parseSyslog(reduced.datagram)
  assert.equal(parsed.sd[0]?.params.truncated, 'request,response')
  const rest = toFileTrace(big.trace)
  delete rest.request
  delete rest.response
  assert.deepEqual(JSON.parse(parsed.msg ?? ''), rest)

  // Worst case: every SD value and header field at its cap, in 2-byte characters, plus a large
  // field that is not a body: only the header and SD are left, and they still fit.
  const long = 'é]'.repeat(300)
  const huge = record({
    location_info: 'l'.repeat(8000),
    resource_id: long,
    resource_name: long,
    user_name: long,
    source_ip: long,
    code: long,
    trace_id: long,
    service_type: long,
    resource_type: long,
    project_id: long,
  })
  const minimal = syslogDatagram(huge, {
    ...header,
    hostname: 'h'.repeat(300),
    procId: 'p'.repeat(200),
  })
  assert.equal(minimal.reduction, 'msg')
  assert.ok(minimal.datagram.length <= MAX_DATAGRAM_BYTES, `${minimal.datagram.length} bytes`)
  const last = parseSyslog(minimal.datagram)
  assert.equal(last.msg, null)
  assert.equal(last.sd[0]?.params.truncated, 'msg')
  assert.equal(last.hostname.length, 255)
})

it('parses syslog targets and rejects anything else', () => {
  assert.deepEqual(parseSyslogTarget('tcp://127.0.0.1:6514'), {
    protocol: 'tcp',
    host: '127.0.0.1',
    port: 6514,
    facility: 16,
  })
  assert.deepEqual(parseSyslogTarget('udp://[::1]:514?facility=local7'), {
    protocol: 'udp',
    host: '::1',
    port: 514,
    facility: 23,
  })
  assert.equal(parseSyslogTarget('udp://logs.example:514?facility=4').facility, 4)
  for (const bad of [
    'http://h:514',
    'tcp://h',
    'tcp://:514',
    'tcp://h:514/path',
    'tcp://h:514?facility=local8',
    'tcp://h:514?facility=24',
    'tcp://h:514?x=1',
    'h:514',
  ])
    assert.throws(() => parseSyslogTarget(bad), RangeError, bad)
})

it('carries the configured record format as MSG (CEF over syslog), reduced the same way', () => {
  const cef = { ...header, msg: recordText('cef') }
  const parsed = parseSyslog(formatSyslogMessage(record(), cef))
  assert.match(
    parsed.msg ?? '',
    /^CEF:0\|OpenCTS\|OpenCTS\|[^|]+\|IMS:createImage\|createImage\|3\|/,
  )
  assert.match(parsed.msg ?? '', / cs1Label=projectId cs1=p1 /)
  const ocsf = { ...header, msg: recordText('ocsf') }
  const big = record({ request: '{"q":"' + 'q'.repeat(9000) + '"}' })
  const reduced = syslogDatagram(big, ocsf)
  assert.equal(reduced.reduction, 'bodies')
  const event = JSON.parse(parseSyslog(reduced.datagram).msg ?? '') as {
    class_uid: number
    api: { request: { data?: unknown } }
  }
  assert.equal(event.class_uid, 6003)
  assert.equal(event.api.request.data, undefined, 'the request body is left out')
  assert.throws(() => recordText('csv'), RangeError)
  assert.throws(() => recordText('xml'), RangeError)
})
