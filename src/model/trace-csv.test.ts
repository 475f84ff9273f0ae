import assert from 'node:assert/strict'
import { it } from 'node:test'
import { makeTrace } from '../../test/helpers/make-trace.js'
import { TRACE_CSV_HEADER, csvField, csvLine, traceCsvFields } from './trace-csv.js'
import { toApiTrace } from './trace-representations.js'

it('quotes fields as RFC 4180 requires and neutralises formulas only when asked', () => {
  assert.equal(csvField('plain'), 'plain')
  assert.equal(csvField('a,b'), '"a,b"')
  assert.equal(csvField('say "hi"'), '"say ""hi"""')
  assert.equal(csvField('=1+1'), '=1+1', 'verbatim by default')
  for (const formula of ['=1+1', '+1', '@SUM(A1)', '\tx'])
    assert.equal(csvField(formula, { neutralizeFormulas: true }), `'${formula}`)
  assert.equal(csvField('\r=x', { neutralizeFormulas: true }), `"'\r=x"`)
  assert.equal(csvField('-1', { neutralizeFormulas: true }), '-1', 'negative numbers stay numbers')
  assert.equal(csvLine(['a', 'b,c']), 'a,"b,c"\r\n')
})

it('writes one field per header column, times as ISO 8601 UTC', () => {
  const trace = toApiTrace(makeTrace({ time: Date.UTC(2026, 10, 21, 12), resource_name: '=cmd' }))
  const fields = traceCsvFields(trace)
  assert.equal(fields.length, TRACE_CSV_HEADER.length)
  const at = (name: (typeof TRACE_CSV_HEADER)[number]): string | undefined =>
    fields[TRACE_CSV_HEADER.indexOf(name)]
  assert.equal(at('trace_id'), trace.trace_id)
  assert.equal(at('time'), '2026-11-21T12:00:00.000Z')
  assert.equal(at('resource_name'), '=cmd')
})
