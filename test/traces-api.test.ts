import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { RetentionJob } from '../src/store/retention-job.js'
import { makeTrace, reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

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
    const times = [TEST_NOW - 2 * 3_600_000, TEST_NOW - 3_600_000 + 1, TEST_NOW - 10]
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: times.map((time) => reportedTrace({ time })),
    })
    // Ingest refuses a trace older than the retention; one stored anyway (an older store, a
    // longer retention before) is still never returned.
    const old = makeTrace({ project_id: P, time: TEST_NOW - 8 * 86_400_000 })
    await services.store.traces.append([old])
    const ids: string[] = [...posted.body.trace_ids, old.trace_id]
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
      traces: Array.from({ length: 1000 }, () => reportedTrace({ time: TEST_NOW - 1000 })),
    })
    assert.equal(ok.status, 201)
    const tooMany = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: Array.from({ length: 1001 }, () => reportedTrace({ time: TEST_NOW - 1000 })),
    })
    assert.equal(tooMany.status, 413)
    assert.equal(tooMany.body.error_code, 'OCTS.0101')
    const empty = await call(app, 'POST', `/v3/${P}/traces`, { traces: [] })
    assert.equal(empty.status, 400)
    const big = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: Array.from({ length: 130 }, () =>
        reportedTrace({ time: TEST_NOW - 1000, request: 'x'.repeat(100_000) }),
      ),
    })
    assert.equal(big.status, 413)
    assert.equal(big.body.error_code, 'OCTS.0101')
  })
})

describe('tenant isolation of trace ids', () => {
  it('stores the same trace id in two projects; each sees only its own; a retry is per project', async (t) => {
    const { app, services } = await buildTestApp(t)
    const [A, B] = TEST_PROJECTS
    const id = randomUUID()
    const post = (project: string, name: string) =>
      call(app, 'POST', `/v3/${project}/traces`, {
        traces: [reportedTrace({ trace_id: id, time: TEST_NOW - 1000, resource_name: name })],
      })
    const inA = await post(A, 'of-a')
    assert.equal(inA.status, 201)
    const inB = await post(B, 'of-b')
    assert.equal(inB.status, 201)
    assert.deepEqual(inB.body.trace_ids, [id])
    assert.equal(typeof inB.body.leaf_indexes[0], 'number', 'stored in B, with its own leaf')
    const retry = await post(B, 'changed')
    assert.deepEqual(retry.body, inB.body, 'a retry in B is idempotent in B')
    // An id only A holds reads in B exactly like an id nobody holds.
    const onlyA = randomUUID()
    const unknown = randomUUID()
    const stored = await call(app, 'POST', `/v3/${A}/traces`, {
      traces: [reportedTrace({ trace_id: onlyA, time: TEST_NOW - 1000, service_type: 'ECS' })],
    })
    assert.equal(stored.status, 201)
    await services.checkpointer.runOnce()
    for (const path of ['traces?trace_id=', 'log/inclusion-proof?trace_id=']) {
      const held = await call(app, 'GET', `/v3/${B}/${path}${onlyA}`)
      const none = await call(app, 'GET', `/v3/${B}/${path}${unknown}`)
      assert.equal(held.status, none.status, path)
      assert.equal(
        JSON.stringify(held.body).replaceAll(onlyA, 'ID'),
        JSON.stringify(none.body).replaceAll(unknown, 'ID'),
        path,
      )
    }
    for (const [project, name] of [
      [A, 'of-a'],
      [B, 'of-b'],
    ] as const) {
      const byId = await call(app, 'GET', `/v3/${project}/traces?trace_id=${id}`)
      assert.deepEqual(
        byId.body.traces.map((tr: { resource_name: string }) => tr.resource_name),
        [name],
      )
      const listed = await call(app, 'GET', `/v3/${project}/traces?service_type=IMS&limit=200`)
      assert.equal(listed.body.traces.length, 1, `${project} lists its own trace once`)
      const proof = await call(app, 'GET', `/v3/${project}/log/inclusion-proof?trace_id=${id}`)
      assert.equal(proof.status, 200)
      assert.equal(proof.body.trace.project_id, project)
      assert.equal(proof.body.trace.resource_name, name)
    }
  })
})

describe('trace time window', () => {
  it('refuses a time older than the retention, in seconds, or over a day ahead, naming the window', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const post = (time: number) =>
      call(app, 'POST', `/v3/${P}/traces`, {
        traces: [reportedTrace({ time: TEST_NOW - 1000 }), reportedTrace({ time })],
      })
    const old = await post(TEST_NOW - 8 * 86_400_000)
    assert.equal(old.status, 400)
    assert.equal(old.body.error_code, 'CTS.0003')
    assert.match(
      old.body.error_msg,
      /^traces\[1\]\.time: time \d+ \(2026-11-13T12:00:00\.000Z\) is older than the retention/,
    )
    assert.match(old.body.error_msg, /2026-11-14T12:00:00\.000Z to 2026-11-22T12:00:00\.000Z/)
    assert.match(old.body.error_msg, /7 days of retention back, 1 day ahead/)
    assert.doesNotMatch(old.body.error_msg, /seconds/)
    const seconds = await post(Math.floor(TEST_NOW / 1000) - 60)
    assert.equal(seconds.status, 400)
    assert.match(seconds.body.error_msg, /^traces\[1\]\.time: /)
    assert.match(
      seconds.body.error_msg,
      /looks like epoch seconds \(2026-11-21T11:59:00\.000Z\): send epoch milliseconds/,
    )
    const future = await post(TEST_NOW + 86_400_000 + 1)
    assert.equal(future.status, 400)
    assert.match(future.body.error_msg, /^traces\[1\]\.time: .* is too far in the future/)
    const list = await call(
      app,
      'GET',
      `/v3/${P}/traces?service_type=IMS&limit=200&from=${TEST_NOW - 30 * 86_400_000}&to=${TEST_NOW + 2 * 86_400_000}`,
    )
    assert.equal(list.body.traces.length, 0, 'a refused batch stores nothing')

    const edges = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({ time: TEST_NOW - 7 * 86_400_000 }),
        reportedTrace({ time: TEST_NOW + 86_400_000 }),
      ],
    })
    assert.equal(edges.status, 201, 'both ends of the window are accepted')
    // The window follows the clock.
    const ok = await post(TEST_NOW - 6.75 * 86_400_000)
    assert.equal(ok.status, 201)
    clock.advance(12 * 3_600_000)
    const now = await post(TEST_NOW - 6.75 * 86_400_000)
    assert.equal(now.status, 400)
    assert.match(now.body.error_msg, /older than the retention/)
  })

  it('follows the configured retention', async (t) => {
    const { app } = await buildTestApp(t, { retentionDays: '30' })
    const posted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ time: TEST_NOW - 20 * 86_400_000 })],
    })
    assert.equal(posted.status, 201)
    const old = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ time: TEST_NOW - 31 * 86_400_000 })],
    })
    assert.equal(old.status, 400)
    assert.match(old.body.error_msg, /30 days of retention back/)
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
    const { app, dbPath } = await buildTestApp(t)
    const health = await call(app, 'GET', '/health')
    assert.deepEqual(health.body, {
      status: 'ok',
      region: 'local-1',
      storage: { database: 'ok' },
      database: { engine: 'sqlite', location: dbPath, reachable: true },
      // The jobs (and their leases) are the server's; this app runs none.
      leases: [],
    })
    const doc = await call(app, 'GET', '/openapi.json')
    assert.equal(doc.body.openapi, '3.1.0')
    const list = doc.body.paths['/v3/{project_id}/traces'].get
    assert.ok(list.parameters.some((p: { name: string }) => p.name === 'trace_rating'))
    assert.ok(doc.body.paths['/v3/{project_id}/traces'].post.requestBody)
    assert.ok(doc.body.paths['/v1.0/{project_id}/{tracker_name}/trace'])
    assert.equal(doc.body.paths['/openapi.json'], undefined)
  })
})
