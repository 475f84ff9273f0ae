/**
 * Requests signed by the real Huawei Cloud Node SDK signer (`@huaweicloud/huaweicloud-sdk-core`,
 * `BasicCredentials.processAuthRequest`, as HcClient uses it) and sent over a real loopback socket
 * the way its HTTP client sends them (trailing slash stripped, query by `querystring`, body
 * `JSON.stringify(data)`): GET with queries, POST/PUT JSON bodies, DELETE, X-Project-Id, a tag path
 * with a space. Then every kind of tampering is refused with 401.
 */
import assert from 'node:assert/strict'
import { stringify } from 'node:querystring'
import { describe, it } from 'node:test'
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js'
import { GlobalCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/GlobalCredentials.js'
import type { IHttpRequest } from '@huaweicloud/huaweicloud-sdk-core/http/IHttpRequest.js'
import { formatSdkDate } from '../src/auth/index.js'
import { reportedTrace } from './helpers/make-trace.js'
import {
  ADMIN_AK,
  ADMIN_SK,
  TEST_ACCOUNT,
  TEST_NOW,
  TEST_PROJECTS,
  buildTestApp,
} from './helpers/test-app.js'

const [P, P2] = TEST_PROJECTS

interface SdkCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly url: string
  readonly queryParams?: Record<string, unknown>
  readonly data?: unknown
  readonly date?: number
  readonly ak?: string
  readonly sk?: string
  readonly projectId?: string
  /** Headers the SDK client adds before signing (its HTTP client sends `content-type` always). */
  readonly headers?: Record<string, string>
}

interface Wire {
  method: string
  url: string
  headers: Record<string, string>
  body: string | undefined
}

/** Signs with the SDK and returns what its HTTP client would send. */
async function sdkSign(endpoint: string, call: SdkCall): Promise<Wire> {
  const credentials = new BasicCredentials()
    .withAk(call.ak ?? ADMIN_AK)
    .withSk(call.sk ?? ADMIN_SK)
    .withProjectId(call.projectId ?? P)
  const request: IHttpRequest = {
    endpoint,
    url: call.url,
    method: call.method,
    headers: {
      'X-Sdk-Date': formatSdkDate(call.date ?? TEST_NOW),
      ...(call.data === undefined ? {} : { 'content-type': 'application/json' }),
      ...call.headers,
    },
    queryParams: { ...call.queryParams },
    data: call.data,
  }
  const signed = await credentials.processAuthRequest(undefined as any, request)
  const headers: Record<string, string> = { 'user-agent': 'huaweicloud-usdk-nodejs/3.0' }
  for (const [name, value] of Object.entries(signed.headers as Record<string, unknown>))
    if (name.toLowerCase() !== 'host') headers[name] = String(value)
  const query = stringify((signed.queryParams ?? {}) as Record<string, string>)
  return {
    method: call.method,
    url: String(signed.endpoint).replace(/\/$/, '') + (query === '' ? '' : `?${query}`),
    headers,
    body: signed.data === undefined ? undefined : JSON.stringify(signed.data),
  }
}

async function send(wire: Wire): Promise<{ status: number; body: any }> {
  const response = await fetch(wire.url, {
    method: wire.method,
    headers: wire.headers,
    ...(wire.body === undefined ? {} : { body: wire.body }),
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

async function server(t: Parameters<typeof buildTestApp>[0]): Promise<string> {
  const { app } = await buildTestApp(t, { authFailureLimit: '1000' })
  return app.listen({ host: '127.0.0.1', port: 0 })
}

describe('requests signed by the Huawei Cloud SDK signer', () => {
  it('are accepted: POST with a JSON body, GET with queries, PUT, DELETE, tag paths', async (t) => {
    const endpoint = await server(t)
    const trace = reportedTrace({ time: TEST_NOW - 1000, trace_name: 'createImage' })
    const posted = await send(
      await sdkSign(endpoint, {
        method: 'POST',
        url: '/v3/{project_id}/traces',
        data: { traces: [trace] },
      }),
    )
    assert.equal(posted.status, 201, JSON.stringify(posted.body))
    const listed = await send(
      await sdkSign(endpoint, {
        method: 'GET',
        url: '/v3/{project_id}/traces',
        queryParams: {
          service_type: 'IMS',
          trace_name: 'createImage',
          limit: 10,
        },
      }),
    )
    assert.equal(listed.status, 200, JSON.stringify(listed.body))
    assert.deepEqual(
      listed.body.traces.map((tr: { trace_id: string }) => tr.trace_id),
      posted.body.trace_ids,
    )
    const created = await send(
      await sdkSign(endpoint, {
        method: 'POST',
        url: '/v3/{project_id}/tracker',
        data: {
          tracker_type: 'data',
          tracker_name: 'images',
          data_bucket: { data_bucket_name: 'b-1', data_event: ['WRITE'] },
        },
      }),
    )
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const updated = await send(
      await sdkSign(endpoint, {
        method: 'PUT',
        url: '/v3/{project_id}/tracker',
        data: { tracker_type: 'data', tracker_name: 'images', status: 'disabled' },
      }),
    )
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    const deleted = await send(
      await sdkSign(endpoint, {
        method: 'DELETE',
        url: '/v3/{project_id}/trackers',
        queryParams: { tracker_name: 'images', tracker_type: 'data' },
      }),
    )
    assert.equal(deleted.status, 204, JSON.stringify(deleted.body))
    // A path segment the SDK signs differently from how it sends it (spec §3.4 item 4).
    const tags = await send(
      await sdkSign(endpoint, { method: 'GET', url: '/v3/{project_id}/cts-tracker/a b/tags' }),
    )
    assert.ok(tags.status !== 401 && tags.status !== 403, `tag path: ${tags.status}`)
    // Repeated query values and characters the SDK encodes its own way.
    const odd = await send(
      await sdkSign(endpoint, {
        method: 'GET',
        url: '/v3/{project_id}/traces',
        queryParams: { resource_name: 'a b*~ü', limit: 5 },
      }),
    )
    assert.equal(odd.status, 200, JSON.stringify(odd.body))
  })

  it('are refused with 401 when anything signed changes, the date is stale or the key is wrong', async (t) => {
    const endpoint = await server(t)
    const base: SdkCall = {
      method: 'POST',
      url: '/v3/{project_id}/traces',
      data: { traces: [reportedTrace({ time: TEST_NOW - 1000, trace_name: 'deleteImage' })] },
    }
    assert.equal((await send(await sdkSign(endpoint, base))).status, 201, 'the untouched request')
    const cases: [string, (w: Wire) => Wire, SdkCall?][] = [
      [
        'a changed body',
        (w) => ({ ...w, body: (w.body ?? '').replace('deleteImage', 'createImage') }),
      ],
      ['a changed signed header', (w) => ({ ...w, headers: { ...w.headers, 'X-Project-Id': P2 } })],
      [
        'a changed path',
        (w) => ({ ...w, url: w.url.replace(`/v3/${P}/traces`, `/v3/${P2}/traces`) }),
      ],
      ['an added query', (w) => ({ ...w, url: `${w.url}?limit=1` })],
      ['a date 16 minutes old', (w) => w, { ...base, date: TEST_NOW - 16 * 60_000 }],
      ['a date 16 minutes ahead', (w) => w, { ...base, date: TEST_NOW + 16 * 60_000 }],
      ['a wrong secret key', (w) => w, { ...base, sk: 'not-the-secret-key-of-this-access-key' }],
      ['an unknown access key', (w) => w, { ...base, ak: 'ZZZZZZZZZZZZZZZZZZZZ' }],
    ]
    for (const [label, tamper, call] of cases) {
      const answer = await send(tamper(await sdkSign(endpoint, call ?? base)))
      assert.equal(answer.status, 401, `${label}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.error_code, 'APIG.0301', label)
    }
    const query: SdkCall = {
      method: 'GET',
      url: '/v3/{project_id}/traces',
      queryParams: { limit: 5 },
    }
    assert.equal((await send(await sdkSign(endpoint, query))).status, 200)
    const changedQuery = await send(
      await sdkSign(endpoint, query).then((w) => ({
        ...w,
        url: w.url.replace('limit=5', 'limit=6'),
      })),
    )
    assert.equal(changedQuery.status, 401, 'a changed query')
    const del: SdkCall = {
      method: 'DELETE',
      url: '/v3/{project_id}/trackers',
      queryParams: { tracker_name: 'x' },
    }
    const asGet = await sdkSign(endpoint, del)
    assert.equal((await send({ ...asGet, method: 'GET' })).status, 401, 'a changed method')
  })

  it('answers 403 for an X-Project-Id outside the account, and acts in the X-Project-Id given', async (t) => {
    const endpoint = await server(t)
    const foreign = 'ffffffffffffffffffffffffffffffff'
    const answer = await send(
      await sdkSign(endpoint, {
        method: 'GET',
        url: '/v3/{project_id}/trackers',
        projectId: foreign,
      }),
    )
    assert.equal(answer.status, 403)
    const mismatch = await sdkSign(endpoint, {
      method: 'GET',
      url: `/v3/${P}/trackers`,
      projectId: P2,
    })
    assert.equal((await send(mismatch)).status, 403, 'X-Project-Id and the path disagree')
    const own = await send(
      await sdkSign(endpoint, { method: 'GET', url: '/v3/{project_id}/trackers', projectId: P2 }),
    )
    assert.equal(own.status, 200)
  })

  it('sign account-level calls with GlobalCredentials and X-Domain-Id', async (t) => {
    const endpoint = await server(t)
    const global = async (domainId: string): Promise<number> => {
      const credentials = new GlobalCredentials()
        .withAk(ADMIN_AK)
        .withSk(ADMIN_SK)
        .withDomainId(domainId)
      const signed = await credentials.processAuthRequest(undefined as any, {
        endpoint,
        url: `/v3/${TEST_ACCOUNT}/resources`,
        method: 'GET',
        headers: { 'X-Sdk-Date': formatSdkDate(TEST_NOW) },
        queryParams: {},
      })
      const headers = Object.fromEntries(
        Object.entries(signed.headers as Record<string, string>).filter(([k]) => k !== 'host'),
      )
      return (await fetch(String(signed.endpoint).replace(/\/$/, ''), { headers })).status
    }
    assert.equal(await global(TEST_ACCOUNT), 200)
    assert.equal(
      await global('ffffffffffffffffffffffffffffffff'),
      403,
      'X-Domain-Id of another account',
    )
  })

  it('delete with Content-Type: application/json and an empty body, as the CTS SDKs send it', async (t) => {
    const endpoint = await server(t)
    const json = { 'content-type': 'application/json' }
    const created = await send(
      await sdkSign(endpoint, {
        method: 'POST',
        url: '/v3/{project_id}/tracker',
        data: {
          tracker_type: 'data',
          tracker_name: 'images',
          data_bucket: { data_bucket_name: 'b-1', data_event: ['WRITE'] },
        },
      }),
    )
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const notification = await send(
      await sdkSign(endpoint, {
        method: 'POST',
        url: '/v3/{project_id}/notifications',
        data: { notification_name: 'ops', operation_type: 'complete' },
      }),
    )
    assert.equal(notification.status, 201, JSON.stringify(notification.body))
    // Signed with the content type, sent with an empty body (Content-Length: 0) and with none.
    const emptyBody = async (call: SdkCall): Promise<{ status: number; body: any }[]> => {
      const wire = await sdkSign(endpoint, { ...call, headers: json })
      // (fetch cannot send a body with GET, not even an empty one.)
      if (call.method === 'GET') return [await send(wire)]
      return [await send({ ...wire, body: '' }), await send(wire)]
    }
    // Each pair: the first deletes (204), the second finds nothing left (not a 400).
    for (const call of [
      {
        method: 'DELETE',
        url: '/v3/{project_id}/trackers',
        queryParams: { tracker_name: 'images', tracker_type: 'data' },
      },
      {
        method: 'DELETE',
        url: '/v3/{project_id}/notifications',
        queryParams: { notification_id: notification.body.notification_id },
      },
    ] as const) {
      const [first, second] = await emptyBody(call)
      assert.equal(first?.status, 204, `${call.url}: ${JSON.stringify(first?.body)}`)
      assert.ok(second !== undefined && second.status !== 400, JSON.stringify(second?.body))
    }
    // Elsewhere: a GET, a legacy DELETE and a DELETE of the token API, all without a body schema.
    for (const call of [
      { method: 'GET', url: '/v3/{project_id}/trackers' },
      { method: 'GET', url: '/v3/{project_id}/traces', queryParams: { limit: 1 } },
      { method: 'DELETE', url: '/v1.0/{project_id}/tracker', queryParams: { tracker_name: 'x' } },
    ] as const)
      for (const answer of await emptyBody(call))
        assert.ok(
          answer.status < 400 || answer.body?.error_code !== 'CTS.0003',
          `${call.method} ${call.url}: ${JSON.stringify(answer.body)}`,
        )
    // Another media type with an empty body is accepted too on a route that takes none.
    const xml = await sdkSign(endpoint, {
      method: 'DELETE',
      url: '/v3/{project_id}/trackers',
      queryParams: { tracker_name: 'none', tracker_type: 'data' },
      headers: { 'content-type': 'application/xml' },
    })
    const xmlAnswer = await send({ ...xml, body: '' })
    assert.notEqual(xmlAnswer.status, 415, JSON.stringify(xmlAnswer.body))
    assert.notEqual(xmlAnswer.status, 401, JSON.stringify(xmlAnswer.body))
    // A route that takes a body still refuses an empty one, signed or not.
    for (const url of ['/v3/{project_id}/tracker', '/v3/{project_id}/traces']) {
      const wire = await sdkSign(endpoint, { method: 'POST', url, headers: json })
      const answer = await send({ ...wire, body: '' })
      assert.equal(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.error_code, 'CTS.0003')
      assert.match(answer.body.error_msg, /empty/)
      const other = await send({
        ...wire,
        body: '',
        headers: { ...wire.headers, 'content-type': 'application/xml' },
      })
      assert.equal(other.status, 415, `${url} as XML: ${JSON.stringify(other.body)}`)
    }
  })
})
