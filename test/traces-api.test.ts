import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { RetentionJob } from '../src/store/retention-job.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, buildTestApp, call } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'

describe('ListTraces paging and windows', () => {
  it('pages through 10,000 matching traces with next, each exactly once, newest first', async (t) => {
    const { app } = await buildTestApp(t, {}, { projects: ['ffffffffffffffffffffffffffffffff'] })
    const expected = new Map<string, number>()
    for (let batch = 0; batch < 10; batch++) {
      const traces = Array.from({ length: 1000 }, (_, i) => {
        const n = batch * 1000 + i
        // 5 traces share each millisecond, so ties must be broken consistently.
        return reportedTrace({
          time: TEST_NOW - 3_000_000 + Math.floor(n / 5),
          resource_id: `img-${n}`,
        })
      })
      const posted = await call(app, 'POST', `/v3/${P}/traces`, { traces })
      assert.equal(posted.status, 201)
      posted.body.trace_ids.forEach((id: string, i: number) =>
        expected.set(id, traces[i]?.time as number),
      )
    }
    // Noise that must not match: another service and another project.
    await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ service_type: 'ECS', time: TEST_NOW - 1000 })],
    })
    await call(app, 'POST', `/v3/ffffffffffffffffffffffffffffffff/traces`, {
      traces: [reportedTrace({ time: TEST_NOW - 1000 })],
    })
    const seen: string[] = []
    let next: string | null = null
    for (let pages = 0; pages < 100; pages++) {
      const query: string = `/v3/${P}/traces?service_type=IMS&limit=200${next === null ? '' : `&next=${next}`}`
      const page = await call(app, 'GET', query)
      assert.equal(page.status, 200)
      assert.equal(page.body.meta_data.count, page.body.traces.length)
      seen.push(...page.body.traces.map((tr: { trace_id: string }) => tr.trace_id))
      next = page.body.meta_data.marker
      if (next === null) break
      assert.equal(next, page.body.traces.at(-1).trace_id, 'marker is the last trace id')
    }
    assert.equal(next, null, 'marker is null on the last page')
    assert.equal(seen.length, 10_000)
    assert.equal(new Set(seen).size, 10_000, 'no trace twice')
    const times = seen.map((id) => expected.get(id) ?? -1)
    assert.ok(
      times.every((time) => time > 0),
      'only the ingested traces',
    )
    assert.ok(
      times.every((time, i) => i === 0 || (times[i - 1] ?? 0) >= time),
      'newest first',
    )
  })

  it('uses an exclusive window, default last hour, and exposes only 7 days', async (t) => {
    const { app, clock, services } = await buildTestApp(t)
    const times = [
      TEST_NOW - 2 * 3_600_000,
      TEST_NOW - 3_600_000 + 1,
      TEST_NOW - 10,
      TEST_NOW - 8 * 86_400_000,
    ]
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: times.map((time) => reportedTrace({ time })),
    })
    const ids: string[] = posted.body.trace_ids
    const list = async (query: string): Promise<string[]> =>
      (
        await call(app, 'GET', `/v3/${P}/traces?limit=200&service_type=IMS${query}`)
      ).body.traces.map((tr: { trace_id: string }) => tr.trace_id)
    assert.deepEqual(await list(''), [ids[2], ids[1]])
    assert.deepEqual(
      await list(`&from=${TEST_NOW - 3_600_000 + 1}&to=${TEST_NOW - 10}`),
      [],
      'both bounds exclusive',
    )
    assert.deepEqual(
      await list(`&from=${TEST_NOW - 30 * 86_400_000}`),
      [ids[2], ids[1], ids[0]],
      'older than 7 days is never returned',
    )
    assert.deepEqual(await list(`&trace_id=${ids[3]}`), [], 'not even by id')
    assert.deepEqual(
      await list(`&trace_id=${ids[0]}&resource_type=NOPE`),
      [ids[0]],
      'trace_id overrides other filters',
    )
    // The retention job deletes what is older than 7 days.
    const job = new RetentionJob({
      traces: services.store.traces,
      clock,
      retentionMs: 7 * 86_400_000,
      intervalMs: 60_000,
    })
    assert.equal(await job.runOnce(), 1)
    clock.advance(7 * 86_400_000)
    assert.equal(await job.runOnce(), 3)
    assert.equal(await services.store.traces.get(P, ids[2] ?? ''), undefined)
  })
})

describe('ingest rules', () => {
  it('refuses a malformed project id in the path: no credential is valid for it', async (t) => {
    const { app } = await buildTestApp(t)
    const posted = await call(app, 'POST', '/v3/bad%20id/traces', { traces: [reportedTrace()] })
    assert.equal(posted.status, 403)
    assert.equal(posted.body.error_code, 'CTS.0013')
    assert.match(posted.body.error_msg, /not valid for project bad id/)
  })

  it('is idempotent on trace_id and returns ids in batch order', async (t) => {
    const { app } = await buildTestApp(t)
    const id = randomUUID()
    const first = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ trace_id: id, time: TEST_NOW - 10 })],
    })
    const again = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({ time: TEST_NOW - 10 }),
        reportedTrace({ trace_id: id.toUpperCase(), time: TEST_NOW - 10 }),
      ],
    })
    assert.equal(first.status, 201)
    assert.equal(again.status, 201)
    assert.equal(again.body.trace_ids[1], id)
    const list = await call(app, 'GET', `/v3/${P}/traces?limit=200&service_type=IMS`)
    assert.equal(list.body.traces.length, 2)
  })

  it('accepts 1,000 traces and rejects 1,001, an empty batch and a body over 12 MB', async (t) => {
    const { app } = await buildTestApp(t)
    const ok = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: Array.from({ length: 1000 }, () => reportedTrace()),
    })
    assert.equal(ok.status, 201)
    const tooMany = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: Array.from({ length: 1001 }, () => reportedTrace()),
    })
    assert.equal(tooMany.status, 413)
    assert.equal(tooMany.body.error_code, 'OCTS.0101')
    const empty = await call(app, 'POST', `/v3/${P}/traces`, { traces: [] })
    assert.equal(empty.status, 400)
    const big = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: Array.from({ length: 130 }, () => reportedTrace({ request: 'x'.repeat(100_000) })),
    })
    assert.equal(big.status, 413)
    assert.equal(big.body.error_code, 'OCTS.0101')
  })
})

describe('legacy and discovery routes', () => {
  it('serves v1.0 and v2.0 trace lists with trace_status', async (t) => {
    const { app } = await buildTestApp(t)
    await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ code: 500, time: TEST_NOW - 5 })],
    })
    const v1 = await call(app, 'GET', `/v1.0/${P}/system/trace?trace_rating=warning`)
    assert.equal(v1.status, 200)
    assert.equal(v1.body.traces.length, 1)
    const v2 = await call(app, 'GET', `/v2.0/${P}/system/trace?trace_status=warning`)
    assert.equal(v2.body.traces[0].trace_status, 'warning')
    assert.equal(v2.body.traces[0].trace_rating, 'warning')
    const other = await call(app, 'GET', `/v2.0/${P}/mytracker/trace`)
    assert.equal(other.status, 404)
    assert.equal(other.body.error_code, 'CTS.0214')
  })

  it('lists API versions and answers CTS.0100 for unknown ones', async (t) => {
    const { app } = await buildTestApp(t)
    const all = await call(app, 'GET', '/')
    assert.deepEqual(
      all.body.versions.map((v: { id: string }) => v.id),
      ['v1.0', 'v2.0', 'v3'],
    )
    assert.ok(Array.isArray(all.body.versions[2].links))
    assert.equal(all.body.versions[2].status, 'CURRENT')
    const v3 = await call(app, 'GET', '/v3')
    assert.equal(v3.body.version.id, 'v3')
    const v9 = await call(app, 'GET', '/v9')
    assert.equal(v9.status, 404)
    assert.equal(v9.body.error_code, 'CTS.0100')
  })

  it('serves health and an OpenAPI document generated from the routes', async (t) => {
    const { app } = await buildTestApp(t)
    const health = await call(app, 'GET', '/health')
    assert.deepEqual(health.body, { status: 'ok', region: 'local-1', storage: { database: 'ok' } })
    const doc = await call(app, 'GET', '/openapi.json')
    assert.equal(doc.body.openapi, '3.1.0')
    const list = doc.body.paths['/v3/{project_id}/traces'].get
    assert.ok(list.parameters.some((p: { name: string }) => p.name === 'trace_rating'))
    assert.ok(doc.body.paths['/v3/{project_id}/traces'].post.requestBody)
    assert.ok(doc.body.paths['/v1.0/{project_id}/{tracker_name}/trace'])
    assert.equal(doc.body.paths['/openapi.json'], undefined)
  })
})
