/**
 * Sign-in under load (docs/auth.md): password hashing is bounded process-wide (auth/password-hash),
 * so a burst of sign-ins beyond the running and queued checks gets 503 OCTS.0504 with Retry-After
 * and a CTS body at once, and other requests keep answering while the hashes run.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { passwordSignInBody } from '../src/auth/index.js'
import { HASH_CONCURRENCY, HASH_QUEUE, hashPassword } from '../src/auth/password-hash.js'
import { ADMIN_PASSWORD, TEST_ACCOUNT, TEST_PROJECTS, buildTestApp } from './helpers/test-app.js'

it('a burst of sign-ins: the excess answers 503 OCTS.0504 with Retry-After; health answers meanwhile', async (t) => {
  const { app, services } = await buildTestApp(t)
  const store = services.store.identity
  const user = await store.findUser(TEST_ACCOUNT, 'admin')
  assert.ok(user !== undefined)
  // 4 MiB per check: slow enough that the whole burst is in flight before the first checks end.
  await store.setPassword(user.id, await hashPassword(ADMIN_PASSWORD, { log2N: 12, r: 8, p: 1 }))
  const body = JSON.stringify(
    passwordSignInBody({
      account: 'test',
      user: 'admin',
      password: ADMIN_PASSWORD,
      projectId: TEST_PROJECTS[0],
    }),
  )
  const extra = 4
  let settled = 0
  const burst = Array.from({ length: HASH_CONCURRENCY + HASH_QUEUE + extra }, () =>
    app
      .inject({
        method: 'POST',
        url: '/v3/auth/tokens',
        headers: { 'content-type': 'application/json' },
        payload: body,
      })
      .finally(() => settled++),
  )
  const health = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(health.statusCode, 200)
  assert.ok(settled < burst.length, 'health answered before the burst of sign-ins ended')
  const answers = await Promise.all(burst)
  const refused = answers.filter((a) => a.statusCode === 503)
  assert.ok(
    refused.length >= 1,
    `${refused.length} refused: ${answers.map((a) => a.statusCode).join(',')}`,
  )
  for (const answer of refused) {
    assert.equal(answer.json().error_code, 'OCTS.0504')
    assert.equal(answer.headers['retry-after'], '1')
  }
  assert.equal(answers.filter((a) => a.statusCode === 201).length, answers.length - refused.length)
})
