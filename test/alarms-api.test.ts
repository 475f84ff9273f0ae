/**
 * The alarm API in-process over a real SQLite store: validation (every client mistake a 4xx CTS
 * error body naming the field), uniqueness, quota, tenant isolation, self-audit of every change
 * (failures included), and the history paged newest first with a marker.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { loadConfig } from '../src/config/config.js'
import { TEST_PROJECTS, buildTestApp, call, type TestApp } from './helpers/test-app.js'

const [P, Q] = TEST_PROJECTS
const BASE = `/v3/${P}/alarms`

function body(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    alarm_name: name,
    description: 'deletes of images',
    filter: { service_type: 'IMS', trace_name: 'deleteImage' },
    condition: { comparison: '>', threshold: 5, period: 300 },
    ...overrides,
  }
}

async function auditTraces(app: TestApp, traceName: string): Promise<Record<string, unknown>[]> {
  const answer = await call(
    app.app,
    'GET',
    `/v3/${P}/traces?service_type=CTS&trace_name=${traceName}&limit=200`,
  )
  assert.equal(answer.status, 200)
  return answer.body.traces as Record<string, unknown>[]
}

describe('alarm API', () => {
  it('creates, lists, shows, updates and deletes a rule, each change self-audited', async (t) => {
    const app = await buildTestApp(t)
    const topic = await call(app.app, 'POST', `/v3/${P}/topics`, { name: 'ops' })
    const created = await call(
      app.app,
      'POST',
      BASE,
      body('b-deletes', { topic_urn: topic.body.topic_urn }),
    )
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const rule = created.body
    assert.match(rule.alarm_id, /^[0-9a-f-]{36}$/)
    assert.deepEqual(rule.filter, {
      trace_type: 'system',
      service_type: 'IMS',
      trace_name: 'deleteImage',
    })
    assert.deepEqual(rule.condition, { comparison: '>', threshold: 5, period: 300 })
    assert.equal(rule.enabled, true)
    assert.equal(rule.state, 'insufficient_data')
    assert.equal(rule.topic_urn, topic.body.topic_urn)
    assert.equal(rule.create_time, app.clock.now())
    await call(app.app, 'POST', BASE, body('a-first'))

    const list = await call(app.app, 'GET', BASE)
    assert.equal(list.status, 200)
    assert.deepEqual(
      list.body.alarms.map((a: { alarm_name: string }) => a.alarm_name),
      ['a-first', 'b-deletes'],
    )
    assert.equal(list.body.count, 2)
    assert.deepEqual((await call(app.app, 'GET', `${BASE}/${rule.alarm_id}`)).body, rule)

    app.clock.advance(1000)
    const updated = await call(app.app, 'PUT', `${BASE}/${rule.alarm_id}`, {
      alarm_name: 'deletes',
      condition: { threshold: 9 },
      topic_urn: null,
    })
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    assert.equal(updated.body.alarm_name, 'deletes')
    assert.deepEqual(updated.body.condition, { comparison: '>', threshold: 9, period: 300 })
    assert.equal(updated.body.topic_urn, null)
    assert.equal(updated.body.update_time, app.clock.now())
    assert.deepEqual((await call(app.app, 'GET', `${BASE}/${rule.alarm_id}`)).body, updated.body)
    const clash = await call(app.app, 'PUT', `${BASE}/${rule.alarm_id}`, { alarm_name: 'a-first' })
    assert.equal(clash.status, 409)
    assert.equal(clash.body.error_code, 'OCTS.0171')

    assert.equal((await call(app.app, 'DELETE', `${BASE}/${rule.alarm_id}`)).status, 204)
    for (const [method, url] of [
      ['GET', `${BASE}/${rule.alarm_id}`],
      ['PUT', `${BASE}/${rule.alarm_id}`],
      ['DELETE', `${BASE}/${rule.alarm_id}`],
      ['GET', `${BASE}/${rule.alarm_id}/history`],
      ['GET', `${BASE}/not-a-uuid`],
    ] as const) {
      const answer = await call(
        app.app,
        method,
        url,
        method === 'PUT' ? { enabled: false } : undefined,
      )
      assert.equal(answer.status, 404, `${method} ${url}`)
      assert.equal(answer.body.error_code, 'OCTS.0172')
    }

    const creates = await auditTraces(app, 'createAlarm')
    assert.equal(creates.length, 2)
    const own = creates.find((tr) => tr.resource_id === rule.alarm_id)
    assert.equal(own?.resource_type, 'alarm')
    assert.equal(own?.resource_name, 'b-deletes')
    assert.equal(own?.code, '201')
    const updates = await auditTraces(app, 'updateAlarm')
    assert.deepEqual(updates.map((tr) => tr.code).sort(), ['200', '404', '409'])
    const deletes = await auditTraces(app, 'deleteAlarm')
    assert.deepEqual(deletes.map((tr) => tr.code).sort(), ['204', '404'])
  })

  it('answers every invalid rule with 400 and a message naming the field, and audits it', async (t) => {
    const app = await buildTestApp(t)
    const other = await call(app.app, 'POST', `/v3/${Q}/topics`, { name: 'theirs' })
    const cases: [Record<string, unknown> | unknown[] | string, string, RegExp][] = [
      [[], 'CTS.0003', /object/],
      ['text', 'CTS.0003', /object/],
      [body(''), 'OCTS.0170', /alarm_name/],
      [body('has space'), 'OCTS.0170', /alarm_name/],
      [body('x'.repeat(65)), 'OCTS.0170', /alarm_name/],
      [{ ...body('a'), extra: 1 }, 'OCTS.0170', /extra is not a field/],
      [body('a', { description: 'x'.repeat(256) }), 'OCTS.0170', /description/],
      [body('a', { filter: [] }), 'OCTS.0170', /filter must be an object/],
      [
        body('a', { filter: { trace_id: randomUUID() } }),
        'OCTS.0170',
        /filter\.trace_id is not a filter field/,
      ],
      [body('a', { filter: { from: '1' } }), 'OCTS.0170', /filter\.from/],
      [
        body('a', { filter: { service_type: 5 } }),
        'OCTS.0170',
        /filter\.service_type must be a string/,
      ],
      [
        body('a', { filter: { trace_rating: 'fatal' } }),
        'OCTS.0170',
        /trace_rating must be one of/,
      ],
      [body('a', { filter: { trace_type: 'ApiCall' } }), 'OCTS.0170', /trace_type must be one of/],
      [body('a', { filter: { tracker_name: 'dt1' } }), 'OCTS.0170', /tracker_name must be system/],
      [
        body('a', { filter: { service_type: 'x'.repeat(65) } }),
        'OCTS.0170',
        /service_type is 65 characters/,
      ],
      [body('a', { filter: { q: 'colour:red' } }), 'OCTS.0170', /q: at 1: unknown field "colour"/],
      [body('a', { condition: undefined }), 'OCTS.0170', /condition is required/],
      [body('a', { condition: 5 }), 'OCTS.0170', /condition must be an object/],
      [
        body('a', { condition: { comparison: '!=', threshold: 1, period: 300 } }),
        'OCTS.0170',
        /comparison/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: -1, period: 300 } }),
        'OCTS.0170',
        /threshold/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: 1.5, period: 300 } }),
        'OCTS.0170',
        /threshold/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: '5', period: 300 } }),
        'OCTS.0170',
        /threshold/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: 1, period: 59 } }),
        'OCTS.0170',
        /period/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: 1, period: 86_401 } }),
        'OCTS.0170',
        /period/,
      ],
      [
        body('a', { condition: { comparison: '>', threshold: 1, period: 300, x: 1 } }),
        'OCTS.0170',
        /condition\.x/,
      ],
      [body('a', { enabled: 'yes' }), 'OCTS.0170', /enabled/],
      [body('a', { topic_urn: 'urn:smn:local-1:nope' }), 'OCTS.0170', /topic_urn/],
      [body('a', { topic_urn: `urn:smn:local-1:${P}:missing` }), 'OCTS.0170', /topic_urn/],
      [body('a', { topic_urn: other.body.topic_urn }), 'OCTS.0170', /topic_urn/],
      [body('a', { topic_urn: 7 }), 'OCTS.0170', /topic_urn/],
    ]
    for (const [payload, code, message] of cases) {
      const answer = await call(app.app, 'POST', BASE, payload)
      assert.ok(
        answer.status === 400,
        `${JSON.stringify(payload).slice(0, 120)} → ${answer.status}`,
      )
      assert.equal(answer.body.error_code, code, JSON.stringify(answer.body))
      assert.match(answer.body.error_msg, message)
    }
    assert.equal((await call(app.app, 'GET', BASE)).body.count, 0)
    const failed = await auditTraces(app, 'createAlarm')
    assert.equal(failed.length, cases.length)
    assert.ok(failed.every((tr) => tr.code === '400' && tr.trace_rating === 'warning'))
    // Valid forms of what was refused above.
    for (const [i, filter] of [
      { trace_type: 'data', tracker_name: 'dt1' },
      { trace_rating: 'incident', user: 'alice', access_key_id: 'AK1', resource_id: 'r' },
      {},
      { q: 'code:(401 OR 403) NOT user:admin' },
    ].entries()) {
      const ok = await call(app.app, 'POST', BASE, body(`ok-${i}`, { filter }))
      assert.equal(ok.status, 201, JSON.stringify(ok.body))
    }
    const dup = await call(app.app, 'POST', BASE, body('ok-0'))
    assert.equal(dup.status, 409)
    assert.equal(dup.body.error_code, 'OCTS.0171')
  })

  it('keeps projects apart and bounds the rules of a project', async (t) => {
    const app = await buildTestApp(t)
    const mine = await call(app.app, 'POST', BASE, body('mine'))
    assert.equal((await call(app.app, 'GET', `/v3/${Q}/alarms/${mine.body.alarm_id}`)).status, 404)
    assert.equal((await call(app.app, 'GET', `/v3/${Q}/alarms`)).body.count, 0)
    // The same name in another project is another rule.
    assert.equal((await call(app.app, 'POST', `/v3/${Q}/alarms`, body('mine'))).status, 201)
    for (let i = 1; i < 100; i++)
      assert.equal((await call(app.app, 'POST', BASE, body(`r-${i}`))).status, 201)
    const over = await call(app.app, 'POST', BASE, body('one-too-many'))
    assert.equal(over.status, 400)
    assert.equal(over.body.error_code, 'OCTS.0173')
  })

  it('pages the history newest first with a marker, and refuses bad paging parameters', async (t) => {
    const app = await buildTestApp(t)
    const created = await call(
      app.app,
      'POST',
      BASE,
      body('flappy', {
        condition: { comparison: '>=', threshold: 1, period: 60 },
      }),
    )
    const id = created.body.alarm_id as string
    const evaluator = app.services.alarmEvaluator
    // Each minute: one delete (alarm) or none (ok): insufficient → alarm → ok → alarm → ok → alarm.
    for (let round = 0; round < 5; round++) {
      app.clock.advance(61_000)
      if (round % 2 === 0) {
        const posted = await call(app.app, 'POST', `/v3/${P}/traces`, {
          traces: [
            {
              trace_id: randomUUID(),
              time: app.clock.now() - 1000,
              service_type: 'IMS',
              resource_type: 'image',
              trace_name: 'deleteImage',
              trace_type: 'ApiCall',
              code: 204,
              user: { name: 'alice', domain: { id: 'd1', name: 'acme' } },
            },
          ],
        })
        assert.equal(posted.status, 201, JSON.stringify(posted.body))
      }
      assert.equal((await evaluator.runOnce()).transitions, 1)
    }
    const all = await call(app.app, 'GET', `${BASE}/${id}/history?limit=200`)
    assert.equal(all.status, 200)
    assert.deepEqual(
      all.body.history.map((h: { new_state: string }) => h.new_state),
      ['alarm', 'ok', 'alarm', 'ok', 'alarm'],
    )
    assert.equal(all.body.history.at(-1).old_state, 'insufficient_data')
    assert.equal(all.body.meta_data.marker, null)
    const walked: unknown[] = []
    let marker: string | null = null
    for (let page = 0; page < 10; page++) {
      const answer: { body: { history: unknown[]; meta_data: { marker: string | null } } } =
        await call(
          app.app,
          'GET',
          `${BASE}/${id}/history?limit=2${marker === null ? '' : `&marker=${encodeURIComponent(marker)}`}`,
        )
      walked.push(...answer.body.history)
      marker = answer.body.meta_data.marker
      if (marker === null) break
    }
    assert.deepEqual(walked, all.body.history)
    for (const query of ['limit=0', 'limit=201', 'limit=x', 'marker=nope', 'limit=1&limit=2']) {
      const answer = await call(app.app, 'GET', `${BASE}/${id}/history?${query}`)
      assert.equal(answer.status, 400, query)
      // A repeated key is refused by the query-string schema (CTS.0300), like on every route.
      assert.equal(answer.body.error_code, query.includes('&') ? 'CTS.0300' : 'OCTS.0170', query)
    }
    const rule = await call(app.app, 'GET', `${BASE}/${id}`)
    assert.equal(rule.body.state, 'alarm')
    assert.equal(rule.body.last_count, 1)
  })

  it('takes the evaluation interval from OPENCTS_ALARM_INTERVAL (seconds, 1-3600, default 60)', () => {
    assert.equal(loadConfig({}, {}).alarmIntervalSeconds, 60)
    assert.equal(loadConfig({ OPENCTS_ALARM_INTERVAL: '5' }, {}).alarmIntervalSeconds, 5)
    for (const bad of ['0', '3601', '1.5', 'soon'])
      assert.throws(
        () => loadConfig({ OPENCTS_ALARM_INTERVAL: bad }, {}),
        /alarmIntervalSeconds must be an integer from 1 to 3600/,
        bad,
      )
  })
})
