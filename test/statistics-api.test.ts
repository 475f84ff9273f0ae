/**
 * `GET /v3/{project_id}/traces/statistics` over a real server and store: the API's names and shape
 * (values by field, `other`, distinct counts, intervals aligned on the interval), the ListTraces
 * filters and window, and a 400 that says why for every parameter it cannot take.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0] as string
const MIN = 60_000
const who = (name: string): Record<string, unknown> => ({
  user: { id: `u-${name}`, name, domain: { id: 'd1', name: 'acme' } },
})

/**
 * 12 traces in the last hour but its last minute (where the test app records its own sign-in and
 * tracker): alice creates and deletes, bob is denied, carol lists (no IP).
 */
const SEEDS = [
  ...Array.from({ length: 5 }, (_, i) => ({
    trace_name: 'createImage',
    code: 201,
    ...who('alice'),
    source_ip: `192.0.2.${i % 2}`,
    time: TEST_NOW - (50 - i) * MIN,
  })),
  ...Array.from({ length: 4 }, (_, i) => ({
    trace_name: 'deleteImage',
    code: 403,
    ...who('bob'),
    source_ip: '198.51.100.7',
    time: TEST_NOW - (20 - i) * MIN,
  })),
  {
    trace_name: 'deleteImage',
    code: 204,
    ...who('alice'),
    source_ip: '192.0.2.1',
    time: TEST_NOW - 5 * MIN,
  },
  {
    trace_name: 'listServers',
    service_type: 'ECS',
    resource_type: 'server',
    code: 200,
    ...who('carol'),
    time: TEST_NOW - 3 * MIN,
  },
  {
    trace_name: 'listServers',
    service_type: 'ECS',
    resource_type: 'server',
    code: 200,
    ...who('carol'),
    time: TEST_NOW - 2 * MIN,
  },
]

async function seed(t: Parameters<typeof buildTestApp>[0]): Promise<TestApp> {
  const testApp = await buildTestApp(t)
  const traces = SEEDS.map((patch) => {
    const trace = reportedTrace(patch)
    // carol's traces come without a source IP.
    if (!('source_ip' in patch)) delete trace.source_ip
    return trace
  })
  const old = reportedTrace({
    trace_name: 'createImage',
    code: 201,
    time: TEST_NOW - 2 * 3_600_000,
  })
  const { status } = await call(testApp.app, 'POST', `/v3/${P}/traces`, {
    traces: [...traces, old],
  })
  assert.equal(status, 201)
  return testApp
}

const stats = (query: string): string => `/v3/${P}/traces/statistics?${query}`

describe('GET /v3/{project_id}/traces/statistics', () => {
  it('counts the last hour by default, one group of no values without group_by', async (t) => {
    const { app } = await seed(t)
    const { status, body } = await call(app, 'GET', stats(`service_type=IMS`))
    assert.equal(status, 200, JSON.stringify(body))
    assert.deepEqual(body.group_by, [])
    assert.equal(body.total, 10, 'the IMS trace of two hours ago is outside the default window')
    assert.deepEqual(body.groups, [{ values: {}, count: 10 }])
    assert.equal(body.other, null)
    assert.equal(body.to - body.from, 3_600_000 + 1)
    const all = await call(app, 'GET', stats(`group_by=service_type&to=${TEST_NOW - MIN}`))
    assert.deepEqual(all.body.groups, [
      { values: { service_type: 'IMS' }, count: 10 },
      { values: { service_type: 'ECS' }, count: 2 },
    ])
  })

  it('groups by the API names, folds the rest into other and counts distinct values', async (t) => {
    const { app } = await seed(t)
    const { status, body } = await call(
      app,
      'GET',
      stats(`group_by=user,code&distinct=source_ip&top=2&to=${TEST_NOW - MIN}`),
    )
    assert.equal(status, 200, JSON.stringify(body))
    assert.deepEqual(body.group_by, ['user', 'code'])
    assert.equal(body.distinct, 'source_ip')
    assert.deepEqual(body.groups, [
      { values: { user: 'alice', code: '201' }, count: 5, distinct: 2 },
      { values: { user: 'bob', code: '403' }, count: 4, distinct: 1 },
    ])
    // alice/204 (one IP) and carol/200 (no IP: not a distinct value).
    assert.deepEqual(body.other, { count: 3, groups: 2, distinct: 1 })
    assert.equal(body.total, SEEDS.length)
  })

  it('takes the ListTraces filters and counts per interval, aligned on the interval', async (t) => {
    const { app } = await seed(t)
    const from = TEST_NOW - 30 * MIN
    const { status, body } = await call(
      app,
      'GET',
      stats(`trace_name=deleteImage&from=${from}&to=${TEST_NOW}&group_by=code&interval=600000`),
    )
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.interval, 600_000)
    const start = (t0: number): number => Math.floor(t0 / 600_000) * 600_000
    const forbidden = body.groups.find((g: { values: { code: string } }) => g.values.code === '403')
    assert.equal(forbidden.count, 4)
    const want = new Map<number, number>()
    for (let i = 0; i < 4; i++) {
      const b = start(TEST_NOW - (20 - i) * MIN)
      want.set(b, (want.get(b) ?? 0) + 1)
    }
    assert.deepEqual(
      forbidden.buckets,
      [...want].sort((x, y) => x[0] - y[0]).map(([time, count]) => ({ time, count })),
    )
    const noContent = body.groups.find((g: { values: { code: string } }) => g.values.code === '204')
    assert.deepEqual(noContent.buckets, [{ time: start(TEST_NOW - 5 * MIN), count: 1 }])
    assert.equal(body.total, 5)
  })

  it('refuses with a 400 that says why', async (t) => {
    const { app } = await seed(t)
    const cases: [string, RegExp][] = [
      ['group_by=user,code,source_ip', /one or two fields/],
      ['group_by=user,user', /twice/],
      ['group_by=password', /group_by must name/],
      ['distinct=nope', /distinct must name/],
      ['interval=10', /interval must be an integer/],
      [`interval=1000&from=${TEST_NOW - 3_600_000}`, /at most 1000/],
      ['top=0', /top must be an integer/],
      ['top=1001', /top must be an integer/],
      ['group_by=user&group_by=code', /group_by/],
      ['trace_id=3f1c9b52-8d9e-4c57-9d0c-0f6a3b1e2d4c', /trace_id is not a statistics filter/],
      ['limit=5', /unknown parameter "limit"/],
      ['groupby=user', /unknown parameter "groupby"/],
      ['trace_rating=bad', /trace_rating must be one of/],
    ]
    for (const [query, message] of cases) {
      const { status, body } = await call(app, 'GET', stats(query))
      assert.equal(status, 400, query)
      assert.equal(body.error_code, 'CTS.0300', query)
      assert.match(body.error_msg, message, query)
    }
  })
})
