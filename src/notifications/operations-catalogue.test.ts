import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CatalogueEntry } from '../store/index.js'
import { listOperations } from './operations-catalogue.js'

const observed: CatalogueEntry[] = [
  { service_type: 'IMS', resource_type: 'image', trace_name: 'createImage' },
  { service_type: 'IMS', resource_type: 'image', trace_name: 'importImage' },
  { service_type: 'RDS', resource_type: 'instance', trace_name: 'createInstance' },
]

describe('listOperations', () => {
  it('merges the static catalogue with observed operations, sorted and de-duplicated', () => {
    const { operations } = listOperations(observed, {})
    const keys = operations.map((o) => `${o.service_type}/${o.resource_type}`)
    assert.deepEqual(keys, [...keys].sort())
    assert.ok(keys.includes('RDS/instance'))
    const image = operations.find((o) => o.service_type === 'IMS' && o.resource_type === 'image')
    assert.ok(image)
    assert.equal(image.operation_list.filter((n) => n === 'createImage').length, 1)
    assert.ok(image.operation_list.includes('importImage'))
    assert.ok(image.operation_list.includes('addMember'))
    assert.deepEqual(image.operation_list, [...image.operation_list].sort())
  })

  it('lists CTS operations, the self-audit names included', () => {
    const { operations } = listOperations([], { service_type: 'CTS' })
    assert.deepEqual(
      operations.map((o) => [o.resource_type, o.operation_list]),
      [
        [
          'insight',
          [
            'ApiCallRateInsight',
            'ApiErrorRateInsight',
            'DeniedBurstInsight',
            'HighRiskOperationInsight',
          ],
        ],
        [
          'notification',
          [
            'createNotification',
            'deleteNotification',
            'updateNotification',
            'updateNotificationStatus',
          ],
        ],
        ['trace', ['exportTrace', 'getTrace']],
        ['tracker', ['createTracker', 'deleteTracker', 'updateTracker']],
      ],
    )
  })

  it('filters by service and resource type, case-insensitively', () => {
    const { operations } = listOperations(observed, { service_type: 'ims', resource_type: 'IMAGE' })
    assert.equal(operations.length, 1)
    assert.equal(operations[0]?.service_type, 'IMS')
    assert.deepEqual(listOperations(observed, { service_type: 'NOPE' }).operations, [])
    assert.deepEqual(
      listOperations(observed, { service_type: 'RDS' }).operations.map((o) => o.operation_list),
      [['createInstance']],
    )
  })

  it('rejects resource_type without service_type and repeated keys with CTS.0300', () => {
    assert.throws(() => listOperations(observed, { resource_type: 'image' }), {
      errorCode: 'CTS.0300',
    })
    assert.throws(() => listOperations(observed, { service_type: ['IMS', 'ECS'] }), {
      errorCode: 'CTS.0300',
    })
  })
})
