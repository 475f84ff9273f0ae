import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Tracker } from '../model/index.js'
import { applyTrackerRequest } from './apply-tracker-request.js'
import { toV1Tracker, v1BodyToV3 } from './legacy-tracker.js'
import { newTracker } from './new-tracker.js'
import { validateCreateTracker, validateUpdateTracker } from './validate-tracker.js'

const keys = { kmsKeyExists: (id: string) => id === 'k1' }

function system(): Tracker {
  return newTracker({
    id: 't1',
    now: 5,
    projectId: 'p1',
    domainId: 'd1',
    type: 'system',
    name: 'system',
  })
}

describe('applyTrackerRequest', () => {
  it('applies a create body on top of the defaults', () => {
    const body = {
      tracker_type: 'data',
      tracker_name: 'dt',
      data_bucket: { data_bucket_name: 'watched', data_event: ['WRITE'] },
      obs_info: { bucket_name: 'archive', compress_type: 'json', bucket_lifecycle: 30 },
      is_lts_enabled: true,
    }
    const valid = validateCreateTracker(body, { existing: [], ...keys })
    const base = newTracker({
      id: 't2',
      now: 5,
      projectId: 'p1',
      domainId: '',
      type: 'data',
      name: 'dt',
    })
    const tracker = applyTrackerRequest(base, valid)
    assert.deepEqual(tracker.data_bucket, { data_bucket_name: 'watched', data_event: ['WRITE'] })
    assert.equal(tracker.obs_info.bucket_name, 'archive')
    assert.equal(tracker.obs_info.compress_type, 'json')
    assert.equal(tracker.obs_info.bucket_lifecycle, 30)
    assert.equal(tracker.obs_info.is_sort_by_service, true, 'default kept')
    assert.equal(tracker.lts.is_lts_enabled, true)
    assert.equal(tracker.lts.log_topic_name, 'dt')
    assert.equal(tracker.status, 'enabled')
  })

  it('keeps omitted fields on update and never modifies its input', () => {
    const stored = system()
    stored.obs_info.bucket_name = 'archive'
    stored.obs_info.file_prefix_name = 'pre'
    stored.is_support_validate = true
    const before = structuredClone(stored)
    const valid = validateUpdateTracker(
      { tracker_type: 'system', tracker_name: 'system', obs_info: { file_prefix_name: 'next' } },
      { existing: [stored], ...keys },
    )
    const updated = applyTrackerRequest(stored, valid)
    assert.equal(updated.obs_info.bucket_name, 'archive')
    assert.equal(updated.obs_info.file_prefix_name, 'next')
    assert.equal(updated.is_support_validate, true)
    assert.deepEqual(stored, before)
  })

  it('turns transfer off with an empty bucket name, drops an empty kms_id, clears an error detail', () => {
    const stored = system()
    Object.assign(stored.obs_info, {
      bucket_name: 'archive',
      is_authorized_bucket: true,
      bucket_location: 'eu-de',
    })
    stored.kms_id = 'k1'
    stored.status = 'error'
    stored.detail = 'noBucket'
    const valid = validateUpdateTracker(
      {
        tracker_type: 'system',
        tracker_name: 'system',
        status: 'enabled',
        obs_info: { bucket_name: '' },
        is_support_trace_files_encryption: false,
        kms_id: '',
      },
      { existing: [stored], ...keys },
    )
    const updated = applyTrackerRequest(stored, valid)
    assert.equal(updated.obs_info.bucket_name, '')
    assert.equal(updated.obs_info.is_authorized_bucket, false)
    assert.equal(updated.obs_info.bucket_location, '')
    assert.equal('kms_id' in updated, false)
    assert.equal(updated.status, 'enabled')
    assert.equal('detail' in updated, false)
  })

  it('clears an error status when the request names the bucket; keeps disabled, and other errors', () => {
    const stored = system()
    stored.obs_info.bucket_name = 'archive'
    stored.status = 'error'
    stored.detail = 'noBucket'
    const update = (body: Record<string, unknown>, tracker = stored) =>
      applyTrackerRequest(
        tracker,
        validateUpdateTracker(
          { tracker_type: 'system', tracker_name: 'system', ...body },
          { existing: [tracker], ...keys },
        ),
      )
    const named = update({ obs_info: { bucket_name: 'archive', is_obs_created: true } })
    assert.equal(named.status, 'enabled')
    assert.equal('detail' in named, false)
    const other = update({ is_support_validate: true })
    assert.deepEqual([other.status, other.detail], ['error', 'noBucket'])
    const disabled = update(
      { obs_info: { bucket_name: 'archive' } },
      { ...stored, status: 'disabled' },
    )
    assert.equal(disabled.status, 'disabled')
  })
})

describe('legacy v1.0 tracker mapping', () => {
  it('renders the flat fields and obs_info with a string lifecycle', () => {
    const tracker = system()
    tracker.obs_info.bucket_name = 'archive'
    const v1 = toV1Tracker(tracker)
    assert.equal(v1.bucket_name, 'archive')
    assert.equal(v1.obs_info.bucket_lifecycle, '0')
    assert.equal(v1.tracker_name, 'system')
    assert.equal('detail' in v1, false)
  })

  it('maps a v1.0 body onto a v3 system tracker body', () => {
    const v3 = v1BodyToV3(
      { bucket_name: 'archive', file_prefix_name: 'p', lts: { is_lts_enabled: true }, smn: {} },
      'system',
      true,
    )
    assert.deepEqual(v3, {
      tracker_type: 'system',
      tracker_name: 'system',
      is_lts_enabled: true,
      obs_info: { bucket_name: 'archive', file_prefix_name: 'p' },
    })
  })

  it('requires bucket_name on create and checks types (CTS.0003)', () => {
    assert.throws(() => v1BodyToV3({ file_prefix_name: 'p' }, 'system', true), {
      errorCode: 'CTS.0003',
    })
    assert.throws(() => v1BodyToV3({ bucket_name: 7 }, 'system', false), {
      errorCode: 'CTS.0003',
      message: /bucket_name must be a string, got number 7/,
    })
  })
})
