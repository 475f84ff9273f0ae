/**
 * `GET /v3/{project_id}/digest-keys` end to end: the published public keys parse and match their
 * fingerprints, a rotation shows two keys with adjacent windows, `from`/`to` select the keys valid
 * in a period, a bad bound is a CTS error body, and no credential is 401.
 */
import assert from 'node:assert/strict'
import { createPublicKey } from 'node:crypto'
import { describe, it } from 'node:test'
import { publicKeyFingerprint } from '../src/integrity/digest.js'
import { TEST_NOW, TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const [P] = TEST_PROJECTS
const URL = `/v3/${P}/digest-keys`
const DAY = 86_400_000

describe('GET /v3/{project_id}/digest-keys', () => {
  it('lists the current key with its fingerprint and PEM public key', async (t) => {
    const { app, services } = await buildTestApp(t)
    await services.signingKeys.ensureCurrent()
    const { status, body } = await call(app, 'GET', URL)
    assert.equal(status, 200)
    assert.equal(body.digest_keys.length, 1)
    const [key] = body.digest_keys
    assert.deepEqual(Object.keys(key), [
      'fingerprint',
      'algorithm',
      'public_key',
      'valid_from',
      'valid_to',
    ])
    assert.equal(key.algorithm, 'SHA256withRSA')
    assert.equal(key.valid_from, TEST_NOW)
    assert.equal(key.valid_to, null)
    assert.equal(publicKeyFingerprint(createPublicKey(key.public_key)), key.fingerprint)
  })

  it('shows a rotation as two keys with adjacent windows, oldest first', async (t) => {
    const { app, services, clock } = await buildTestApp(t)
    await services.signingKeys.ensureCurrent()
    clock.advance(DAY)
    const rotated = await services.signingKeys.rotate()
    const { body } = await call(app, 'GET', URL)
    const [first, second] = body.digest_keys
    assert.equal(body.digest_keys.length, 2)
    assert.deepEqual(
      [first.valid_from, first.valid_to, second.valid_from, second.valid_to],
      [TEST_NOW, TEST_NOW + DAY, TEST_NOW + DAY, null],
    )
    assert.equal(second.fingerprint, rotated.fingerprint)
    assert.notEqual(first.fingerprint, second.fingerprint)
    for (const key of body.digest_keys)
      assert.equal(publicKeyFingerprint(key.public_key), key.fingerprint)

    const later = await call(app, 'GET', `${URL}?from=${TEST_NOW + DAY + 1000}`)
    assert.deepEqual(
      later.body.digest_keys.map((k: { fingerprint: string }) => k.fingerprint),
      [second.fingerprint],
    )
    const earlier = await call(app, 'GET', `${URL}?from=${TEST_NOW}&to=${TEST_NOW + DAY}`)
    assert.deepEqual(
      earlier.body.digest_keys.map((k: { fingerprint: string }) => k.fingerprint),
      [first.fingerprint],
    )
  })

  it('answers 400 with the CTS error body to a bad from or to', async (t) => {
    const { app, services } = await buildTestApp(t)
    await services.signingKeys.ensureCurrent()
    for (const query of ['from=yesterday', 'to=123', `from=${TEST_NOW}&to=${TEST_NOW - 1}`]) {
      const { status, body } = await call(app, 'GET', `${URL}?${query}`)
      assert.equal(status, 400, query)
      assert.equal(body.error_code, 'CTS.0300', query)
      assert.match(body.error_msg, /from|to/, query)
    }
  })

  it('answers 401 without a credential', async (t) => {
    const { app } = await buildTestApp(t)
    const { status, body } = await call(app, 'GET', URL, undefined, { auth: false })
    assert.equal(status, 401)
    assert.equal(body.error_code, 'APIG.0301')
  })
})
