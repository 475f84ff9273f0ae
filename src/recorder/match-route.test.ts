import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  BUILT_IN_MAPS,
  GLANCE_MAP,
  IMS_MAP,
  S3_MAP,
  bucketOf,
  isMutating,
  matchRoute,
  parseRouteMap,
  type RouteMap,
  type RouteRule,
} from './index.js'

const P = '0b1e494e2660441a957313163095fe5c'
const IMG = '3f7185de-b59a-4bb8-aa1d-7a513528b0e9'

/** A concrete request path for a rule's template (var → `x-<name>`, greedy → two segments). */
function samplePath(rule: RouteRule): string {
  return rule.path.replace(/\{(\w+)(\+)?\}/g, (_m, name: string, plus?: string) =>
    plus === undefined ? `x-${name}` : `x-${name}/deep`,
  )
}

function sample(rule: RouteRule): [string, string, Record<string, string>] {
  return [
    samplePath(rule),
    rule.query ?? '',
    rule.header === undefined ? {} : { [rule.header]: 'v' },
  ]
}

describe('matchRoute', () => {
  for (const [name, maps] of [
    ['ims', [IMS_MAP]],
    ['glance', [GLANCE_MAP]],
    ['s3', [S3_MAP]],
    ['ims+glance', [IMS_MAP, GLANCE_MAP]],
  ] as const) {
    it(`finds every rule of ${name} from a sample request`, () => {
      for (const map of maps as readonly RouteMap[]) {
        for (const rule of map.routes) {
          const [path, query, headers] = sample(rule)
          const found = matchRoute(maps, rule.method, path, query, headers)
          assert.equal(found?.rule, rule, `${rule.method} ${path}?${query}`)
          assert.equal(found?.map, map)
        }
      }
    })
  }

  const maps = [IMS_MAP, GLANCE_MAP]
  const table: [string, string, string, Record<string, string>, boolean][] = [
    ['POST', '/v2/cloudimages/action', 'createImage', {}, false],
    ['POST', '/v2.1/cloudimages/action', 'createImage', {}, false],
    ['POST', '/v1/cloudimages/dataimages/action', 'createImage', {}, false],
    ['PUT', `/v1/cloudimages/${IMG}/upload`, 'createImage', { image_id: IMG }, false],
    ['PATCH', `/v2/cloudimages/${IMG}`, 'updateImage', { image_id: IMG }, false],
    ['POST', `/v2.1/cloudimages/${IMG}/copy`, 'copyImage', { image_id: IMG }, false],
    ['POST', `/v1/cloudimages/${IMG}/cross_region_copy`, 'copyImage', { image_id: IMG }, false],
    ['POST', `/v1/cloudimages/${IMG}/file`, 'exportImage', { image_id: IMG }, false],
    ['DELETE', '/v1/cloudimages/members', 'deleteMember', {}, false],
    [
      'POST',
      `/v2/${P}/images/${IMG}/tags/action`,
      'addTag',
      { project_id: P, image_id: IMG },
      false,
    ],
    [
      'DELETE',
      `/v2/${P}/images/${IMG}/tags/k1`,
      'deleteTag',
      { project_id: P, image_id: IMG, key: 'k1' },
      false,
    ],
    ['POST', '/v2/images', 'createImage', {}, false],
    ['PUT', `/v2/images/${IMG}/file`, 'updateImage', { image_id: IMG }, false],
    ['DELETE', `/v1.1/images/${IMG}`, 'deleteImage', { image_id: IMG }, false],
    [
      'PUT',
      `/v2/images/${IMG}/members/${P}`,
      'updateMember',
      { image_id: IMG, member_id: P },
      false,
    ],
    [
      'PUT',
      `/v2/images/${IMG}/tags/my%20tag%2Fx`,
      'addTag',
      { image_id: IMG, tag: 'my tag/x' },
      false,
    ],
    [
      'DELETE',
      `/v2/images/${IMG}/tags/caf%C3%A9`,
      'deleteTag',
      { image_id: IMG, tag: 'café' },
      false,
    ],
    ['GET', `/v2/images/${IMG}`, 'showImage', { image_id: IMG }, true],
    ['GET', '/v2/schemas/members', 'showSchema', {}, true],
    ['GET', `/v1/${P}/jobs/j1`, 'showJob', { project_id: P, job_id: 'j1' }, true],
    ['GET', '/', 'listVersions', {}, true],
    ['GET', '/v2', 'showVersion', { version: 'v2' }, true],
    [
      'POST',
      `/v2/${P}/images/resource_instances/action`,
      'listImagesByTags',
      { project_id: P },
      true,
    ],
  ]
  for (const [method, path, traceName, params, readOnly] of table) {
    it(`${method} ${path} → ${traceName}`, () => {
      const found = matchRoute(maps, method, path)
      assert.equal(found?.rule.trace_name, traceName)
      assert.deepEqual(found?.params, params)
      assert.equal(found?.rule.read_only === true, readOnly)
    })
  }

  it('tolerates a trailing slash, doubled slashes, a lower-case method and a query in the path', () => {
    assert.equal(matchRoute(maps, 'post', '/v2/images/')?.rule.trace_name, 'createImage')
    assert.equal(matchRoute(maps, 'DELETE', `//v2/images/${IMG}?x=1`)?.params.image_id, IMG)
    assert.equal(matchRoute(maps, 'GET', '/v2/cloudimages/action'), undefined)
    assert.equal(matchRoute(maps, 'POST', '/V2/images'), undefined, 'literals are case-sensitive')
    assert.equal(matchRoute(maps, 'DELETE', '/v2/images'), undefined)
  })

  it('prefers the most specific template: not greedy, fewest variables, then the longest literal', () => {
    const map = parseRouteMap({
      name: 't',
      service_type: 'T',
      routes: [
        { method: 'GET', path: '/{a}/{b}', trace_name: 'twoVars', resource_type: 'r' },
        { method: 'GET', path: '/{a}/items', trace_name: 'oneVar', resource_type: 'r' },
        { method: 'GET', path: '/v1/{b}', trace_name: 'shortLiteral', resource_type: 'r' },
        { method: 'GET', path: '/{a+}', trace_name: 'greedy', resource_type: 'r' },
        { method: 'GET', path: '/x/{a+}', trace_name: 'greedyLiteral', resource_type: 'r' },
      ],
    })
    const name = (path: string): string | undefined =>
      matchRoute([map], 'GET', path)?.rule.trace_name
    assert.equal(name('/v1/items'), 'oneVar', 'items (5 chars) beats v1 (2 chars)')
    assert.equal(name('/v1/things'), 'shortLiteral')
    assert.equal(name('/a/b'), 'twoVars')
    assert.equal(name('/a'), 'greedy')
    assert.equal(name('/x/y'), 'twoVars', 'a greedy template loses to an exact one')
    assert.equal(name('/x/y/z'), 'greedyLiteral')
    assert.equal(name('/a/b/c'), 'greedy')
  })

  it('S3: greedy keys, query and header discriminators, bucketOf', () => {
    const m = matchRoute([S3_MAP], 'GET', '/photos/2024/a%20b.jpg')
    assert.equal(m?.rule.trace_name, 'GetObject')
    assert.deepEqual(m?.params, { bucket: 'photos', key: '2024/a b.jpg' })
    assert.equal(m === undefined ? undefined : bucketOf(m), 'photos')
    const s3 = (method: string, path: string, query = '', headers = {}): string | undefined =>
      matchRoute([S3_MAP], method, path, query, headers)?.rule.trace_name
    assert.equal(s3('POST', '/photos', '?delete'), 'DeleteObjects')
    assert.equal(s3('POST', '/photos'), undefined)
    assert.equal(s3('GET', '/photos', 'list-type=2&prefix=a'), 'ListObjects')
    assert.equal(s3('GET', '/photos', 'uploads'), 'ListMultipartUploads')
    assert.equal(s3('PUT', '/photos/a.jpg'), 'PutObject')
    assert.equal(s3('PUT', '/photos/a.jpg', '', { 'X-Amz-Copy-Source': '/b/k' }), 'CopyObject')
    assert.equal(s3('PUT', '/photos/a.jpg', 'partNumber=1&uploadId=u'), 'UploadPart')
    assert.equal(
      s3('PUT', '/photos/a.jpg', 'partNumber=1&uploadId=u', { 'x-amz-copy-source': 'b/k' }),
      'UploadPartCopy',
    )
    assert.equal(s3('POST', '/photos/a.jpg', 'uploads'), 'CreateMultipartUpload')
    assert.equal(s3('POST', '/photos/a.jpg', 'uploadId=u'), 'CompleteMultipartUpload')
    assert.equal(s3('DELETE', '/photos/a.jpg', 'uploadId=u'), 'AbortMultipartUpload')
    assert.equal(s3('DELETE', '/photos/a.jpg'), 'DeleteObject')
    assert.equal(s3('HEAD', '/photos/a.jpg'), 'HeadObject')
    const kinds = S3_MAP.routes.map((r) => r.data_event)
    assert.ok(kinds.every((k) => k === 'READ' || k === 'WRITE'))
    assert.equal(matchRoute([GLANCE_MAP], 'GET', '/v2/images')?.map.name, 'glance')
    assert.equal(bucketOf(matchRoute([GLANCE_MAP], 'GET', '/v2/images')!), undefined)
  })

  it('isMutating: POST PUT PATCH DELETE', () => {
    for (const m of ['POST', 'put', 'PATCH', 'delete']) assert.equal(isMutating(m), true, m)
    for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.equal(isMutating(m), false, m)
  })

  it('marks the read-only routes of spec §1.2 and only them', () => {
    const reads = Object.values(BUILT_IN_MAPS)
      .slice(0, 2)
      .flatMap((map) => map.routes.filter((r) => r.read_only === true))
    assert.ok(
      reads.every((r) => r.method === 'GET' || r.path.endsWith('/resource_instances/action')),
    )
    const gets = [IMS_MAP, GLANCE_MAP].flatMap((map) =>
      map.routes.filter((r) => r.method === 'GET'),
    )
    assert.ok(gets.every((r) => r.read_only === true))
  })
})
