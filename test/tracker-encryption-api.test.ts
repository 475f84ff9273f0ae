/**
 * Tracker encryption through the API with OpenCTS's own keys: `kms_id` must name a key of
 * `opencts keys` (KmsKeys); anything else is 400 CTS.0222, a missing id CTS.0221, a data tracker
 * CTS.0220.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { TEST_PROJECTS, buildTestApp, call } from './helpers/test-app.js'

const P = TEST_PROJECTS[0]
const url = `/v3/${P}/tracker`
const body = (kmsId?: string): Record<string, unknown> => ({
  tracker_type: 'system',
  tracker_name: 'system',
  obs_info: { bucket_name: 'secret-archive' },
  is_support_trace_files_encryption: true,
  ...(kmsId === undefined ? {} : { kms_id: kmsId }),
})

it('accepts a kms_id of opencts keys only', async (t) => {
  const { app, services } = await buildTestApp(t)
  await call(app, 'GET', `/v3/${P}/trackers`) // registers the project and its system tracker
  const key = await services.kmsKeys.create('archive-key')

  const unknown = await call(app, 'PUT', url, body('2b7c4e2a-0c0e-4c57-9d0f-6f5a8d1e4b21'))
  assert.equal(unknown.status, 400)
  assert.equal(unknown.body.error_code, 'CTS.0222')
  const byName = await call(app, 'PUT', url, body('archive-key'))
  assert.equal(byName.body.error_code, 'CTS.0222', 'trackers name keys by id, not by name')
  const missing = await call(app, 'PUT', url, body())
  assert.equal(missing.body.error_code, 'CTS.0221')

  const ok = await call(app, 'PUT', url, body(key.id))
  assert.equal(ok.status, 200, JSON.stringify(ok.body))
  assert.equal(ok.body.kms_id, key.id)
  assert.equal(ok.body.is_support_trace_files_encryption, true)
  const repeat = await call(app, 'PUT', url, { tracker_type: 'system', tracker_name: 'system' })
  assert.equal(repeat.status, 200, 'the stored key still checks out on a later update')
})
