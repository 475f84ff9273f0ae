/**
 * `GET /v3/{project_id}/resources/history`: the history of one resource across services, summed up
 * (created, last changed, deleted, counts per kind, operators) and paged newest first, over a real
 * server and store; the summary's bound.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseHistoryQuery, readResourceHistory } from '../src/query/resource-history.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const P = TEST_PROJECTS[0] as string
const MIN = 60_000
const who = (name: string): Record<string, unknown> => ({
  user: { id: `u-${name}`, name, domain: { id: 'd1', name: 'acme' } },
})

/** img-7's life (oldest first), with traces of other resources around it. */
const LIFE = [
  { trace_name: 'createImage', code: 201, ...who('alice'), source_ip: '192.0.2.1' },
  { trace_name: 'updateImage', code: 200, ...who('bob') },
  { trace_name: 'addMember', code: 200, ...who('bob') },
  { trace_name: 'GetImage', code: 200, ...who('carol') },
  // Another service naming the same resource (a server booted from the image).
  {
    trace_name: 'reinstallServer',
    code: 202,
    service_type: 'ECS',
    resource_type: 'server',
    ...who('carol'),
  },
  { trace_name: 'deleteImage', code: 403, ...who('carol'), trace_rating: 'warning' },
  { trace_name: 'deleteImage', code: 204, ...who('alice'), source_ip: '192.0.2.9' },
]

async function seed(t: Parameters<typeof buildTestApp>[0]): Promise<TestApp> {
  const testApp = await buildTestApp(t)
  const traces = [
    ...LIFE.map((patch, i) =>
      reportedTrace({
        resource_id: 'img-7',
        resource_name: 'web-7',
        time: TEST_NOW - (60 - i * 5) * MIN,
        ...patch,
      }),
    ),
    ...Array.from({ length: 5 }, (_, i) =>
      reportedTrace({
        resource_id: `img-${i}`,
        resource_name: `other-${i}`,
        time: TEST_NOW - (i + 1) * MIN,
      }),
    ),
  ]
  const { status } = await call(testApp.app, 'POST', `/v3/${P}/traces`, { traces })
  assert.equal(status, 201)
  return testApp
}

describe('GET /v3/{project_id}/resources/history', () => {
  it('sums up who created, changed, shared and deleted a resource, across services', async (t) => {
    const { app } = await seed(t)
    const { status, body } = await call(app, 'GET', `/v3/${P}/resources/history?resource_id=img-7`)
    assert.equal(status, 200, JSON.stringify(body))
    assert.deepEqual(body.resource, {
      resource_id: 'img-7',
      resource_name: 'web-7',
      resource_type: 'image',
      service_type: 'IMS',
    })
    const s = body.summary
    assert.equal(s.total, LIFE.length)
    assert.equal(s.complete, true)
    assert.deepEqual(
      [s.created.trace_name, s.created.user, s.created.source_ip],
      ['createImage', 'alice', '192.0.2.1'],
    )
    assert.deepEqual([s.last_changed.trace_name, s.last_changed.user], ['addMember', 'bob'])
    assert.deepEqual(
      [s.deleted.trace_name, s.deleted.user, s.deleted.source_ip],
      ['deleteImage', 'alice', '192.0.2.9'],
    )
    assert.deepEqual(s.counts, {
      create: 1,
      update: 1,
      share: 1,
      delete: 2,
      read: 1,
      other: 1,
      failed: 1,
    })
    assert.equal(s.first_time, TEST_NOW - 60 * MIN)
    assert.equal(s.last_time, TEST_NOW - 30 * MIN)
    assert.deepEqual(
      s.operators.map((o: { user: string; count: number; kinds: string[] }) => [
        o.user,
        o.count,
        o.kinds.sort(),
      ]),
      [
        ['carol', 3, ['delete', 'other', 'read']],
        ['alice', 2, ['create', 'delete']],
        ['bob', 2, ['share', 'update']],
      ],
    )
    assert.deepEqual(
      body.events.map((e: { trace_name: string; kind: string }) => [e.trace_name, e.kind]),
      [...LIFE]
        .reverse()
        .map((e) => [
          e.trace_name,
          e.trace_name === 'addMember' ? 'share' : expectedKind(e.trace_name),
        ]),
    )
    const first = body.events[body.events.length - 1]
    assert.equal(first.request, '{"name":"ubuntu"}', 'requests and responses come with the events')
    assert.equal(first.response, '{"id":"img-1"}')
  })

  it('pages the events with next, by name too, and refuses what it cannot answer', async (t) => {
    const { app } = await seed(t)
    const seen: string[] = []
    let next = ''
    for (let page = 0; page < 10; page++) {
      const { status, body } = await call(
        app,
        'GET',
        `/v3/${P}/resources/history?resource_name=web-7&limit=3${next === '' ? '' : `&next=${next}`}`,
      )
      assert.equal(status, 200, JSON.stringify(body))
      assert.equal(body.summary.total, LIFE.length, 'every page sums up the whole window')
      seen.push(...body.events.map((e: { trace_name: string }) => e.trace_name))
      next = body.meta_data.marker ?? ''
      if (next === '') break
    }
    assert.deepEqual(
      seen,
      [...LIFE].reverse().map((e) => e.trace_name),
    )
    const only = await call(
      app,
      'GET',
      `/v3/${P}/resources/history?resource_id=img-7&service_type=ECS`,
    )
    assert.deepEqual(
      only.body.events.map((e: { trace_name: string }) => e.trace_name),
      ['reinstallServer'],
    )
    for (const query of [
      '',
      'resource_id=img-7&resource_name=web-7',
      'resource_id=img-7&user=bob',
      'resource_id=img-7&limit=500',
    ]) {
      const bad = await call(app, 'GET', `/v3/${P}/resources/history?${query}`)
      assert.equal(bad.status, 400, query)
      assert.equal(bad.body.error_code, 'CTS.0300', query)
    }
    const none = await call(app, 'GET', `/v3/${P}/resources/history?resource_id=nothing`)
    assert.equal(none.status, 200)
    assert.deepEqual(
      [none.body.summary.total, none.body.summary.created, none.body.events],
      [0, null, []],
    )
  })

  it('reads at most its bound of traces and says the summary is not complete', async (t) => {
    const { services, clock } = await seed(t)
    const plan = parseHistoryQuery(
      { resource_id: 'img-7' },
      { projectId: P, now: clock.now(), retentionMs: 7 * 86_400_000 },
    )
    const capped = await readResourceHistory(services.traceReads, plan, 4)
    assert.equal(capped.summary.complete, false)
    assert.equal(capped.summary.total, 4)
    assert.equal(capped.summary.created, null, 'the create is older than the four newest')
    assert.equal(capped.events.length, LIFE.length, 'the page itself is not cut')
    // A first page within the bound comes from the summary's walk: the same traces and marker.
    for (const limit of [3, 4]) {
      const walked = await readResourceHistory(services.traceReads, { ...plan, limit }, 4)
      const stored = await services.traceReads.page(plan.filter, null, limit)
      assert.deepEqual(
        walked.events.map((e) => e.trace_id),
        stored.traces.map((t) => t.trace_id),
      )
      assert.equal(walked.meta_data.marker, stored.traces.at(-1)?.trace_id)
    }
    const whole = await readResourceHistory(services.traceReads, plan, LIFE.length)
    assert.equal(whole.summary.complete, true)
  })
})

function expectedKind(name: string): string {
  if (name.startsWith('create')) return 'create'
  if (name.startsWith('delete')) return 'delete'
  if (name.startsWith('update')) return 'update'
  if (name.startsWith('reinstall')) return 'other'
  return 'read'
}
