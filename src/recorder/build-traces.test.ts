import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { normalizeTrace } from '../model/index.js'
import {
  BUILT_IN_MAPS,
  GLANCE_MAP,
  IMS_MAP,
  MAX_CAPTURE_BYTES,
  S3_MAP,
  buildCatchAllTraces,
  buildJobTraces,
  buildTraces,
  matchRoute,
  type Exchange,
  type RouteMatch,
} from './index.js'

const P = '0b1e494e2660441a957313163095fe5c'
const IMG = '3f7185de-b59a-4bb8-aa1d-7a513528b0e9'
let counter = 0
const newId = (): string => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`

function exchange(over: Partial<Exchange> = {}): Exchange {
  return {
    method: 'POST',
    path: '/v2/images',
    query: '',
    status: 200,
    requestHeaders: { 'Content-Type': 'application/json' },
    requestBytes: 20,
    startedAt: 1_763_737_493_000,
    durationMs: 42,
    sourceIp: '10.146.230.124',
    userAgent: 'huaweicloud-usdk-nodejs/3.0',
    user: { id: 'u1', name: 'aaa', domain: { id: 'd1', name: 'aaa' }, access_key_id: 'AK1' },
    projectId: P,
    requestId: 'req-1',
    ...over,
  }
}

function match(maps: RouteMatch['map'][], x: Exchange): RouteMatch {
  const found = matchRoute(maps, x.method, x.path, x.query, x.requestHeaders)
  assert.ok(found, `${x.method} ${x.path} matches`)
  return found
}

/** Every built trace must pass the real ingest validator. */
function valid(traces: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const trace of traces) {
    const result = normalizeTrace(trace, { projectId: P, now: 1_763_737_500_000, newId })
    assert.ok(result.ok, result.ok ? '' : `${result.problem.field}: ${result.problem.message}`)
  }
  return traces
}

function build(maps: RouteMatch['map'][], over: Partial<Exchange>): Record<string, unknown>[] {
  const x = exchange(over)
  return valid(buildTraces(match(maps, x), x, { newId }))
}

describe('buildTraces', () => {
  it('builds the createImage trace of spec §4.3 (async request record)', () => {
    const [t, ...rest] = build([IMS_MAP], {
      path: '/v2/cloudimages/action',
      requestJson: { name: 'ims_test', instance_id: 'i-1', tags: ['aaa.111'] },
      responseJson: { job_id: 'J1' },
    })
    assert.equal(rest.length, 0)
    assert.deepEqual(
      { ...t, trace_id: undefined },
      {
        trace_id: undefined,
        trace_name: 'createImage',
        trace_type: 'ApiCall',
        service_type: 'IMS',
        resource_type: 'image',
        resource_name: 'ims_test',
        code: 200,
        trace_rating: 'normal',
        request: '{"name":"ims_test","instance_id":"i-1","tags":["aaa.111"]}',
        response: '{"job_id":"J1"}',
        time: 1_763_737_493_000,
        source_ip: '10.146.230.124',
        read_only: false,
        total_time: 42,
        content_length: 20,
        user: { id: 'u1', name: 'aaa', access_key_id: 'AK1', domain: { id: 'd1', name: 'aaa' } },
        api_version: 'v2',
        request_id: 'req-1',
        user_agent: 'huaweicloud-usdk-nodejs/3.0',
        message: 'job_id=J1; iam_action=ims:serverImages:create',
      },
    )
  })

  it('rates < 400 normal, 4xx warning, 5xx incident', () => {
    const rating = (status: number): unknown =>
      build([GLANCE_MAP], { status, method: 'POST', path: '/v2/images' })[0]?.trace_rating
    assert.deepEqual([rating(201), rating(404), rating(502)], ['normal', 'warning', 'incident'])
  })

  it('fans out batch member calls: one trace per image, same request', () => {
    const traces = build([IMS_MAP], {
      method: 'DELETE',
      path: '/v1/cloudimages/members',
      requestJson: { images: ['A', 'B', 'C'], projects: ['P1'] },
      responseJson: { job_id: 'J' },
    })
    assert.deepEqual(
      traces.map((t) => t.resource_id),
      ['A', 'B', 'C'],
    )
    assert.ok(
      traces.every(
        (t) =>
          t.trace_name === 'deleteMember' && t.message === 'job_id=J; iam_action=ims:images:share',
      ),
    )
    assert.equal(new Set(traces.map((t) => t.trace_id)).size, 3)
  })

  it('uses the looked-up name and the tag from the decoded path', () => {
    const [t] = build([GLANCE_MAP], {
      method: 'PUT',
      path: `/v2/images/${IMG}/tags/my%20tag`,
      status: 204,
      requestBytes: 0,
      lookupName: 'centos-7',
    })
    assert.equal(t?.resource_id, IMG)
    assert.equal(t?.resource_name, 'centos-7')
    assert.equal(t?.message, 'tag=my tag')
    assert.equal(t?.request, '')
  })

  it('chooses the trace name from the body with trace_name_by', () => {
    const name = (action: string): unknown =>
      build([IMS_MAP], {
        path: `/v2/${P}/images/${IMG}/tags/action`,
        requestJson: { action, tags: [{ key: 'k', value: 'v' }] },
      })[0]?.trace_name
    assert.deepEqual(
      [name('create'), name('delete'), name('other')],
      ['addTag', 'deleteTag', 'addTag'],
    )
  })

  it('redacts secrets in request and response', () => {
    const [t] = build([IMS_MAP], {
      path: '/v2/cloudimages/action',
      requestJson: { name: 'n', AdminPass: 'x', nested: [{ Password: 'y' }], cmk_id: 'k' },
      responseJson: { job_id: 'J', token: 'T' },
    })
    assert.equal(
      t?.request,
      '{"name":"n","AdminPass":"********","nested":[{"Password":"********"}],"cmk_id":"********"}',
    )
    assert.equal(t?.response, '{"job_id":"J","token":"********"}')
  })

  it('caps long bodies with a marker, within MAX_CAPTURE_BYTES', () => {
    const [t] = build([GLANCE_MAP], {
      path: '/v2/images',
      requestJson: { name: 'n', description: 'é'.repeat(100_000) },
      responseText: 'x'.repeat(200_000),
    })
    for (const body of [t?.request, t?.response] as string[]) {
      assert.ok(Buffer.byteLength(body) <= MAX_CAPTURE_BYTES, `${Buffer.byteLength(body)}`)
      assert.match(body, /…\[truncated, \d+ bytes\]$/)
    }
    assert.match(t?.response as string, /truncated, 200000 bytes/)
  })

  it('never captures octet-stream bodies; records type and length in message', () => {
    const [t] = build([GLANCE_MAP], {
      method: 'PUT',
      path: `/v2/images/${IMG}/file`,
      status: 204,
      requestHeaders: { 'content-type': 'application/octet-stream' },
      requestText: 'BINARY',
      requestBytes: 123_456_789,
    })
    assert.equal(t?.request, '')
    assert.equal(t?.message, 'content_type=application/octet-stream; content_length=123456789')
    assert.equal(t?.content_length, 123_456_789)
    const [s3] = build([S3_MAP], {
      method: 'PUT',
      path: '/bkt/dir/a.txt',
      requestHeaders: { 'Content-Type': 'text/plain' },
      requestText: 'secret file content',
    })
    assert.equal(s3?.request, '', 'capture_request: false wins over a text type')
  })

  it('skips read-only rules unless reads are recorded', () => {
    const x = exchange({ method: 'GET', path: `/v2/images/${IMG}` })
    assert.deepEqual(buildTraces(match([GLANCE_MAP], x), x), [])
    const [t] = valid(buildTraces(match([GLANCE_MAP], x), x, { newId, recordReads: true }))
    assert.equal(t?.read_only, true)
    assert.equal(t?.trace_name, 'showImage')
  })

  it('S3 data traces: ObsAPI, bucket/key, no object content, READ → read_only', () => {
    const [t] = build([S3_MAP], {
      method: 'GET',
      path: '/photos/2024/a%20b.jpg',
      requestBytes: 0,
      responseText: 'object bytes',
    })
    assert.equal(t?.trace_type, 'ObsAPI')
    assert.equal(t?.service_type, 'OBS')
    assert.equal(t?.resource_id, 'photos/2024/a b.jpg')
    assert.equal(t?.resource_name, '2024/a b.jpg')
    assert.equal(t?.response, '')
    assert.equal(t?.read_only, true)
    assert.equal(t?.api_version, '2006-03-01')
  })
})

describe('buildJobTraces', () => {
  const request = exchange({
    path: '/v2/cloudimages/action',
    requestJson: { name: 'ims_test', data_images: [{ name: 'd1' }, { name: 'd2' }] },
    responseJson: { job_id: 'J9' },
  })
  const m = match([IMS_MAP], request)

  it('SUCCESS with sub_jobs_result gives one SystemAction trace per image', () => {
    const job = {
      job_id: 'J9',
      job_type: 'imsVolumesToSysDataImagesJob',
      status: 'SUCCESS',
      end_time: '1763737593000',
      entities: {
        sub_jobs_result: [
          { status: 'SUCCESS', entities: { image_id: 'I1' } },
          { status: 'SUCCESS', entities: { image_id: 'I2' } },
          { status: 'SUCCESS', entities: { image_id: 'I3' } },
        ],
      },
    }
    const traces = valid(buildJobTraces(m, request, job, { newId }))
    assert.deepEqual(
      traces.map((t) => t.resource_id),
      ['I1', 'I2', 'I3'],
    )
    for (const t of traces) {
      assert.equal(t.trace_type, 'SystemAction')
      assert.equal(t.source_ip, '')
      assert.equal(t.trace_rating, 'normal')
      assert.equal(t.trace_name, 'createImage')
      assert.equal(t.request_id, 'J9')
      assert.equal(t.resource_name, 'ims_test')
      assert.equal(t.time, 1_763_737_593_000)
      assert.equal(JSON.parse(t.response as string).job_type, 'imsVolumesToSysDataImagesJob')
      assert.match(t.message as string, /^job_id=J9; status=SUCCESS; job_type=/)
    }
  })

  it('reads an end_time in epoch seconds, and falls back to the exchange for an implausible one', () => {
    const at = (end_time: string): unknown =>
      valid(
        buildJobTraces(
          m,
          request,
          { job_id: 'J9', status: 'SUCCESS', end_time, entities: {} },
          {
            newId,
          },
        ),
      )[0]?.time
    assert.equal(at('1763737593'), 1_763_737_593_000)
    assert.equal(at('2025-11-21T15:06:33Z'), 1_763_737_593_000)
    const end = request.startedAt + request.durationMs
    assert.equal(at('1000'), end, 'January 1970 is not the end of a job started now')
    assert.equal(at(String(request.startedAt + 30 * 86_400_000)), end)
    assert.equal(at(String(request.startedAt - 2 * 86_400_000)), end)
  })

  it('SUCCESS of a single-image job uses entities.image_id and image_name', () => {
    const job = {
      job_id: 'J9',
      status: 'SUCCESS',
      entities: { image_id: IMG, image_name: 'final' },
    }
    const [t, ...rest] = valid(buildJobTraces(m, request, job, { newId }))
    assert.equal(rest.length, 0)
    assert.equal(t?.resource_id, IMG)
    assert.equal(t?.resource_name, 'final')
  })

  it('FAIL gives a warning; RUNNING gives nothing yet', () => {
    const fail = {
      job_id: 'J9',
      status: 'FAIL',
      error_code: 'IMG.0001',
      fail_reason: 'quota',
      entities: {},
    }
    const [t] = valid(buildJobTraces(m, request, fail, { newId }))
    assert.equal(t?.trace_rating, 'warning')
    assert.equal(t?.message, 'job_id=J9; status=FAIL; error_code=IMG.0001; fail_reason=quota')
    assert.deepEqual(buildJobTraces(m, request, { job_id: 'J9', status: 'RUNNING' }), [])
  })

  it('member jobs fan out over the requested images', () => {
    const x = exchange({
      method: 'PUT',
      path: '/v1/cloudimages/members',
      requestJson: { images: ['A', 'B'], project_id: 'P2', status: 'accepted' },
      responseJson: { job_id: 'JM' },
    })
    const traces = valid(
      buildJobTraces(
        match([IMS_MAP], x),
        x,
        { job_id: 'JM', status: 'SUCCESS', entities: {} },
        { newId },
      ),
    )
    assert.deepEqual(
      traces.map((t) => [t.trace_name, t.resource_id]),
      [
        ['updateMember', 'A'],
        ['updateMember', 'B'],
      ],
    )
  })
})

describe('buildCatchAllTraces', () => {
  const naming: [string, string, string, string, string | undefined][] = [
    ['DELETE', `/v2/images/${IMG}`, 'deleteImages', 'images', IMG],
    ['POST', '/v2/cloudimages/action', 'postCloudimagesAction', 'cloudimages', undefined],
    ['PUT', `/v3/${P}/servers/s-1/metadata/key_name`, 'putKeyName', 'servers', 's-1'],
    ['POST', '/v1', 'post', 'unknown', undefined],
  ]
  for (const [method, path, name, type, id] of naming) {
    it(`${method} ${path} → ${name}`, () => {
      const [t] = valid(buildCatchAllTraces('IMS', exchange({ method, path }), { newId }))
      assert.equal(t?.trace_name, name)
      assert.equal(t?.resource_type, type)
      assert.equal(t?.resource_id, id)
      assert.equal(t?.message, 'unmapped')
      assert.equal(t?.service_type, 'IMS')
    })
  }
  it('records nothing for reads', () => {
    assert.deepEqual(buildCatchAllTraces('IMS', exchange({ method: 'GET' })), [])
  })
})

it('every rule of every built-in map builds traces the ingest validator accepts', () => {
  for (const map of Object.values(BUILT_IN_MAPS)) {
    for (const rule of map.routes) {
      const path = rule.path.replace(/\{(\w+)(\+)?\}/g, (_m, n: string) => `${n}-1`)
      const x = exchange({
        method: rule.method,
        path,
        query: rule.query ?? '',
        requestHeaders: {
          'content-type': 'application/json',
          ...(rule.header === undefined ? {} : { [rule.header]: 'b/k' }),
        },
        requestJson: {
          name: 'n'.repeat(300),
          images: ['A', 'B'],
          action: 'delete',
          id: IMG,
          tag: 'k.v',
        },
        responseJson: { job_id: 'J', id: IMG, name: 'resp-name' },
        lookupName: 'looked-up',
        userAgent: 'u'.repeat(2000),
      })
      const m = match([map], x)
      assert.equal(m.rule, rule)
      const traces = valid(buildTraces(m, x, { newId, recordReads: true }))
      assert.ok(traces.length >= 1, `${rule.method} ${rule.path}`)
      if (rule.async_job !== undefined)
        valid(
          buildJobTraces(
            m,
            x,
            { job_id: 'J', status: 'SUCCESS', entities: { image_id: IMG } },
            { newId },
          ),
        )
    }
  }
})
