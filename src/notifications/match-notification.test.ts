import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { Notification, TraceRecord } from '../model/index.js'
import { makeTrace } from '../../test/helpers/make-trace.js'
import { notificationMatches } from './match-notification.js'

const base: Notification = {
  notification_id: 'n1',
  notification_name: 'n',
  operation_type: 'complete',
  operations: [],
  notify_user_list: [],
  status: 'enabled',
  topic_id: 'urn:smn:local-1:p1:t',
  notification_type: 'smn',
  project_id: 'p1',
  create_time: 1,
}
const ops = [{ service_type: 'IMS', resource_type: 'image', trace_names: ['deleteImage'] }]
const trace = (patch: Partial<TraceRecord> = {}): TraceRecord =>
  makeTrace({ trace_name: 'deleteImage', code: '500', user_name: 'x', ...patch })
const filter = (condition: 'AND' | 'OR', ...rule: string[]) => ({
  condition,
  is_support_filter: true,
  rule,
})

const cases: [string, Partial<Notification>, Partial<TraceRecord>, boolean][] = [
  ['complete matches any operation', {}, { trace_name: 'createImage' }, true],
  ['disabled never matches', { status: 'disabled' }, {}, false],
  ['no topic never matches', { topic_id: '' }, {}, false],
  ['another project', { project_id: 'p2' }, {}, false],
  ['customized: listed operation', { operation_type: 'customized', operations: ops }, {}, true],
  [
    'customized: other trace name',
    { operation_type: 'customized', operations: ops },
    { trace_name: 'createImage' },
    false,
  ],
  [
    'customized: other resource type',
    { operation_type: 'customized', operations: ops },
    { resource_type: 'member' },
    false,
  ],
  [
    'customized: other service',
    { operation_type: 'customized', operations: ops },
    { service_type: 'ECS' },
    false,
  ],
  [
    'user list: listed operator',
    { notify_user_list: [{ user_group: 'g', user_list: ['x'] }] },
    {},
    true,
  ],
  [
    'user list: other operator',
    { notify_user_list: [{ user_group: 'g', user_list: ['x'] }] },
    { user_name: 'y', user: { name: 'y' } },
    false,
  ],
  [
    'user list: no operator',
    { notify_user_list: [{ user_group: 'g', user_list: ['x'] }] },
    { user_name: null, user: null },
    false,
  ],
  [
    'empty user lists do not limit',
    { notify_user_list: [{ user_group: 'g', user_list: [] }] },
    {},
    true,
  ],
  ['code != 200 on 500', { filter: filter('AND', 'code != 200') }, {}, true],
  ['code != 200 on 200', { filter: filter('AND', 'code != 200') }, { code: '200' }, false],
  ['code != 200 without code', { filter: filter('AND', 'code != 200') }, { code: null }, true],
  ['code = 500 without code', { filter: filter('AND', 'code = 500') }, { code: null }, false],
  [
    'AND: one rule fails',
    { filter: filter('AND', 'code != 200', 'trace_rating = incident') },
    {},
    false,
  ],
  [
    'OR: one rule holds',
    { filter: filter('OR', 'code = 200', 'resource_name = ubuntu') },
    {},
    true,
  ],
  ['OR: none holds', { filter: filter('OR', 'code = 200', 'api_version = v9') }, {}, false],
  [
    'filter switched off is ignored',
    { filter: { condition: 'AND', is_support_filter: false, rule: ['code = 200'] } },
    {},
    true,
  ],
]

it('matches notifications against traces (table)', () => {
  for (const [name, patch, tracePatch, want] of cases) {
    assert.equal(notificationMatches({ ...base, ...patch }, trace(tracePatch)), want, name)
  }
})

it("user X and code != 200: only X's failing operations", () => {
  const n: Notification = {
    ...base,
    notify_user_list: [{ user_group: 'ops', user_list: ['X'] }],
    filter: filter('AND', 'code != 200'),
  }
  const of = (user: string, code: string) =>
    notificationMatches(n, trace({ user_name: user, user: { name: user }, code }))
  assert.deepEqual(
    [of('X', '500'), of('X', '200'), of('Y', '500'), of('Y', '200')],
    [true, false, false, false],
  )
})
