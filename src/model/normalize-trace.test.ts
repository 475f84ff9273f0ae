import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { normalizeTrace, type NormalizeContext } from './normalize-trace.js'
import { toApiTrace, toFileTrace } from './trace-representations.js'

const ctx: NormalizeContext = {
  projectId: 'p1',
  now: 1_700_000_000_500,
  newId: () => '00000000-0000-4000-8000-000000000001',
}

const minimal = {
  time: 1_700_000_000_000,
  service_type: 'IMS',
  resource_type: 'image',
  trace_name: 'createImage',
  trace_type: 'ApiCall',
}

function problem(input: unknown): { field: string; message: string } {
  const result = normalizeTrace(input, ctx)
  assert.equal(result.ok, false, 'expected a problem')
  return result.ok ? { field: '', message: '' } : result.problem
}

describe('normalizeTrace', () => {
  it('fills trace_id, record_time, rating, tracker and event type for a minimal trace', () => {
    const result = normalizeTrace(minimal, ctx)
    assert.ok(result.ok)
    const t = result.trace
    assert.equal(t.trace_id, '00000000-0000-4000-8000-000000000001')
    assert.equal(t.record_time, ctx.now)
    assert.equal(t.trace_rating, 'normal')
    assert.equal(t.tracker_name, 'system')
    assert.equal(t.event_type, 'system')
    assert.equal(t.project_id, 'p1')
    assert.equal(t.user, null)
  })

  it('applies the rating rule of §3.3 and keeps a producer rating', () => {
    const rate = (extra: object): string => {
      const r = normalizeTrace({ ...minimal, ...extra }, ctx)
      return r.ok ? r.trace.trace_rating : 'invalid'
    }
    assert.equal(rate({ code: 200 }), 'normal')
    assert.equal(rate({ code: '302' }), 'normal')
    assert.equal(rate({ code: 399 }), 'normal')
    assert.equal(rate({ code: 400 }), 'warning')
    assert.equal(rate({ code: '503' }), 'warning')
    assert.equal(
      rate({ code: 200, trace_rating: 'warning' }),
      'warning',
      'deleteEip 200 with an error body',
    )
    assert.equal(rate({ code: 302, trace_rating: 'normal' }), 'normal')
    assert.equal(
      rate({ code: 500, trace_status: 'incident' }),
      'incident',
      'legacy trace_status alias',
    )
  })

  it('accepts the API and the file representation alike', () => {
    const user = { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } }
    const api = normalizeTrace({ ...minimal, code: '201', user, request: { name: 'x' } }, ctx)
    const file = normalizeTrace(
      { ...minimal, code: 201, user: JSON.stringify(user), request: '{"name":"x"}' },
      ctx,
    )
    assert.ok(api.ok && file.ok)
    assert.deepEqual(api.trace, file.trace)
    assert.equal(api.trace.code, '201')
    assert.equal(api.trace.request, '{"name":"x"}')
    assert.equal(api.trace.user_name, 'alice')
    assert.equal(api.trace.domain_id, 'd1')
  })

  it('derives the API form (strings) and the file form (user string, numeric code)', () => {
    const result = normalizeTrace(
      { ...minimal, code: 201, user: { name: 'alice' }, response: { id: 'img' } },
      ctx,
    )
    assert.ok(result.ok)
    const api = toApiTrace(result.trace)
    assert.equal(api.code, '201')
    assert.equal(api.response, '{"id":"img"}')
    assert.deepEqual(api.user, { name: 'alice' })
    assert.equal('project_id' in api, false)
    const file = toFileTrace(result.trace)
    assert.equal(file.code, 201)
    assert.equal(file.user, '{"name":"alice"}')
    assert.equal(file.project_id, 'p1')
    assert.equal(file.tracker_name, 'system')
    assert.equal('user_name' in file, false)
  })

  it('reports data traces in the data category without a default tracker', () => {
    const result = normalizeTrace(
      { ...minimal, trace_type: 'ObsAPI', service_type: 'OBS', resource_type: 'bucket' },
      ctx,
    )
    assert.ok(result.ok)
    assert.equal(result.trace.event_type, 'data')
    assert.equal(result.trace.tracker_name, null)
  })

  const cases: [string, unknown, string, RegExp][] = [
    ['not-an-object', [minimal], 'trace', /must be an object/],
    ['missing-time', { ...minimal, time: undefined }, 'time', /required/],
    ['seconds-string-time', { ...minimal, time: '1700000000' }, 'time', /epoch milliseconds/],
    ['missing-service', { ...minimal, service_type: '' }, 'service_type', /required/],
    [
      'missing-resource-type',
      { ...minimal, resource_type: undefined },
      'resource_type',
      /required/,
    ],
    [
      'trace-name-starts-with-digit',
      { ...minimal, trace_name: '1create' },
      'trace_name',
      /starting with a letter/,
    ],
    ['trace-name-65-chars', { ...minimal, trace_name: 'a'.repeat(65) }, 'trace_name', /1-64/],
    ['trace-name-space', { ...minimal, trace_name: 'create image' }, 'trace_name', /1-64/],
    ['missing-trace-type', { ...minimal, trace_type: undefined }, 'trace_type', /required/],
    ['unknown-trace-type', { ...minimal, trace_type: 'apicall' }, 'trace_type', /one of/],
    [
      'unknown-rating',
      { ...minimal, trace_rating: 'fatal' },
      'trace_rating',
      /normal, warning, incident/,
    ],
    ['code-float', { ...minimal, code: 200.5 }, 'code', /HTTP status/],
    ['code-object', { ...minimal, code: {} }, 'code', /number or a string/],
    ['bad-trace-id', { ...minimal, trace_id: 'abc' }, 'trace_id', /UUID/],
    ['other-project', { ...minimal, project_id: 'p2' }, 'project_id', /differs/],
    ['user-not-json', { ...minimal, user: '{name' }, 'user', /not JSON/],
    ['user-name-number', { ...minimal, user: { name: 5 } }, 'user.name', /string/],
    ['unknown-field', { ...minimal, trace_nmae: 'x' }, 'trace_nmae', /unknown field/],
    [
      'request-over-100kb',
      { ...minimal, request: 'x'.repeat(100 * 1024 + 1) },
      'request',
      /max 102400/,
    ],
    [
      'response-over-100kb',
      { ...minimal, response: 'é'.repeat(51 * 1024) },
      'response',
      /bytes, max 102400/,
    ],
    [
      'trace-over-256kb',
      {
        ...minimal,
        request: 'x'.repeat(100 * 1024),
        response: 'x'.repeat(100 * 1024),
        location_info: 'x'.repeat(4096),
        message: 'x'.repeat(4096),
        user: { name: 'u', blob: 'x'.repeat(60 * 1024) },
      },
      'trace',
      /max 262144/,
    ],
    [
      'resource-id-over-350',
      { ...minimal, resource_id: 'x'.repeat(351) },
      'resource_id',
      /max 350/,
    ],
    ['read-only-string', { ...minimal, read_only: 'yes' }, 'read_only', /boolean/],
    ['negative-total-time', { ...minimal, total_time: -1 }, 'total_time', /non-negative/],
  ]
  for (const [desc, input, field, message] of cases) {
    it(`rejects ${desc}`, () => {
      const p = problem(input)
      assert.equal(p.field, field)
      assert.match(p.message, message)
    })
  }

  it('rejects a lone UTF-16 surrogate anywhere, and keeps pairs and escaped look-alikes', () => {
    for (const extra of [
      { resource_name: 'a\ud800' },
      { request: '\udc00x' },
      { user: { name: 'bob', domain: { name: 'x\ud83d' } } },
    ])
      assert.match(problem({ ...minimal, ...extra }).message, /lone UTF-16 surrogate/)
    for (const extra of [{ resource_name: 'image 😀' }, { request: '\\ud800 is text' }]) {
      const result = normalizeTrace({ ...minimal, ...extra }, ctx)
      assert.ok(result.ok, JSON.stringify(extra))
    }
  })

  it('decides size and surrogates without serialising exactly as with it (the fast path)', () => {
    // A user key, and a value only a non-JSON object holds (the exact path takes that one).
    assert.match(problem({ ...minimal, user: { ['k\udbff']: 'v' } }).message, /lone UTF-16/)
    assert.match(
      problem({ ...minimal, user: { name: 'u', when: new Date(0), x: ['\ud800'] } }).message,
      /lone UTF-16/,
    )
    // A request object is serialised: its lone surrogate becomes an escape, which is text.
    assert.ok(normalizeTrace({ ...minimal, request: { a: '\ud800' } }, ctx).ok)
    // Far over the fast bound (6 bytes a character) but within the limit: accepted.
    const big = {
      ...minimal,
      request: 'x'.repeat(100 * 1024),
      response: 'x'.repeat(100 * 1024),
      user: { name: 'u', blob: 'x'.repeat(40 * 1024) },
    }
    const result = normalizeTrace(big, ctx)
    assert.ok(result.ok)
    const exact = Buffer.byteLength(JSON.stringify(result.trace))
    assert.ok(exact < 256 * 1024 && exact > 240 * 1024, String(exact))
    // Over the limit by a few bytes: the exact size in the message.
    const over = { ...big, user: { name: 'u', blob: 'x'.repeat(40 * 1024 + 262144 - exact + 3) } }
    assert.equal(problem(over).message, 'trace is 262147 bytes, max 262144')
  })
})
