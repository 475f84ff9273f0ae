/**
 * The console's two bulk reads over the API: `GET /v3/{project_id}/traces/export` streams every
 * matching trace (here across several store pages) as CSV or JSON, the same traces ListTraces
 * pages through, and records an `exportTrace` self-audit trace; `GET .../traces/activity` counts
 * the same traces per interval by status and per operation, in the store.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { reportedTrace } from './helpers/make-trace.js'
import {
  TEST_NOW,
  TEST_PROJECTS,
  adminToken,
  buildTestApp,
  call,
  type TestApp,
} from './helpers/test-app.js'

const P = TEST_PROJECTS[0]
const MIN = 60_000

/** Every trace id ListTraces answers for `query`, following `next` (bounded). */
async function listed(app: TestApp['app'], query: string): Promise<string[]> {
  const ids: string[] = []
  let next = ''
  for (let page = 0; page < 100; page++) {
    const { status, body } = await call(
      app,
      'GET',
      `/v3/${P}/traces?${query}&limit=200${next === '' ? '' : `&next=${next}`}`,
    )
    assert.equal(status, 200, JSON.stringify(body))
    ids.push(...body.traces.map((t: { trace_id: string }) => t.trace_id))
    next = body.meta_data.marker ?? ''
    if (next === '' || body.traces.length < 200) return ids
  }
  throw new Error('ListTraces did not end')
}

async function seed(t: Parameters<typeof buildTestApp>[0]): Promise<TestApp> {
  const testApp = await buildTestApp(t)
  // 1,150 IMS traces over the last 50 minutes (more than two store pages of 500), 30 of them
  // incidents (deleteImage 500), and 50 ECS warnings (403); one name that a spreadsheet would run.
  const traces = Array.from({ length: 1200 }, (_, i) =>
    i < 1150
      ? reportedTrace({
          time: TEST_NOW - 1000 - (i % 50) * MIN,
          ...(i < 30
            ? {
                trace_name: 'deleteImage',
                code: 500,
                trace_rating: 'incident',
                resource_name: '=HYPERLINK(1)',
              }
            : {}),
        })
      : reportedTrace({
          time: TEST_NOW - 2000 - (i % 10) * MIN,
          service_type: 'ECS',
          resource_type: 'server',
          trace_name: 'deleteServer',
          code: 403,
        }),
  )
  for (let i = 0; i < traces.length; i += 1000) {
    const { status } = await call(testApp.app, 'POST', `/v3/${P}/traces`, {
      traces: traces.slice(i, i + 1000),
    })
    assert.equal(status, 201)
  }
  return testApp
}

describe('GET /v3/{project_id}/traces/export and /traces/activity', () => {
  it('exports every matching trace as CSV and JSON, in ListTraces order, and audits it', async (t) => {
    const { app } = await seed(t)
    const want = await listed(app, 'service_type=IMS')
    assert.equal(want.length, 1150)

    const csv = await app.inject({
      method: 'GET',
      url: `/v3/${P}/traces/export?service_type=IMS`,
      headers: { 'x-auth-token': await adminToken(app, P) },
    })
    assert.equal(csv.statusCode, 200)
    assert.match(String(csv.headers['content-type']), /^text\/csv/)
    assert.match(
      String(csv.headers['content-disposition']),
      /attachment; filename="traces-.*\.csv"/,
    )
    const lines = csv.body.trimEnd().split('\r\n')
    assert.match(lines[0] ?? '', /^trace_id,time,record_time,trace_name,/)
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(',')[0]),
      want,
    )
    assert.ok(csv.body.includes(",'=HYPERLINK(1),"), 'formulas are neutralised in the export')

    const json = await call(app, 'GET', `/v3/${P}/traces/export?service_type=IMS&format=json`)
    assert.equal(json.status, 200)
    assert.deepEqual(
      json.body.map((x: { trace_id: string }) => x.trace_id),
      want,
    )
    const bad = await call(app, 'GET', `/v3/${P}/traces/export?format=xml`)
    assert.equal(bad.status, 400)
    assert.equal(bad.body.error_code, 'CTS.0300')

    const audits = await call(app, 'GET', `/v3/${P}/traces?service_type=CTS&trace_name=exportTrace`)
    assert.equal(audits.body.traces.length, 2, 'one exportTrace per successful export')
    assert.match(audits.body.traces[0].request, /"format":"json"/)
  })

  it('exports the open formats of the registry, each record one trace', async (t) => {
    const { app } = await seed(t)
    const want = await listed(app, 'service_type=ECS')
    const token = await adminToken(app, P)
    const get = async (
      format: string,
    ): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }> =>
      await app.inject({
        method: 'GET',
        url: `/v3/${P}/traces/export?service_type=ECS&format=${format}`,
        headers: { 'x-auth-token': token },
      })
    const ocsf = await get('ocsf')
    assert.equal(ocsf.statusCode, 200)
    assert.match(String(ocsf.headers['content-type']), /^application\/x-ndjson/)
    assert.match(String(ocsf.headers['content-disposition']), /filename="traces-.*\.ocsf\.ndjson"/)
    const events = ocsf.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
    assert.deepEqual(
      events.map((e) => e.metadata.uid),
      want,
    )
    for (const e of events) {
      assert.equal(e.type_uid, 600304, 'deleteServer is an API Activity: Delete')
      assert.equal(e.status_id, 2, 'a 403 failed')
      assert.equal(e.metadata.tenant_uid, P)
    }
    const cef = await get('cef')
    const lines = cef.body.trimEnd().split('\n')
    assert.equal(lines.length, want.length)
    for (const line of lines)
      assert.match(line, /^CEF:0\|OpenCTS\|OpenCTS\|[^|]+\|ECS:deleteServer\|/)
    const cadf = await get('cadf')
    assert.deepEqual(
      JSON.parse(cadf.body).map((e: { id: string; action: string }) => [e.id, e.action]),
      want.map((id) => [id, 'delete']),
    )
    for (const format of ['ecs', 'splunk-hec']) {
      const answer = await get(format)
      assert.equal(answer.statusCode, 200, format)
      assert.equal(answer.body.trimEnd().split('\n').length, want.length, format)
    }
  })

  it('counts per interval by status and the top operations as the traces themselves', async (t) => {
    const { app } = await seed(t)
    const from = TEST_NOW - 60 * MIN
    const { status, body } = await call(
      app,
      'GET',
      `/v3/${P}/traces/activity?from=${from}&to=${TEST_NOW}&top=3`,
    )
    assert.equal(status, 200, JSON.stringify(body))
    assert.equal(body.interval, 5 * MIN, 'the default gives at most 30 intervals')
    assert.ok(body.buckets.length <= 13)
    // Recount from the traces of the same window.
    const { body: all } = await call(
      app,
      'GET',
      `/v3/${P}/traces/export?from=${from}&to=${TEST_NOW}&format=json`,
    )
    const traces = all as {
      time: number
      trace_rating: string
      service_type: string
      trace_name: string
    }[]
    assert.equal(body.total, traces.length)
    for (const bucket of body.buckets) {
      const inside = traces.filter(
        (x) => x.time >= bucket.start && x.time < bucket.start + body.interval,
      )
      const n = (r: string): number => inside.filter((x) => x.trace_rating === r).length
      assert.deepEqual(
        [bucket.normal, bucket.warning, bucket.incident],
        [n('normal'), n('warning'), n('incident')],
        `bucket at ${bucket.start}`,
      )
    }
    assert.equal(body.operations.length, 3)
    assert.deepEqual(body.operations[0], {
      service_type: 'IMS',
      trace_name: 'createImage',
      count: traces.filter((x) => x.trace_name === 'createImage').length,
      warning: 0,
      incident: 0,
    })
    const deletes = body.operations.find(
      (o: { trace_name: string }) => o.trace_name === 'deleteImage',
    )
    assert.equal(deletes.incident, 30)
    const servers = body.operations.find(
      (o: { trace_name: string }) => o.trace_name === 'deleteServer',
    )
    assert.equal(servers.warning, 50)

    const ecs = await call(app, 'GET', `/v3/${P}/traces/activity?service_type=ECS&interval=60000`)
    assert.equal(ecs.body.total, 50)
    assert.equal(ecs.body.interval, MIN)
    for (const [query, code] of [
      ['interval=10', 'CTS.0300'],
      ['interval=1000', 'CTS.0300'],
      ['top=0', 'CTS.0300'],
      ['trace_rating=bad', 'CTS.0300'],
    ]) {
      const r = await call(app, 'GET', `/v3/${P}/traces/activity?${query}`)
      assert.equal(r.status, 400, query)
      assert.equal(r.body.error_code, code, query)
    }
  })
})
