/**
 * The token API and what surrounds it: sign-in (201, X-Subject-Token, IAM body, 24 h), the login
 * traces of successes and failures, throttling of repeated failures, expiry, revocation, and what
 * the database file holds (no token, no secret key, no password in clear).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import {
  ADMIN_PASSWORD,
  ADMIN_SK,
  TEST_ACCOUNT,
  TEST_NOW,
  TEST_PROJECTS,
  buildTestApp,
  call,
  signIn,
  signInBody,
} from './helpers/test-app.js'

const [A, A2] = TEST_PROJECTS

async function postSignIn(
  app: FastifyInstance,
  body: unknown,
  remoteAddress = '127.0.0.1',
): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  const response = await app.inject({
    method: 'POST',
    url: '/v3/auth/tokens',
    payload: body as Record<string, unknown>,
    remoteAddress,
  })
  return {
    status: response.statusCode,
    body: JSON.parse(response.body) as unknown,
    headers: response.headers,
  }
}

const admin = (password = ADMIN_PASSWORD, projectId: string = A) =>
  signInBody({ account: 'test', user: 'admin', password, projectId })

async function loginTraces(app: FastifyInstance, projectId: string): Promise<any[]> {
  const answer = await call(
    app,
    'GET',
    `/v3/${projectId}/traces?trace_type=system&service_type=IAM&trace_name=login&limit=200`,
  )
  assert.equal(answer.status, 200)
  return answer.body.traces as any[]
}

describe('POST /v3/auth/tokens', () => {
  it('issues a 24 h project-scoped token in X-Subject-Token with an IAM body', async (t) => {
    const { app } = await buildTestApp(t)
    const answer = await postSignIn(app, admin())
    assert.equal(answer.status, 201)
    const token = answer.headers['x-subject-token']
    assert.equal(typeof token, 'string')
    assert.match(token as string, /^octs1_[A-Za-z0-9_-]{43}$/)
    const body = answer.body.token
    assert.deepEqual(body.methods, ['password'])
    assert.equal(body.project.id, A)
    assert.match(body.project.id, /^[0-9a-f]{32}$/)
    assert.equal(body.user.name, 'admin')
    assert.match(body.user.id, /^[0-9a-f]{32}$/)
    assert.deepEqual(body.user.domain, { id: TEST_ACCOUNT, name: 'test' })
    assert.equal(Date.parse(body.expires_at) - Date.parse(body.issued_at), 24 * 3_600_000)
    assert.equal(Date.parse(body.issued_at), TEST_NOW)
    assert.deepEqual(body.roles, [{ id: 'CTS Administrator', name: 'CTS Administrator' }])
    assert.match(body.catalog[0].endpoints[0].url, new RegExp(`/v3/${A}$`))
    // The token works on the API and says who it is.
    const check = await app.inject({
      method: 'GET',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': token as string, 'x-subject-token': token as string },
    })
    assert.equal(check.statusCode, 200)
    assert.equal(JSON.parse(check.body).token.project.id, A)
    // The project's account is the domain of its management tracker.
    const trackers = await call(app, 'GET', `/v3/${A}/trackers`, undefined, {
      auth: token as string,
    })
    assert.equal(trackers.body.trackers[0].domain_id, TEST_ACCOUNT)
  })

  it('accepts a project by name, a user by id and a domain by id', async (t) => {
    const { app, services } = await buildTestApp(t)
    const [user] = (await services.identity.listUsers('test')).map((u) => u.user)
    const byName = await postSignIn(app, {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { id: user?.id, password: ADMIN_PASSWORD } },
        },
        scope: { project: { name: `project-${A2.slice(0, 8)}` } },
      },
    })
    assert.equal(byName.status, 201, JSON.stringify(byName.body))
    assert.equal(byName.body.token.project.id, A2)
    const byDomainId = await postSignIn(app, {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: 'admin', password: ADMIN_PASSWORD, domain: { id: TEST_ACCOUNT } },
          },
        },
        scope: { project: { id: A } },
      },
    })
    assert.equal(byDomainId.status, 201)
  })

  it('answers the same 401 for a wrong password, an unknown user, a disabled user and a foreign project', async (t) => {
    const { app, services } = await buildTestApp(t)
    await services.identity.createAccount({ name: 'other' })
    const foreign = await services.identity.createProject({ account: 'other', name: 'x' })
    await services.identity.createUser({ account: 'test', name: 'off', password: 'off-password' })
    await services.identity.setUserEnabled({ account: 'test', user: 'off', enabled: false })
    for (const body of [
      admin('wrong-password'),
      signInBody({ account: 'test', user: 'nobody', password: ADMIN_PASSWORD, projectId: A }),
      signInBody({ account: 'nope', user: 'admin', password: ADMIN_PASSWORD, projectId: A }),
      signInBody({ account: 'test', user: 'off', password: 'off-password', projectId: A }),
      admin(ADMIN_PASSWORD, foreign.id),
      admin(ADMIN_PASSWORD, 'ffffffffffffffffffffffffffffffff'),
    ]) {
      const answer = await postSignIn(app, body)
      assert.equal(answer.status, 401, JSON.stringify(body))
      assert.deepEqual(Object.keys(answer.body).sort(), ['error_code', 'error_msg'])
      assert.equal(answer.body.error_code, 'IAM.0062')
      assert.equal(answer.body.error_msg, 'Incorrect user name or password.')
      assert.equal(answer.headers['x-subject-token'], undefined)
    }
  })

  it('rejects malformed bodies with 400 CTS.0003 naming the field', async (t) => {
    const { app } = await buildTestApp(t)
    for (const [body, field] of [
      [{}, 'auth'],
      [{ auth: { identity: { methods: ['token'] }, scope: {} } }, 'methods'],
      [{ auth: { identity: { methods: ['password'], password: {} }, scope: {} } }, 'user'],
      [
        {
          auth: {
            identity: { methods: ['password'], password: { user: { name: 'a', password: 'b' } } },
            scope: { project: { id: A } },
          },
        },
        'domain',
      ],
      [
        {
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: 'a', password: 'b', domain: { name: 'test' } } },
            },
            scope: { domain: { name: 'test' } },
          },
        },
        'project',
      ],
    ] as const) {
      const answer = await postSignIn(app, body)
      assert.equal(answer.status, 400, JSON.stringify(body))
      assert.equal(answer.body.error_code, 'CTS.0003')
      assert.ok(String(answer.body.error_msg).includes(field), answer.body.error_msg)
    }
  })

  it('records each sign-in as an IAM login trace: normal on success, warning on failure, never the password', async (t) => {
    const { app } = await buildTestApp(t)
    await signIn(app, { account: 'test', user: 'admin', password: ADMIN_PASSWORD, projectId: A })
    assert.equal((await postSignIn(app, admin('bad-password-1'), '192.0.2.7')).status, 401)
    const traces = await loginTraces(app, A)
    // The helper's own sign-in for the query adds one more success.
    const failures = traces.filter((tr) => tr.code === '401')
    const successes = traces.filter((tr) => tr.code === '201')
    assert.equal(failures.length, 1)
    assert.ok(successes.length >= 1)
    const failure = failures[0]
    assert.equal(failure.trace_rating, 'warning')
    assert.equal(failure.service_type, 'IAM')
    assert.equal(failure.resource_type, 'user')
    assert.equal(failure.source_ip, '192.0.2.7')
    assert.equal(failure.user.name, 'admin')
    assert.equal(failure.user.domain.name, 'test')
    assert.ok(!JSON.stringify(traces).includes('bad-password-1'), 'the password is not recorded')
    assert.ok(!JSON.stringify(traces).includes(ADMIN_PASSWORD), 'the password is not recorded')
    assert.ok(String(failure.request).includes('******'))
    const success = successes[0]
    assert.equal(success.trace_rating, 'normal')
    assert.equal(success.resource_name, 'admin')
    assert.ok(!String(success.response).includes('octs1_'), 'the token is not recorded')
  })

  it('throttles one source after too many failures with 429 and Retry-After, and records an incident', async (t) => {
    const { app } = await buildTestApp(t, { authFailureLimit: '3', authLockoutSeconds: '60' })
    const attacker = '198.51.100.9'
    for (let i = 0; i < 3; i++)
      assert.equal((await postSignIn(app, admin(`guess-${i}-xxxx`), attacker)).status, 401)
    const blocked = await postSignIn(app, admin('guess-3-xxxx'), attacker)
    assert.equal(blocked.status, 429)
    assert.equal(blocked.body.error_code, 'APIG.0308')
    assert.equal(blocked.headers['retry-after'], '60')
    // Even the right password is refused from that source while it is blocked ...
    const right = await postSignIn(app, admin(), attacker)
    assert.equal(right.status, 429)
    // ... but another source signs in.
    assert.equal((await postSignIn(app, admin(), '203.0.113.1')).status, 201)
    const traces = await loginTraces(app, A)
    const fromAttacker = traces.filter((tr) => tr.source_ip === attacker)
    assert.deepEqual(
      fromAttacker.map((tr) => [tr.code, tr.trace_rating]).reverse(),
      [
        ['401', 'warning'],
        ['401', 'warning'],
        ['401', 'warning'],
        ['429', 'incident'],
      ],
      'blocked attempts after the incident are not recorded one by one',
    )
  })

  it('lets the block expire', async (t) => {
    const { app, clock } = await buildTestApp(t, {
      authFailureLimit: '1',
      authLockoutSeconds: '30',
    })
    const source = '198.51.100.10'
    await postSignIn(app, admin('nope-nope-1'), source)
    assert.equal((await postSignIn(app, admin('nope-nope-2'), source)).status, 429)
    clock.advance(30_001)
    assert.equal((await postSignIn(app, admin(), source)).status, 201)
  })
})

describe('tokens on the API', () => {
  it('expires after 24 hours', async (t) => {
    const { app, clock } = await buildTestApp(t)
    const token = await signIn(app, {
      account: 'test',
      user: 'admin',
      password: ADMIN_PASSWORD,
      projectId: A,
    })
    assert.equal(
      (await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })).status,
      200,
    )
    clock.advance(24 * 3_600_000 - 1)
    assert.equal(
      (await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })).status,
      200,
    )
    clock.advance(1)
    const expired = await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })
    assert.equal(expired.status, 401)
    assert.equal(expired.body.error_code, 'APIG.0301')
    assert.match(expired.body.error_msg, /token expires/)
  })

  it('revokes a token with DELETE /v3/auth/tokens, and only the caller’s own', async (t) => {
    const { app, services } = await buildTestApp(t)
    const token = await signIn(app, {
      account: 'test',
      user: 'admin',
      password: ADMIN_PASSWORD,
      projectId: A,
    })
    await services.identity.createUser({ account: 'test', name: 'eve', password: 'eve-password' })
    const eve = await signIn(app, {
      account: 'test',
      user: 'eve',
      password: 'eve-password',
      projectId: A,
    })
    const steal = await app.inject({
      method: 'DELETE',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': eve, 'x-subject-token': token },
    })
    assert.equal(steal.statusCode, 404, 'eve cannot revoke or probe the admin token')
    const peek = await app.inject({
      method: 'GET',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': eve, 'x-subject-token': token },
    })
    assert.equal(peek.statusCode, 404)
    const out = await app.inject({
      method: 'DELETE',
      url: '/v3/auth/tokens',
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    })
    assert.equal(out.statusCode, 204)
    const after = await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })
    assert.equal(after.status, 401)
  })

  it('ends sessions when the password changes, the user is disabled or deleted', async (t) => {
    const { app, services } = await buildTestApp(t)
    const ids = services.identity
    await ids.createUser({ account: 'test', name: 'bob', password: 'bob-password' })
    await ids.grant({ account: 'test', user: 'bob', policy: 'CTS ReadOnlyAccess' })
    const login = () =>
      signIn(app, { account: 'test', user: 'bob', password: 'bob-password', projectId: A })
    const works = async (token: string) =>
      (await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })).status
    let token = await login()
    assert.equal(await works(token), 200)
    await ids.setPassword({ account: 'test', user: 'bob', password: 'bob-password' })
    assert.equal(await works(token), 401)
    token = await login()
    await ids.setUserEnabled({ account: 'test', user: 'bob', enabled: false })
    assert.equal(await works(token), 401)
    await ids.setUserEnabled({ account: 'test', user: 'bob', enabled: true })
    token = await login()
    await ids.deleteUser({ account: 'test', user: 'bob' })
    assert.equal(await works(token), 401)
  })

  it('answers 401 to malformed, unknown and doubled tokens', async (t) => {
    const { app } = await buildTestApp(t)
    for (const headers of [
      { 'x-auth-token': 'garbage' },
      { 'x-auth-token': `octs1_${'A'.repeat(43)}` },
      { 'x-auth-token': '' },
      { authorization: 'Bearer something' },
      { authorization: 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=00' },
    ]) {
      const answer = await call(app, 'GET', `/v3/${A}/traces`, undefined, { auth: headers })
      assert.equal(answer.status, 401, JSON.stringify(headers))
      assert.equal(answer.body.error_code, 'APIG.0301')
    }
  })
})

describe('secrets at rest', () => {
  it('keeps no token, secret key or password in clear in the database file', async (t) => {
    const { app, dbPath, services } = await buildTestApp(t)
    const token = await signIn(app, {
      account: 'test',
      user: 'admin',
      password: ADMIN_PASSWORD,
      projectId: A,
    })
    await call(app, 'GET', `/v3/${A}/trackers`, undefined, { auth: token })
    const key = await services.identity.createAccessKey({ account: 'test', user: 'admin' })
    // Checkpoint the WAL so the file holds everything written.
    await services.store.close()
    const bytes =
      readFileSync(dbPath).toString('latin1') +
      readFileSync(`${dbPath}-wal`, { flag: 'a+' }).toString('latin1')
    for (const secret of [token, ADMIN_SK, key.secretKey, ADMIN_PASSWORD])
      assert.ok(
        !bytes.includes(secret),
        `the database file does not contain ${secret.slice(0, 6)}...`,
      )
    assert.ok(bytes.includes(key.accessKeyId), 'the access key id itself is stored')
  })
})
