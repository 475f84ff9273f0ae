import assert from 'node:assert/strict'
import { it } from 'node:test'
import { alarmEmail } from './email-port.js'

it('writes an alarm transition as an email from its payload, on single header lines', () => {
  const mail = alarmEmail(
    {
      type: 'opencts.alarm',
      alarm_id: 'a1',
      alarm_name: 'deletes\r\nBcc: x@example.com',
      project_id: 'p1',
      old_state: 'ok',
      new_state: 'alarm',
      reason: '3 matching traces in the last 60 s: > 2',
      time: Date.UTC(2026, 10, 21, 12, 0, 0),
    },
    'd1',
  )
  assert.equal(mail.subject, '[OpenCTS] alarm deletes Bcc: x@example.com: ok -> alarm')
  assert.match(mail.text, /^Reason: {6}3 matching traces in the last 60 s: > 2$/m)
  assert.match(mail.text, /^Time: {8}2026-11-21T12:00:00\.000Z \(UTC\)$/m)
  assert.deepEqual(mail.headers, { 'X-OpenCTS-Delivery-Id': 'd1' })
})
