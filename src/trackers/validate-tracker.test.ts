import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { codeOf } from '../../test/helpers/service-harness.js'
import { isOpenCtsError } from '../errors/index.js'
import type { DataEvent, Tracker } from '../model/index.js'
import { newTracker } from './new-tracker.js'
import {
  validateCreateTracker,
  validateUpdateTracker,
  type TrackerValidationContext,
} from './validate-tracker.js'

function messageOf(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    if (isOpenCtsError(error)) return error.message
    throw error
  }
  return 'no error'
}

let counter = 0
function tracker(
  name: string,
  options: { bucket?: string; events?: DataEvent[]; transfer?: string } = {},
): Tracker {
  const type = name === 'system' ? 'system' : 'data'
  const t = newTracker({
    id: `id-${name}-${++counter}`,
    now: 1,
    projectId: 'p1',
    domainId: 'd1',
    type,
    name,
  })
  if (options.bucket !== undefined) {
    t.data_bucket = { data_bucket_name: options.bucket, data_event: options.events ?? ['READ'] }
  }
  if (options.transfer !== undefined) t.obs_info.bucket_name = options.transfer
  return t
}

const SYSTEM = tracker('system')
const WATCHER = tracker('watcher', { bucket: 'tracked', events: ['READ'], transfer: 'archive' })

function ctx(existing: Tracker[], kmsKeys: string[] = []): TrackerValidationContext {
  return { existing, kmsKeyExists: (id) => kmsKeys.includes(id) }
}

const dataBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  tracker_type: 'data',
  tracker_name: 'dt1',
  data_bucket: { data_bucket_name: 'my-data', data_event: ['READ', 'WRITE'] },
  obs_info: { bucket_name: 'transfer-bucket', file_prefix_name: 'dt' },
  ...overrides,
})

const systemBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  tracker_type: 'system',
  tracker_name: 'system',
  ...overrides,
})

interface Case {
  readonly desc: string
  readonly body: unknown
  readonly existing?: Tracker[]
  readonly kmsKeys?: string[]
  readonly want: string
}

describe('validateCreateTracker', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => tracker(`d${i}`))
  const cases: Case[] = [
    { desc: 'body-null', body: null, want: 'CTS.0003' },
    { desc: 'body-array', body: [], want: 'CTS.0003' },
    { desc: 'body-string', body: 'tracker', want: 'CTS.0003' },
    { desc: 'lts-flag-string', body: systemBody({ is_lts_enabled: 'yes' }), want: 'CTS.0003' },
    { desc: 'obs-info-number', body: systemBody({ obs_info: 5 }), want: 'CTS.0003' },
    { desc: 'tracker-type-number', body: { tracker_type: 1 }, want: 'CTS.0003' },
    {
      desc: 'lifecycle-not-allowed',
      body: dataBody({ obs_info: { bucket_name: 'b-1', bucket_lifecycle: 7 } }),
      want: 'CTS.0003',
    },
    {
      desc: 'compress-type-unknown',
      body: systemBody({ obs_info: { compress_type: 'zip' } }),
      want: 'CTS.0003',
    },
    {
      desc: 'exclude-service-not-kms',
      body: systemBody({ management_event_selector: { exclude_service: ['ECS'] } }),
      want: 'CTS.0003',
    },
    { desc: 'agency-unknown', body: systemBody({ agency_name: 'other' }), want: 'CTS.0003' },
    {
      desc: 'data-event-not-strings',
      body: dataBody({ data_bucket: { data_bucket_name: 'my-data', data_event: [1] } }),
      want: 'CTS.0003',
    },
    { desc: 'type-missing', body: { tracker_name: 'system' }, want: 'CTS.0202' },
    { desc: 'type-unknown', body: systemBody({ tracker_type: 'org' }), want: 'CTS.0202' },
    { desc: 'system-name-other', body: systemBody({ tracker_name: 'main' }), want: 'CTS.0204' },
    { desc: 'system-name-missing', body: { tracker_type: 'system' }, want: 'CTS.0204' },
    { desc: 'system-exists', body: systemBody(), existing: [SYSTEM], want: 'CTS.0201' },
    {
      desc: 'system-data-bucket',
      body: systemBody({ data_bucket: { data_bucket_name: 'x12' } }),
      want: 'CTS.0206',
    },
    {
      desc: 'system-organization',
      body: systemBody({ is_organization_tracker: true }),
      want: 'CTS.0228',
    },
    { desc: 'data-name-leading-dash', body: dataBody({ tracker_name: '-x' }), want: 'CTS.0203' },
    {
      desc: 'data-name-33-chars',
      body: dataBody({ tracker_name: 'a'.repeat(33) }),
      want: 'CTS.0203',
    },
    { desc: 'data-name-missing', body: dataBody({ tracker_name: undefined }), want: 'CTS.0203' },
    { desc: 'data-name-system', body: dataBody({ tracker_name: 'system' }), want: 'CTS.0207' },
    {
      desc: 'data-name-system-trace',
      body: dataBody({ tracker_name: 'system-trace' }),
      want: 'CTS.0207',
    },
    {
      desc: 'data-name-taken',
      body: dataBody({ tracker_name: 'watcher' }),
      existing: [WATCHER],
      want: 'CTS.0208',
    },
    { desc: 'data-quota', body: dataBody(), existing: hundred, want: 'CTS.0200' },
    { desc: 'data-bucket-missing', body: dataBody({ data_bucket: undefined }), want: 'CTS.0210' },
    {
      desc: 'data-bucket-name-empty',
      body: dataBody({ data_bucket: { data_bucket_name: '', data_event: ['READ'] } }),
      want: 'CTS.0210',
    },
    {
      desc: 'data-bucket-name-malformed',
      body: dataBody({ data_bucket: { data_bucket_name: 'Bad_Bucket', data_event: ['READ'] } }),
      want: 'CTS.0231',
    },
    {
      desc: 'data-event-missing',
      body: dataBody({ data_bucket: { data_bucket_name: 'my-data' } }),
      want: 'CTS.0219',
    },
    {
      desc: 'data-event-empty',
      body: dataBody({ data_bucket: { data_bucket_name: 'my-data', data_event: [] } }),
      want: 'CTS.0219',
    },
    {
      desc: 'data-event-delete',
      body: dataBody({ data_bucket: { data_bucket_name: 'my-data', data_event: ['DELETE'] } }),
      want: 'CTS.0225',
    },
    {
      desc: 'data-bucket-event-tracked',
      body: dataBody({
        data_bucket: { data_bucket_name: 'tracked', data_event: ['WRITE', 'READ'] },
      }),
      existing: [WATCHER],
      want: 'CTS.0209',
    },
    {
      desc: 'data-bucket-other-event-free',
      body: dataBody({ data_bucket: { data_bucket_name: 'tracked', data_event: ['WRITE'] } }),
      existing: [WATCHER],
      want: 'no error',
    },
    {
      desc: 'transfer-is-own-tracked-bucket',
      body: dataBody({ obs_info: { bucket_name: 'my-data' } }),
      want: 'CTS.0213',
    },
    {
      desc: 'transfer-is-tracked-elsewhere',
      body: dataBody({ obs_info: { bucket_name: 'tracked' } }),
      existing: [WATCHER],
      want: 'CTS.0213',
    },
    {
      desc: 'tracked-is-transfer-elsewhere',
      body: dataBody({ data_bucket: { data_bucket_name: 'archive', data_event: ['READ'] } }),
      existing: [WATCHER],
      want: 'CTS.0213',
    },
    {
      desc: 'system-transfer-is-tracked',
      body: systemBody({ obs_info: { bucket_name: 'tracked' } }),
      existing: [WATCHER],
      want: 'CTS.0213',
    },
    {
      desc: 'bucket-too-short',
      body: systemBody({ obs_info: { bucket_name: 'ab' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'bucket-ip-address',
      body: systemBody({ obs_info: { bucket_name: '192.168.1.1' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'bucket-double-dot',
      body: systemBody({ obs_info: { bucket_name: 'a..b' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'bucket-dot-dash',
      body: systemBody({ obs_info: { bucket_name: 'a.-b' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'bucket-uppercase',
      body: systemBody({ obs_info: { bucket_name: 'Abc' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'bucket-empty-is-off',
      body: systemBody({ obs_info: { bucket_name: '' } }),
      want: 'no error',
    },
    {
      desc: 'file-prefix-slash',
      body: systemBody({ obs_info: { bucket_name: 'b-1', file_prefix_name: 'a/b' } }),
      want: 'CTS.0218',
    },
    {
      desc: 'file-prefix-65-chars',
      body: systemBody({ obs_info: { file_prefix_name: 'p'.repeat(65) } }),
      want: 'CTS.0218',
    },
    {
      desc: 'encryption-on-data-tracker',
      body: dataBody({ is_support_trace_files_encryption: true, kms_id: 'k1' }),
      kmsKeys: ['k1'],
      want: 'CTS.0220',
    },
    {
      desc: 'encryption-without-kms-id',
      body: systemBody({ is_support_trace_files_encryption: true }),
      want: 'CTS.0221',
    },
    {
      desc: 'encryption-empty-kms-id',
      body: systemBody({ is_support_trace_files_encryption: true, kms_id: '' }),
      want: 'CTS.0221',
    },
    {
      desc: 'encryption-unknown-key',
      body: systemBody({ is_support_trace_files_encryption: true, kms_id: 'k2' }),
      kmsKeys: ['k1'],
      want: 'CTS.0222',
    },
    {
      desc: 'encryption-known-key',
      body: systemBody({ is_support_trace_files_encryption: true, kms_id: 'k1' }),
      kmsKeys: ['k1'],
      want: 'no error',
    },
    {
      desc: 'order-name-before-bucket',
      body: dataBody({ tracker_name: '_x', data_bucket: {} }),
      want: 'CTS.0203',
    },
    {
      desc: 'order-quota-before-bucket',
      body: dataBody({ data_bucket: undefined }),
      existing: hundred,
      want: 'CTS.0200',
    },
    {
      desc: 'null-fields-are-absent',
      body: systemBody({ obs_info: null, kms_id: null }),
      want: 'no error',
    },
    { desc: 'unknown-fields-ignored', body: systemBody({ color: 'blue' }), want: 'no error' },
    { desc: 'valid-data', body: dataBody(), existing: [SYSTEM, WATCHER], want: 'no error' },
  ]
  for (const c of cases) {
    it(c.desc, () => {
      const context = ctx(c.existing ?? [], c.kmsKeys)
      assert.equal(
        codeOf(() => validateCreateTracker(c.body, context)),
        c.want,
      )
    })
  }

  it('names the field of a wrong JSON type', () => {
    const message = messageOf(() =>
      validateCreateTracker(systemBody({ is_lts_enabled: 'yes' }), ctx([])),
    )
    assert.match(message, /is_lts_enabled must be a boolean, got string "yes"/)
    const nested = messageOf(() => validateCreateTracker(systemBody({ obs_info: 5 }), ctx([])))
    assert.match(nested, /obs_info must be an object, got number 5/)
  })

  it('returns the narrowed request with de-duplicated events in READ, WRITE order', () => {
    const valid = validateCreateTracker(
      dataBody({
        data_bucket: { data_bucket_name: 'my-data', data_event: ['WRITE', 'READ', 'WRITE'] },
      }),
      ctx([]),
    )
    assert.equal(valid.type, 'data')
    assert.equal(valid.name, 'dt1')
    assert.deepEqual(valid.dataEvents, ['READ', 'WRITE'])
  })
})

describe('validateUpdateTracker', () => {
  const encrypted = tracker('system')
  encrypted.is_support_trace_files_encryption = true
  encrypted.kms_id = 'k1'
  const other = tracker('other', { bucket: 'shared', events: ['WRITE'] })
  const mine = tracker('mine', { bucket: 'shared', events: ['READ'] })
  const existing = [SYSTEM, WATCHER, other, mine]
  const cases: Case[] = [
    { desc: 'body-null', body: null, want: 'CTS.0003' },
    { desc: 'status-number', body: systemBody({ status: 1 }), want: 'CTS.0003' },
    { desc: 'type-missing', body: { tracker_name: 'system' }, want: 'CTS.0202' },
    { desc: 'system-name-other', body: systemBody({ tracker_name: 'x' }), want: 'CTS.0204' },
    {
      desc: 'data-name-format',
      body: { tracker_type: 'data', tracker_name: '_x' },
      want: 'CTS.0203',
    },
    {
      desc: 'data-name-system',
      body: { tracker_type: 'data', tracker_name: 'system' },
      want: 'CTS.0207',
    },
    { desc: 'not-found', body: { tracker_type: 'data', tracker_name: 'nobody' }, want: 'CTS.0214' },
    { desc: 'system-missing', body: systemBody(), existing: [WATCHER], want: 'CTS.0214' },
    {
      desc: 'system-data-bucket',
      body: systemBody({ data_bucket: { data_bucket_name: 'x12' } }),
      want: 'CTS.0206',
    },
    { desc: 'status-unknown', body: systemBody({ status: 'error' }), want: 'CTS.0205' },
    { desc: 'status-disabled', body: systemBody({ status: 'disabled' }), want: 'no error' },
    {
      desc: 'data-bucket-empty',
      body: { tracker_type: 'data', tracker_name: 'mine', data_bucket: { data_bucket_name: '' } },
      want: 'CTS.0210',
    },
    {
      desc: 'data-bucket-changed',
      body: {
        tracker_type: 'data',
        tracker_name: 'mine',
        data_bucket: { data_bucket_name: 'new-one' },
      },
      want: 'CTS.0212',
    },
    {
      desc: 'data-bucket-repeated',
      body: {
        tracker_type: 'data',
        tracker_name: 'mine',
        status: 'disabled',
        data_bucket: { data_bucket_name: 'shared', data_event: ['READ'] },
      },
      want: 'no error',
    },
    {
      desc: 'data-event-empty',
      body: { tracker_type: 'data', tracker_name: 'mine', data_bucket: { data_event: [] } },
      want: 'CTS.0219',
    },
    {
      desc: 'data-event-invalid',
      body: { tracker_type: 'data', tracker_name: 'mine', data_bucket: { data_event: ['LIST'] } },
      want: 'CTS.0225',
    },
    {
      desc: 'data-event-taken-by-other',
      body: {
        tracker_type: 'data',
        tracker_name: 'mine',
        data_bucket: { data_event: ['READ', 'WRITE'] },
      },
      want: 'CTS.0209',
    },
    {
      desc: 'bucket-name',
      body: systemBody({ obs_info: { bucket_name: '-bad' } }),
      want: 'CTS.0231',
    },
    {
      desc: 'file-prefix',
      body: systemBody({ obs_info: { file_prefix_name: 'a b' } }),
      want: 'CTS.0218',
    },
    {
      desc: 'transfer-to-tracked',
      body: systemBody({ obs_info: { bucket_name: 'shared' } }),
      want: 'CTS.0213',
    },
    {
      desc: 'transfer-off',
      body: systemBody({ obs_info: { bucket_name: '' }, is_lts_enabled: false }),
      want: 'no error',
    },
    {
      desc: 'encryption-data-tracker',
      body: { tracker_type: 'data', tracker_name: 'mine', is_support_trace_files_encryption: true },
      want: 'CTS.0220',
    },
    {
      desc: 'encryption-no-key',
      body: systemBody({ is_support_trace_files_encryption: true }),
      want: 'CTS.0221',
    },
    {
      desc: 'encryption-unknown-key',
      body: systemBody({ is_support_trace_files_encryption: true, kms_id: 'nope' }),
      kmsKeys: ['k1'],
      want: 'CTS.0222',
    },
    {
      desc: 'status-change-keeps-stored-key-unverified',
      body: systemBody({ status: 'disabled' }),
      existing: [encrypted],
      want: 'no error',
    },
    {
      desc: 'kms-id-change-verified-against-stored-flag',
      body: systemBody({ kms_id: 'k9' }),
      existing: [encrypted],
      kmsKeys: ['k1'],
      want: 'CTS.0222',
    },
    {
      desc: 'organization',
      body: systemBody({ is_organization_tracker: true }),
      want: 'CTS.0228',
    },
  ]
  for (const c of cases) {
    it(c.desc, () => {
      const context = ctx(c.existing ?? existing, c.kmsKeys)
      assert.equal(
        codeOf(() => validateUpdateTracker(c.body, context)),
        c.want,
      )
    })
  }

  it('finds the target tracker by type and name', () => {
    const valid = validateUpdateTracker(
      { tracker_type: 'data', tracker_name: 'mine', status: 'enabled' },
      ctx(existing),
    )
    assert.equal(valid.target.id, mine.id)
    assert.equal(valid.status, 'enabled')
  })
})
