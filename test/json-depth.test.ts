/**
 * Deeply nested JSON bodies (issue 14, defect 3): 5,000 levels of `[` in a trace field or as a
 * tracker/notification body overflowed the stack of JSON.stringify (a 500). Every JSON body is
 * bounded to MAX_JSON_DEPTH levels and a deeper one answers 400 CTS.0003 naming the member.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { MAX_JSON_DEPTH } from '../src/model/index.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, adminToken, buildTestApp, call } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'
const DEEP = 5000

/** `levels` nested arrays as JSON text: `[[[…]]]`. */
const arrays = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels)

/** Posts raw JSON text with the admin's token. */
async function postRaw(
  app: FastifyInstance,
  url: string,
  payload: string,
  method: 'POST' | 'PUT' = 'POST',
): Promise<{ status: number; body: { error_code?: string; error_msg?: string } }> {
  const response = await app.inject({
    method,
    url,
    headers: { 'content-type': 'application/json', 'x-auth-token': await adminToken(app, P) },
    payload,
  })
  return { status: response.statusCode, body: JSON.parse(response.body) as never }
}

/** A batch of one trace whose `field` is the raw JSON `raw` (spliced into the text). */
function batchWith(field: string, raw: string): string {
  const text = JSON.stringify({ traces: [reportedTrace({ time: TEST_NOW - 1000, [field]: 0 })] })
  return text.replace(`"${field}":0`, `"${field}":${raw}`)
}

function assertTooDeep(
  answer: { status: number; body: { error_code?: string; error_msg?: string } },
  where: string,
): void {
  assert.equal(answer.status, 400, JSON.stringify(answer.body))
  assert.equal(answer.body.error_code, 'CTS.0003')
  assert.equal(
    answer.body.error_msg,
    `${where}: JSON nested deeper than ${MAX_JSON_DEPTH} levels of arrays/objects (the limit of a request body)`,
  )
}

describe('JSON nesting bound', () => {
  it('answers 400 naming the trace field for 5,000 levels in request, response or user', async (t) => {
    const { app } = await buildTestApp(t)
    for (const field of ['request', 'response', 'user']) {
      assertTooDeep(
        await postRaw(app, `/v3/${P}/traces`, batchWith(field, arrays(DEEP))),
        `traces[0].${field}`,
      )
    }
    const objects = '{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP)
    const answer = await postRaw(app, `/v3/${P}/traces`, batchWith('request', objects))
    assertTooDeep(answer, 'traces[0].request.a.a.a.a.a…')
    // A user sent as JSON text is parsed by the ingest: bounded the same way.
    const userText = JSON.stringify(`{"id":"u1","x":${arrays(DEEP)}}`)
    const asText = await postRaw(app, `/v3/${P}/traces`, batchWith('user', userText))
    assert.equal(asText.status, 400)
    assert.equal(asText.body.error_code, 'CTS.0003')
    assert.match(
      asText.body.error_msg ?? '',
      /^traces\[0\]\.user: user is JSON nested deeper than 64 levels/,
    )
    const list = await call(app, 'GET', `/v3/${P}/traces?service_type=IMS`)
    assert.equal(list.body.traces.length, 0, 'nothing stored')
  })

  it('accepts a trace at the limit, stores and answers it', async (t) => {
    const { app } = await buildTestApp(t)
    // The body, `traces` and the trace are the first 3 levels.
    const posted = await postRaw(
      app,
      `/v3/${P}/traces`,
      batchWith('request', arrays(MAX_JSON_DEPTH - 3)),
    )
    assert.equal(posted.status, 201, JSON.stringify(posted.body))
    const list = await call(app, 'GET', `/v3/${P}/traces?service_type=IMS`)
    assert.equal(list.body.traces[0].request, arrays(MAX_JSON_DEPTH - 3))
    assertTooDeep(
      await postRaw(app, `/v3/${P}/traces`, batchWith('request', arrays(MAX_JSON_DEPTH - 2))),
      'traces[0].request',
    )
  })

  it('answers 400 for a 5,000-level tracker or notification body, or a member of one', async (t) => {
    const { app } = await buildTestApp(t)
    for (const url of [`/v3/${P}/tracker`, `/v3/${P}/notifications`]) {
      assertTooDeep(await postRaw(app, url, arrays(DEEP)), 'the body')
      assertTooDeep(await postRaw(app, url, arrays(DEEP), 'PUT'), 'the body')
    }
    const tracker = `{"tracker_type":"data","tracker_name":"deep","obs_info":${arrays(DEEP)}}`
    assertTooDeep(await postRaw(app, `/v3/${P}/tracker`, tracker), 'obs_info')
    const notification = `{"notification_name":"deep","operation_type":"complete","filter":{"rule":${arrays(DEEP)}}}`
    assertTooDeep(await postRaw(app, `/v3/${P}/notifications`, notification), 'filter.rule')
    const health = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(health.statusCode, 200)
  })
})
