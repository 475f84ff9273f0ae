/**
 * Every route of /openapi.json, walked with every kind of caller (the table below must name each
 * route, so a new route cannot be added without deciding what it requires):
 * - no credential → 401 APIG.0301;
 * - a credential whose policies lack the route's action → 403 CTS.0013;
 * - a credential with the action → neither 401 nor 403;
 * - a credential of another account, a token scoped to another project of the same account, or
 *   a user whose policy is granted in another project only → 403, on every route of project B.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { signRequest } from '../src/auth/index.js'
import {
  ADMIN_AK,
  ADMIN_SK,
  TEST_ACCOUNT,
  TEST_NOW,
  TEST_PROJECTS,
  buildTestApp,
  signIn,
  type TestApp,
} from './helpers/test-app.js'

const [A, A2] = TEST_PROJECTS
const PASSWORD = 'a-password-for-tests'

/** The action each route must enforce (spec/cts-api.md §14.2), written out independently of the code. */
const ROUTE_ACTIONS: Record<string, string> = {
  'POST /v3/{project_id}/traces': 'cts:trace:report',
  'GET /v3/{project_id}/traces': 'cts:trace:list',
  'GET /v3/{project_id}/traces/export': 'cts:trace:list',
  'GET /v3/{project_id}/traces/activity': 'cts:trace:list',
  'GET /v3/{project_id}/resources/history': 'cts:trace:list',
  'GET /v3/{project_id}/traces/statistics': 'cts:trace:list',
  'GET /v3/{project_id}/insights': 'cts:trace:list',
  'GET /v1.0/{project_id}/{tracker_name}/trace': 'cts:trace:list',
  'GET /v2.0/{project_id}/{tracker_name}/trace': 'cts:trace:list',
  'POST /v3/{project_id}/tracker': 'cts:tracker:create',
  'PUT /v3/{project_id}/tracker': 'cts:tracker:update',
  'GET /v3/{project_id}/trackers': 'cts:tracker:list',
  'DELETE /v3/{project_id}/trackers': 'cts:tracker:delete',
  'POST /v1.0/{project_id}/tracker': 'cts:tracker:create',
  'PUT /v1.0/{project_id}/tracker/{tracker_name}': 'cts:tracker:update',
  'GET /v1.0/{project_id}/tracker': 'cts:tracker:list',
  'DELETE /v1.0/{project_id}/tracker': 'cts:tracker:delete',
  'POST /v3/{project_id}/notifications': 'cts:notification:create',
  'PUT /v3/{project_id}/notifications': 'cts:notification:update',
  'GET /v3/{project_id}/notifications/{notification_type}': 'cts:notification:list',
  'DELETE /v3/{project_id}/notifications': 'cts:notification:delete',
  'GET /v3/{project_id}/quotas': 'cts:quota:get',
  'GET /v3/{project_id}/digest-keys': 'cts:digestKey:list',
  'GET /v3/{project_id}/log/checkpoint': 'cts:log:get',
  'GET /v3/{project_id}/log/checkpoints': 'cts:log:get',
  'GET /v3/{project_id}/log/inclusion-proof': 'cts:log:get',
  'GET /v3/{project_id}/log/consistency-proof': 'cts:log:get',
  'GET /v3/{project_id}/log/keys': 'cts:log:get',
  'POST /v3/{project_id}/topics': 'cts:notification:create',
  'GET /v3/{project_id}/topics': 'cts:notification:list',
  'DELETE /v3/{project_id}/topics/{topic_name}': 'cts:notification:delete',
  'POST /v3/{project_id}/topics/{topic_name}/subscriptions': 'cts:notification:create',
  'GET /v3/{project_id}/topics/{topic_name}/subscriptions': 'cts:notification:list',
  'DELETE /v3/{project_id}/topics/{topic_name}/subscriptions/{subscription_id}':
    'cts:notification:delete',
  'POST /v3/{project_id}/functions': 'cts:notification:create',
  'GET /v3/{project_id}/functions': 'cts:notification:list',
  'DELETE /v3/{project_id}/functions': 'cts:notification:delete',
  'GET /v3/{project_id}/deliveries': 'cts:notification:list',
  'POST /v3/{project_id}/deliveries/{delivery_id}/redeliver': 'cts:notification:update',
  'GET /v3/{project_id}/operations': 'cts:notification:listOperation',
  'GET /v3/{project_id}/user-resources': 'cts:trace:listTraceUser',
  'GET /v3/{domain_id}/resources': 'cts:trace:listResource',
  'POST /v3/{domain_id}/checkbucket': 'cts:tracker:list',
  'POST /v3/{project_id}/{resource_type}/{resource_id}/tags/create': 'cts:tag:create',
  'DELETE /v3/{project_id}/{resource_type}/{resource_id}/tags/delete': 'cts:tag:delete',
  'GET /v3/{project_id}/{resource_type}/{resource_id}/tags': 'cts:tag:list',
  'GET /v3/{project_id}/{resource_type}/tags': 'cts:tag:list',
  'POST /v3/{project_id}/{resource_type}/resource-instances/filter': 'cts:tag:list',
  'POST /v3/{project_id}/alarms': 'cts:alarm:create',
  'GET /v3/{project_id}/alarms': 'cts:alarm:list',
  'GET /v3/{project_id}/alarms/{alarm_id}': 'cts:alarm:get',
  'PUT /v3/{project_id}/alarms/{alarm_id}': 'cts:alarm:update',
  'DELETE /v3/{project_id}/alarms/{alarm_id}': 'cts:alarm:delete',
  'GET /v3/{project_id}/alarms/{alarm_id}/history': 'cts:alarm:get',
}
/** Routes any caller may use. */
const PUBLIC = new Set([
  'GET /',
  'GET /{version}',
  'GET /health',
  'GET /metrics',
  'POST /v3/auth/tokens',
])
/** Routes any authenticated caller may use (the caller's own token). */
const AUTHENTICATED = new Set(['GET /v3/auth/tokens', 'DELETE /v3/auth/tokens'])

const READ_ACTIONS = new Set([
  'cts:trace:list',
  'cts:trace:listTraceUser',
  'cts:trace:listResource',
  'cts:tracker:list',
  'cts:notification:list',
  'cts:notification:listOperation',
  'cts:quota:get',
  'cts:digestKey:list',
  'cts:log:get',
  'cts:tag:list',
  'cts:alarm:list',
  'cts:alarm:get',
])

/** Who may do what, per built-in policy (spec §14.1; `cts:trace:report` is for producers only). */
const POLICIES: Record<string, (action: string) => boolean> = {
  'CTS ReadOnlyAccess': (a) => READ_ACTIONS.has(a),
  'CTS FullAccess': (a) => a !== 'cts:trace:report',
  'CTS TraceReporter': (a) => a === 'cts:trace:report',
  'CTS Administrator': () => true,
}

interface Route {
  readonly key: string
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly path: string
  readonly hasBody: boolean
}

async function routesOf(app: FastifyInstance): Promise<Route[]> {
  const doc = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body) as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>
  }
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method.toUpperCase() as Route['method'],
      path,
      hasBody: op.requestBody !== undefined,
    })),
  )
}

function urlOf(route: Route, projectId: string, accountId: string): string {
  return route.path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    switch (name) {
      case 'project_id':
        return projectId
      case 'domain_id':
        return accountId
      case 'notification_type':
        return 'smn'
      case 'resource_type':
        return 'cts-tracker'
      case 'version':
        return 'v3'
      default:
        return 'system'
    }
  })
}

async function send(
  app: FastifyInstance,
  route: Route,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; code: unknown }> {
  const body = route.hasBody || route.method === 'POST' || route.method === 'PUT' ? '{}' : undefined
  const response = await app.inject({
    method: route.method,
    url,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: body }),
  })
  const json = String(response.headers['content-type']).startsWith('application/json')
  const parsed = json ? (JSON.parse(response.body) as { error_code?: unknown }) : {}
  return { status: response.statusCode, code: parsed.error_code }
}

/** Headers of a request signed with an AK/SK (the test admin's by default); X-Project-Id when given. */
function signed(
  route: Route,
  url: string,
  key: { ak?: string; sk?: string; projectId?: string } = {},
): Record<string, string> {
  const hasBody = route.hasBody || route.method === 'POST' || route.method === 'PUT'
  const headers: Record<string, string> = {
    ...(hasBody ? { 'content-type': 'application/json' } : {}),
    ...(key.projectId === undefined ? {} : { 'x-project-id': key.projectId }),
  }
  return {
    ...headers,
    host: 'localhost',
    ...signRequest({
      method: route.method,
      url: new URL(`http://localhost${url}`),
      headers,
      ...(hasBody ? { body: '{}' } : {}),
      accessKeyId: key.ak ?? ADMIN_AK,
      secretKey: key.sk ?? ADMIN_SK,
      now: TEST_NOW,
    }),
  }
}

interface World extends TestApp {
  readonly routes: Route[]
  readonly tokens: Record<string, string>
  readonly other: { accountId: string; projectId: string; token: string; ak: string; sk: string }
}

async function world(t: Parameters<typeof buildTestApp>[0]): Promise<World> {
  const testApp = await buildTestApp(t, { authFailureLimit: '1000000' })
  const { app, services } = testApp
  const admin = services.identity
  const tokens: Record<string, string> = {}
  for (const policy of Object.keys(POLICIES)) {
    const user = policy.replace(/\W/g, '').toLowerCase()
    await admin.createUser({ account: 'test', name: user, password: PASSWORD })
    await admin.grant({ account: 'test', user, policy })
    tokens[policy] = await signIn(app, { account: 'test', user, password: PASSWORD, projectId: A })
  }
  // FullAccess in project A2 only.
  await admin.createUser({ account: 'test', name: 'scoped', password: PASSWORD })
  await admin.grant({ account: 'test', user: 'scoped', policy: 'CTS FullAccess', project: A2 })
  tokens.scopedA = await signIn(app, {
    account: 'test',
    user: 'scoped',
    password: PASSWORD,
    projectId: A,
  })
  tokens.scopedA2 = await signIn(app, {
    account: 'test',
    user: 'scoped',
    password: PASSWORD,
    projectId: A2,
  })
  tokens.adminA2 = await signIn(app, {
    account: 'test',
    user: 'ctsadministrator',
    password: PASSWORD,
    projectId: A2,
  })
  // Another account with its own administrator.
  const account = await admin.createAccount({ name: 'other' })
  const project = await admin.createProject({ account: 'other', name: 'eu-other' })
  await admin.createUser({ account: 'other', name: 'boss', password: PASSWORD })
  await admin.grant({ account: 'other', user: 'boss', policy: 'CTS Administrator' })
  const key = await admin.createAccessKey({ account: 'other', user: 'boss' })
  const token = await signIn(app, {
    account: 'other',
    user: 'boss',
    password: PASSWORD,
    projectId: project.id,
  })
  return {
    ...testApp,
    routes: await routesOf(app),
    tokens,
    other: {
      accountId: account.id,
      projectId: project.id,
      token,
      ak: key.accessKeyId,
      sk: key.secretKey,
    },
  }
}

describe('every route requires its credential and action', () => {
  it('names every route of /openapi.json in the table of this test', async (t) => {
    const { routes } = await world(t)
    const unknown = routes
      .map((r) => r.key)
      .filter((k) => !(k in ROUTE_ACTIONS) && !PUBLIC.has(k) && !AUTHENTICATED.has(k))
    assert.deepEqual(unknown, [], 'routes without an expected action')
    for (const key of [...Object.keys(ROUTE_ACTIONS), ...PUBLIC, ...AUTHENTICATED])
      assert.ok(
        routes.some((r) => r.key === key),
        `${key} is served`,
      )
  })

  it('answers 401 without credentials on every non-public route (HEAD included)', async (t) => {
    const { app, routes } = await world(t)
    let checked = 0
    for (const route of routes) {
      const url = urlOf(route, A, TEST_ACCOUNT)
      const answer = await send(app, route, url, {})
      if (PUBLIC.has(route.key)) {
        assert.notEqual(answer.status, 401, `${route.key} is public`)
        continue
      }
      assert.equal(answer.status, 401, `${route.key}`)
      assert.equal(answer.code, 'APIG.0301', `${route.key}`)
      checked++
      if (route.method === 'GET') {
        const head = await app.inject({ method: 'HEAD', url })
        assert.equal(head.statusCode, 401, `HEAD ${route.key}`)
      }
    }
    assert.ok(checked >= Object.keys(ROUTE_ACTIONS).length)
  })

  it('answers 403 to a policy without the action and lets a policy with it through, on every route', async (t) => {
    const { app, routes, tokens } = await world(t)
    for (const route of routes) {
      const action = ROUTE_ACTIONS[route.key]
      if (action === undefined) continue
      for (const [policy, allows] of Object.entries(POLICIES)) {
        const answer = await send(app, route, urlOf(route, A, TEST_ACCOUNT), {
          'x-auth-token': tokens[policy] ?? '',
        })
        const label: string = `${policy} on ${route.key} (${action})`
        if (allows(action)) {
          assert.ok(
            answer.status !== 401 && answer.status !== 403,
            `${label}: got ${answer.status}`,
          )
        } else {
          assert.equal(answer.status, 403, label)
          assert.equal(answer.code, 'CTS.0013', label)
        }
      }
    }
  })

  it('keeps every project to its own credentials, on every route', async (t) => {
    const { app, routes, tokens, other } = await world(t)
    for (const route of routes) {
      if (ROUTE_ACTIONS[route.key] === undefined) continue
      const urlA = urlOf(route, A, TEST_ACCOUNT)
      const urlB = urlOf(route, other.projectId, other.accountId)
      const denied: [string, string, Record<string, string>][] = [
        [
          'token of account test on account other',
          urlB,
          { 'x-auth-token': tokens['CTS Administrator'] ?? '' },
        ],
        ['AK/SK of account test on account other', urlB, signed(route, urlB)],
        ['token of account other on account test', urlA, { 'x-auth-token': other.token }],
        [
          'AK/SK of account other on account test',
          urlA,
          signed(route, urlA, { ak: other.ak, sk: other.sk }),
        ],
        ['policy granted in project A2 only', urlA, { 'x-auth-token': tokens.scopedA ?? '' }],
        [
          'AK/SK with X-Project-Id of account other',
          urlA,
          signed(route, urlA, { projectId: other.projectId }),
        ],
      ]
      if (!route.path.includes('{domain_id}'))
        denied.push([
          'token scoped to project A2 on project A',
          urlA,
          { 'x-auth-token': tokens.adminA2 ?? '' },
        ])
      for (const [label, url, headers] of denied) {
        const answer = await send(app, route, url, headers)
        assert.equal(answer.status, 403, `${label}: ${route.key} answered ${answer.status}`)
      }
      // The same credentials in their own project pass.
      for (const [label, url, headers] of [
        ['AK/SK of account test', urlA, signed(route, urlA)],
        ['token of account other', urlB, { 'x-auth-token': other.token }],
        [
          'scoped user in A2',
          urlOf(route, A2, TEST_ACCOUNT),
          { 'x-auth-token': tokens.scopedA2 ?? '' },
        ],
      ] as const) {
        const answer = await send(app, route, url, headers)
        const forbiddenForPolicy =
          label === 'scoped user in A2' && ROUTE_ACTIONS[route.key] === 'cts:trace:report'
        if (forbiddenForPolicy) continue
        assert.ok(
          answer.status !== 401 && answer.status !== 403,
          `${label}: ${route.key} answered ${answer.status}`,
        )
      }
    }
  })
})
