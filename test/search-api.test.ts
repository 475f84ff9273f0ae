/**
 * `q=` over a real server and store: ListTraces, the export, statistics and activity take the same
 * search; the legacy APIs ignore it as CTS does unknown parameters; a query that cannot be read or
 * that would look at more traces than OPENCTS_SEARCH_MAX_SCAN is a 400 saying why.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0] as string
const MIN = 60_000

/** 20 traces in the hour before the last minute; every fourth is denied, every fifth a delete. */
async function seed(t: Parameters<typeof buildTestApp>[0], overrides = {}): Promise<TestApp> {
  const testApp = await buildTestApp(t, overrides)
  const traces = Array.from({ length: 20 }, (_, i) =>
    reportedTrace({
      time: TEST_NOW - (50 - i) * MIN,
      trace_name: i % 5 === 0 ? 'deleteImage' : 'createImage',
      code: i % 4 === 0 ? 403 : 201,
      resource_name: i % 2 === 0 ? `Web-Prod-${i}` : `db-${i}`,
    }),
  )
  const { status } = await call(testApp.app, 'POST', `/v3/${P}/traces`, { traces })
  assert.equal(status, 201)
  return testApp
}

describe('q= on ListTraces, export, statistics and activity', () => {
  it('finds the same traces everywhere', async (t) => {
    const { app } = await seed(t)
    const q = encodeURIComponent('code:>=400 OR (trace_name:delete* AND "web-prod")')
    // code 403: i = 0, 4, 8, 12, 16; deletes of Web-Prod: i = 0, 10.
    const want = 6
    const list = await call(app, 'GET', `/v3/${P}/traces?limit=200&q=${q}`)
    assert.equal(list.status, 200, JSON.stringify(list.body))
    assert.equal(list.body.traces.length, want)
    for (const trace of list.body.traces)
      assert.ok(
        trace.code === '403' ||
          (trace.trace_name === 'deleteImage' && trace.resource_name.startsWith('Web-Prod')),
      )
    const exported = await call(app, 'GET', `/v3/${P}/traces/export?format=json&q=${q}`)
    assert.equal(exported.status, 200)
    assert.equal((exported.body as unknown[]).length, want)
    const stats = await call(app, 'GET', `/v3/${P}/traces/statistics?group_by=code&q=${q}`)
    assert.equal(stats.status, 200, JSON.stringify(stats.body))
    assert.deepEqual(stats.body.groups, [
      { values: { code: '403' }, count: 5 },
      { values: { code: '201' }, count: 1 },
    ])
    const activity = await call(app, 'GET', `/v3/${P}/traces/activity?q=${q}`)
    assert.equal(activity.body.total, want)
  })

  it('is a filter of v3 only: the legacy ListTraces ignore it', async (t) => {
    const { app } = await seed(t)
    const legacy = await call(app, 'GET', `/v2.0/${P}/system/trace?limit=200&q=code:403`)
    assert.equal(legacy.status, 200)
    assert.ok(legacy.body.traces.length > 5)
  })

  it('answers 400 with the reason for a query it cannot read or that would scan too much', async (t) => {
    const { app } = await seed(t, { searchMaxScan: '1000' })
    const bad = await call(app, 'GET', `/v3/${P}/traces?q=${encodeURIComponent('colour:red')}`)
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error_code, 'CTS.0300')
    assert.match(bad.body.error_msg, /q: at 1: unknown field "colour"/)
    const more = Array.from({ length: 1001 }, (_, i) =>
      reportedTrace({ time: TEST_NOW - 55 * MIN - i }),
    )
    for (let at = 0; at < more.length; at += 500)
      assert.equal(
        (await call(app, 'POST', `/v3/${P}/traces`, { traces: more.slice(at, at + 500) })).status,
        201,
      )
    const wide = await call(app, 'GET', `/v3/${P}/traces?q=code:403`)
    assert.equal(wide.status, 400)
    assert.match(wide.body.error_msg, /look at more than 1000 traces/)
    const narrow = await call(
      app,
      'GET',
      `/v3/${P}/traces?q=code:403&from=${TEST_NOW - 40 * MIN}&limit=200`,
    )
    assert.equal(narrow.status, 200, JSON.stringify(narrow.body))
    assert.equal(narrow.body.traces.length, 2, 'i = 12 and 16 are in the last 40 minutes')
  })
})
