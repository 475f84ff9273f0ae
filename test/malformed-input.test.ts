/**
 * Sends malformed input to every route of /openapi.json (so new routes are covered automatically)
 * and asserts that no answer is a 5xx and every 4xx carries a CTS error body. Requests carry the
 * test admin's token; test/auth-routes.test.ts covers requests without or with wrong credentials.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { adminToken, buildTestApp } from './helpers/test-app.js'

const P = '0123456789abcdef0123456789abcdef'

interface Operation {
  parameters: { name: string; in: 'path' | 'query' }[]
  requestBody?: unknown
}

const PATH_VALUES: Record<string, string[]> = {
  project_id: [P, 'bad%20id', 'x'.repeat(65), '..%2F..', '%00'],
  default: ['system', 'does-not-exist', '%FF', 'x'.repeat(300)],
}

const QUERY_VALUES = [
  '',
  '-1',
  '0',
  '99999999999999999999',
  'null',
  '%00',
  'x'.repeat(2000),
  '[]',
  '{"a":1}',
  'true',
]

const BODIES: { payload: string; type: string }[] = [
  { payload: '{', type: 'application/json' },
  { payload: '', type: 'application/json' },
  { payload: 'null', type: 'application/json' },
  { payload: '[]', type: 'application/json' },
  { payload: '"text"', type: 'application/json' },
  { payload: '12', type: 'application/json' },
  {
    payload: '{"traces":"x","tracker_type":5,"notification_name":[],"tags":{}}',
    type: 'application/json',
  },
  {
    payload: '{"__proto__":{"polluted":true},"constructor":{"prototype":{}}}',
    type: 'application/json',
  },
  { payload: '{"a":1}', type: 'text/plain' },
  { payload: '<xml/>', type: 'application/xml' },
  { payload: '\u0000\u0001', type: 'application/json' },
  // Nesting that overflowed JSON.stringify (issue 14): bounded for every body.
  { payload: '['.repeat(5000) + ']'.repeat(5000), type: 'application/json' },
  {
    payload: `{"traces":[{"request":${'['.repeat(5000)}${']'.repeat(5000)}}],"obs_info":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
    type: 'application/json',
  },
]

function fill(path: string, pick: (name: string) => string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => pick(name))
}

async function check(app: FastifyInstance, label: string, request: InjectOptions): Promise<void> {
  // Authenticated as the admin, so that the input reaches validation rather than stopping at 401.
  const token = await adminToken(app, P)
  const response = await app.inject({
    ...request,
    headers: { ...(request.headers ?? {}), 'x-auth-token': token },
  })
  assert.ok(
    response.statusCode < 500,
    `${label}: got ${response.statusCode} ${response.body.slice(0, 200)}`,
  )
  if (response.statusCode >= 400) {
    const body = JSON.parse(response.body) as { error_code?: unknown; error_msg?: unknown }
    assert.equal(typeof body.error_code, 'string', `${label}: error_code`)
    assert.equal(typeof body.error_msg, 'string', `${label}: error_msg`)
  }
}

it('answers malformed input on every route with a 4xx CTS error, never a 5xx', async (t) => {
  const { app } = await buildTestApp(t)
  const doc = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body) as {
    paths: Record<string, Record<string, Operation>>
  }
  let requests = 0
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const verb = method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE'
      const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name)
      // Bad path values, one parameter at a time.
      for (const name of pathParams) {
        for (const value of PATH_VALUES[name] ?? PATH_VALUES.default ?? []) {
          const url = fill(path, (n) => (n === name ? value : n === 'project_id' ? P : 'system'))
          await check(app, `${verb} ${url}`, {
            method: verb,
            url,
            ...(op.requestBody
              ? { payload: '{}', headers: { 'content-type': 'application/json' } }
              : {}),
          })
          requests++
        }
      }
      const url = fill(path, (n) => (n === 'project_id' ? P : 'system'))
      // Bad query values, and repeated parameters.
      for (const param of op.parameters.filter((p) => p.in === 'query')) {
        for (const value of QUERY_VALUES) {
          const q = `${url}?${param.name}=${encodeURIComponent(value)}`
          await check(app, `${verb} ${q}`, { method: verb, url: q })
          requests++
        }
        await check(app, `${verb} ${url} repeated ${param.name}`, {
          method: verb,
          url: `${url}?${param.name}=a&${param.name}=b`,
        })
        requests++
      }
      // Bad bodies, on every method (also where no body is expected).
      for (const body of BODIES) {
        await check(app, `${verb} ${url} body ${body.payload.slice(0, 30)} (${body.type})`, {
          method: verb,
          url,
          payload: body.payload,
          headers: { 'content-type': body.type },
        })
        requests++
      }
    }
  }
  for (const url of [
    '/v3',
    '/v3/',
    '/nope',
    `/v3/${P}`,
    `/v3/${P}/nope`,
    `/v4/${P}/traces`,
    '/%',
    '/v3/%ZZ/traces',
  ]) {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      await check(app, `${method} ${url}`, { method, url })
      requests++
    }
  }
  assert.ok(requests > 300, `sent ${requests} malformed requests`)
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution')
})
