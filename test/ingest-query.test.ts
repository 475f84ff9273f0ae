import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, buildTestApp, call } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'

describe('ingest and ListTraces', () => {
  it('stores a batch and answers the §4.1 example query with string code/request/response', async (t) => {
    const { app } = await buildTestApp(t)
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({
          time: TEST_NOW - 60_000,
          code: 200,
          service_type: 'VPC',
          resource_type: 'eip',
          trace_name: 'deleteEip',
          trace_rating: 'warning',
          trace_type: 'ConsoleAction',
          response: { code: 'VPC.0514', message: 'Update port fail.' },
          api_version: '2.0',
        }),
        reportedTrace({ time: TEST_NOW - 30_000, code: '404' }),
      ],
    })
    assert.equal(posted.status, 201)
    assert.equal(posted.body.trace_ids.length, 2)
    const list = await call(
      app,
      'GET',
      `/v3/${P}/traces?trace_type=system&limit=11&service_type=VPC&resource_type=eip&trace_name=deleteEip`,
    )
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.meta_data, { count: 1, marker: null })
    const [trace] = list.body.traces
    assert.equal(trace.code, '200')
    assert.equal(trace.response, '{"code":"VPC.0514","message":"Update port fail."}')
    assert.equal(trace.trace_rating, 'warning')
    assert.equal(typeof trace.time, 'number')
    assert.equal(typeof trace.record_time, 'number')
    assert.deepEqual(trace.user, { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } })
    const rated = await call(app, 'GET', `/v3/${P}/traces?trace_rating=warning`)
    assert.equal(rated.body.traces.length, 2, 'code 404 without a rating defaults to warning')
  })

  it('rejects a batch with an invalid trace, naming index and field, and stores nothing', async (t) => {
    const { app } = await buildTestApp(t)
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({ time: TEST_NOW - 1000 }),
        reportedTrace({ time: TEST_NOW - 1000, trace_name: '9bad' }),
      ],
    })
    assert.equal(posted.status, 400)
    assert.equal(posted.body.error_code, 'CTS.0003')
    assert.match(posted.body.error_msg, /^traces\[1\]\.trace_name: /)
    const list = await call(app, 'GET', `/v3/${P}/traces?service_type=IMS`)
    assert.equal(list.body.traces.length, 0)
  })
})
