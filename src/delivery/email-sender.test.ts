import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../test/helpers/make-trace.js'
import { toApiTrace } from '../model/index.js'
import { formatTraceEmail } from './email-sender.js'

const TIME = Date.UTC(2026, 0, 2, 3, 4, 5, 678)

function deleteImage() {
  return makeTrace({
    trace_id: 't-1',
    trace_name: 'deleteImage',
    trace_rating: 'warning',
    code: '200',
    time: TIME,
  })
}

it('names the operation, resource, rating and user in the subject', () => {
  const { subject } = formatTraceEmail(deleteImage(), 'key-ops', 'd-1')
  assert.equal(subject, '[OpenCTS] deleteImage on image ubuntu (warning) by alice')
})

it('leaves out subject parts without a value: the id stands in for a missing resource name', () => {
  const trace = makeTrace({ resource_name: null, user: null, user_name: null })
  assert.equal(
    formatTraceEmail(trace, 'n', 'd').subject,
    '[OpenCTS] createImage on image img-1 (normal)',
  )
  const bare = makeTrace({ resource_name: null, resource_id: null, user: null, user_name: null })
  assert.equal(formatTraceEmail(bare, 'n', 'd').subject, '[OpenCTS] createImage on image (normal)')
})

it('lists the key fields, then the API trace as indented JSON', () => {
  const trace = deleteImage()
  const { text } = formatTraceEmail(trace, 'key-ops', 'd-1')
  assert.match(text, /^OpenCTS notification "key-ops" matched this key event\.\n\n/)
  for (const line of [
    'Operation:   deleteImage',
    'Rating:      warning',
    'Service:     IMS',
    'Resource:    image ubuntu (id img-1)',
    'User:        alice',
    'Source IP:   192.0.2.10',
    'Time:        2026-01-02T03:04:05.678Z (UTC)',
    'Result code: 200',
    'Trace ID:    t-1',
    'Project ID:  p1',
    'Delivery ID: d-1',
  ])
    assert.ok(text.split('\n').includes(line), `missing line ${JSON.stringify(line)}`)
  const json = text.slice(text.indexOf('The full trace:\n') + 'The full trace:\n'.length)
  assert.deepEqual(JSON.parse(json), toApiTrace(trace))
  assert.ok(json.includes('\n  "trace_id": "t-1",\n'), 'pretty-printed')
})

it('omits key fields the trace does not have', () => {
  const { text } = formatTraceEmail(makeTrace({ source_ip: null, code: null }), 'n', 'd')
  assert.doesNotMatch(text, /^Source IP:/m)
  assert.doesNotMatch(text, /^Result code:/m)
})

it('carries the delivery id and notification name as headers', () => {
  const { headers } = formatTraceEmail(deleteImage(), 'key-ops', 'd-1')
  assert.deepEqual(headers, { 'X-OpenCTS-Delivery-Id': 'd-1', 'X-OpenCTS-Notification': 'key-ops' })
})

it('strips CR and LF from every header value and one-line field (no header injection)', () => {
  const trace = makeTrace({
    trace_name: 'delete\r\nBcc: victim@example.com',
    resource_name: 'ubuntu\nX-Evil: 1',
    user: { name: 'mallory\r' },
    user_name: 'mallory\r\nReply-To: a@b',
  })
  const email = formatTraceEmail(trace, 'ops\r\nBcc: x@example.com', 'd-1\n\nbody')
  for (const value of [email.subject, ...Object.values(email.headers)])
    assert.doesNotMatch(value, /[\r\n]/, JSON.stringify(value))
  assert.equal(
    email.subject,
    '[OpenCTS] delete Bcc: victim@example.com on image ubuntu X-Evil: 1 (normal) by mallory Reply-To: a@b',
  )
  assert.equal(email.headers['X-OpenCTS-Notification'], 'ops Bcc: x@example.com')
  assert.equal(email.headers['X-OpenCTS-Delivery-Id'], 'd-1 body')
  assert.ok(email.text.split('\n').includes('Operation:   delete Bcc: victim@example.com'))
  assert.doesNotMatch(email.text, /^Bcc:/m)
})

it('caps a long subject at 200 characters', () => {
  const { subject } = formatTraceEmail(makeTrace({ resource_name: 'r'.repeat(500) }), 'n', 'd')
  assert.equal(subject.length, 200)
  assert.ok(subject.endsWith('…'))
})
