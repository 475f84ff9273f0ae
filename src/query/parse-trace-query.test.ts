import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../errors/index.js'
import { parseTraceQuery, type ParseOptions, type RawQuery } from './parse-trace-query.js'

const NOW = 1_763_726_400_000
const options: ParseOptions = {
  projectId: 'p1',
  now: NOW,
  retentionMs: 7 * 86_400_000,
  legacy: false,
}

function rejects(raw: RawQuery, message: RegExp, opts: ParseOptions = options): void {
  assert.throws(
    () => parseTraceQuery(raw, opts),
    (e) =>
      isOpenCtsError(e) &&
      e.errorCode === 'CTS.0300' &&
      e.httpStatus === 400 &&
      message.test(e.message),
  )
}

describe('parseTraceQuery', () => {
  it('defaults to the last hour of management traces, 10 per page', () => {
    const plan = parseTraceQuery({}, options)
    assert.equal(plan.kind, 'page')
    if (plan.kind !== 'page') return
    assert.equal(plan.limit, 10)
    assert.equal(plan.filter.category, 'system')
    assert.equal(plan.filter.to, NOW + 1, 'a trace at exactly now is included')
    assert.equal(plan.filter.from, NOW - 3_600_000, 'a trace exactly one hour old is included')
    assert.equal(plan.next, null)
  })

  it('keeps from/to exclusive and clamps from to the retention window', () => {
    const plan = parseTraceQuery(
      { from: String(NOW - 30 * 86_400_000), to: String(NOW - 1000) },
      options,
    )
    assert.ok(plan.kind === 'page')
    assert.equal(plan.filter.to, NOW - 1000)
    assert.equal(plan.filter.from, NOW - 7 * 86_400_000 - 1)
  })

  it('lets trace_id override every other filter, even invalid ones', () => {
    const plan = parseTraceQuery(
      { trace_id: 'E001CCB9-BC09-11E6-B00B-4B2A61338DB6', limit: '0', trace_type: 'bogus' },
      options,
    )
    assert.deepEqual(plan, {
      kind: 'byId',
      projectId: 'p1',
      traceId: 'e001ccb9-bc09-11e6-b00b-4b2a61338db6',
    })
  })

  it('maps every filter parameter', () => {
    const plan = parseTraceQuery(
      {
        service_type: 'IMS',
        user: 'alice',
        resource_id: 'r',
        resource_name: 'n',
        resource_type: 'image',
        trace_name: 'createImage',
        trace_rating: 'warning',
        access_key_id: 'AK',
        enterprise_project_id: '0',
        trace_type: 'data',
        tracker_name: 'dt1',
        limit: '200',
        next: 'e001ccb9-bc09-11e6-b00b-4b2a61338db6',
      },
      options,
    )
    assert.ok(plan.kind === 'page')
    assert.deepEqual(plan.filter, {
      projectId: 'p1',
      from: NOW - 3_600_000,
      to: NOW + 1,
      category: 'data',
      trackerName: 'dt1',
      serviceType: 'IMS',
      userName: 'alice',
      resourceId: 'r',
      resourceName: 'n',
      resourceType: 'image',
      traceName: 'createImage',
      accessKeyId: 'AK',
      enterpriseProjectId: '0',
      traceRating: 'warning',
    })
    assert.equal(plan.limit, 200)
  })

  it('accepts trace_status as the legacy alias of trace_rating and ignores v3-only filters on legacy routes', () => {
    const plan = parseTraceQuery(
      { trace_status: 'incident', trace_type: 'data', access_key_id: 'AK' },
      { ...options, legacy: true },
    )
    assert.ok(plan.kind === 'page')
    assert.equal(plan.filter.traceRating, 'incident')
    assert.equal(plan.filter.category, 'system')
    assert.equal(plan.filter.accessKeyId, undefined)
  })

  it('rejects invalid parameters with CTS.0300 and a got/want message', () => {
    rejects({ limit: '0' }, /limit must be an integer from 1 to 200, got "0"/)
    rejects({ limit: '201' }, /limit/)
    rejects({ limit: 'ten' }, /limit/)
    rejects({ from: '1700000000' }, /13-digit/)
    rejects({ to: 'yesterday' }, /13-digit/)
    rejects({ from: String(NOW), to: String(NOW - 1) }, /must be earlier/)
    rejects({ trace_type: 'management' }, /trace_type must be one of system, data/)
    rejects({ trace_rating: 'Normal' }, /trace_rating must be one of/)
    rejects({ tracker_name: 'dt1' }, /tracker_name must be system/)
    rejects({ next: 'not-a-marker' }, /next must be a marker/)
    rejects({ service_type: ['IMS', 'ECS'] }, /given 2 times/)
    rejects({ trace_id: 'x' }, /trace_id must be a UUID/)
  })
})
