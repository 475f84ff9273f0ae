import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { codeOf } from '../../test/helpers/service-harness.js'
import type { Notification } from '../model/index.js'
import { parseTopicUrn } from './topic-urn.js'
import { validateCreateNotification, validateUpdateNotification } from './validate-notification.js'

const SMN = 'urn:smn:eu-de:0123456789abcdef0123456789abcdef:alerts'
const FUN = 'urn:fss:eu-de:0123456789abcdef0123456789abcdef:function:default:onTrace:latest'

function stored(id: string, name: string): Notification {
  return {
    notification_id: id,
    notification_name: name,
    operation_type: 'complete',
    operations: [],
    notify_user_list: [],
    status: 'disabled',
    notification_type: 'smn',
    project_id: 'p1',
    create_time: 1,
  }
}

const body = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  notification_name: 'keyOps',
  operation_type: 'customized',
  operations: [
    {
      service_type: 'CTS',
      resource_type: 'tracker',
      trace_names: ['createTracker', 'deleteTracker'],
    },
  ],
  notify_user_list: [{ user_group: 'admin', user_list: ['alice', 'bob'] }],
  topic_id: SMN,
  filter: {
    condition: 'OR',
    is_support_filter: true,
    rule: ['code != 200', 'trace_rating = warning'],
  },
  ...overrides,
})

const ops = (services: number, namesEach: number): unknown[] =>
  Array.from({ length: services }, (_, s) => ({
    service_type: `S${s}`,
    resource_type: 'thing',
    trace_names: Array.from({ length: namesEach }, (_, n) => `op${n}`),
  }))

interface Case {
  readonly desc: string
  readonly body: unknown
  readonly existing?: Notification[]
  readonly want: string
}

describe('validateCreateNotification', () => {
  const full = Array.from({ length: 100 }, (_, i) => stored(`id${i}`, `n${i}`))
  const cases: Case[] = [
    { desc: 'body-null', body: null, want: 'CTS.0003' },
    { desc: 'body-array', body: [body()], want: 'CTS.0003' },
    { desc: 'name-missing', body: body({ notification_name: undefined }), want: 'CTS.0403' },
    { desc: 'name-number', body: body({ notification_name: 5 }), want: 'CTS.0403' },
    { desc: 'name-dash', body: body({ notification_name: 'key-ops' }), want: 'CTS.0403' },
    { desc: 'name-65-chars', body: body({ notification_name: 'n'.repeat(65) }), want: 'CTS.0403' },
    { desc: 'name-chinese', body: body({ notification_name: '关键操作_1' }), want: 'no error' },
    { desc: 'name-taken', body: body(), existing: [stored('x', 'keyOps')], want: 'CTS.0400' },
    { desc: 'quota', body: body(), existing: full, want: 'CTS.0402' },
    {
      desc: 'name-taken-before-quota',
      body: body({ notification_name: 'n1' }),
      existing: full,
      want: 'CTS.0400',
    },
    { desc: 'operation-type-unknown', body: body({ operation_type: 'some' }), want: 'CTS.0403' },
    { desc: 'customized-without-operations', body: body({ operations: [] }), want: 'CTS.0403' },
    {
      desc: 'customized-operations-missing',
      body: body({ operations: undefined }),
      want: 'CTS.0403',
    },
    {
      desc: 'complete-without-operations',
      body: body({ operation_type: 'complete', operations: undefined }),
      want: 'no error',
    },
    { desc: 'operations-not-array', body: body({ operations: {} }), want: 'CTS.0403' },
    {
      desc: 'operation-without-service',
      body: body({ operations: [{ resource_type: 'tracker', trace_names: ['createTracker'] }] }),
      want: 'CTS.0403',
    },
    {
      desc: 'operation-bad-resource-type',
      body: body({ operations: [{ service_type: 'CTS', resource_type: '', trace_names: ['x'] }] }),
      want: 'CTS.0403',
    },
    {
      desc: 'operation-empty-trace-names',
      body: body({
        operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: [] }],
      }),
      want: 'CTS.0403',
    },
    {
      desc: 'operation-bad-trace-name',
      body: body({
        operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['1create'] }],
      }),
      want: 'CTS.0403',
    },
    { desc: 'operations-1000-names', body: body({ operations: ops(10, 100) }), want: 'no error' },
    { desc: 'operations-1001-names', body: body({ operations: ops(1001, 1) }), want: 'CTS.0403' },
    { desc: 'operations-101-services', body: body({ operations: ops(101, 1) }), want: 'CTS.0403' },
    {
      desc: 'users-11-groups',
      body: body({
        notify_user_list: Array.from({ length: 11 }, (_, i) => ({
          user_group: `g${i}`,
          user_list: [],
        })),
      }),
      want: 'CTS.0403',
    },
    {
      desc: 'users-51',
      body: body({
        notify_user_list: [
          { user_group: 'g1', user_list: Array.from({ length: 30 }, (_, i) => `a${i}`) },
          { user_group: 'g2', user_list: Array.from({ length: 21 }, (_, i) => `b${i}`) },
        ],
      }),
      want: 'CTS.0403',
    },
    {
      desc: 'users-50',
      body: body({
        notify_user_list: [
          { user_group: 'g1', user_list: Array.from({ length: 50 }, (_, i) => `a${i}`) },
        ],
      }),
      want: 'no error',
    },
    {
      desc: 'user-group-missing',
      body: body({ notify_user_list: [{ user_list: ['a'] }] }),
      want: 'CTS.0403',
    },
    {
      desc: 'user-list-number',
      body: body({ notify_user_list: [{ user_group: 'g', user_list: [1] }] }),
      want: 'CTS.0403',
    },
    {
      desc: 'topic-not-urn',
      body: body({ topic_id: 'https://example.com/hook' }),
      want: 'CTS.0403',
    },
    {
      desc: 'topic-other-service',
      body: body({ topic_id: 'urn:sms:eu-de:p:alerts' }),
      want: 'CTS.0403',
    },
    { desc: 'topic-function', body: body({ topic_id: FUN }), want: 'no error' },
    { desc: 'topic-empty', body: body({ topic_id: '' }), want: 'no error' },
    { desc: 'filter-not-object', body: body({ filter: 'code != 200' }), want: 'CTS.0403' },
    {
      desc: 'filter-condition-xor',
      body: body({ filter: { condition: 'XOR', is_support_filter: true, rule: ['code = 200'] } }),
      want: 'CTS.0403',
    },
    {
      desc: 'filter-flag-missing',
      body: body({ filter: { condition: 'AND', rule: ['code = 200'] } }),
      want: 'CTS.0403',
    },
    {
      desc: 'filter-7-rules',
      body: body({
        filter: { condition: 'AND', is_support_filter: true, rule: Array(7).fill('code = 200') },
      }),
      want: 'CTS.0403',
    },
    {
      desc: 'filter-on-without-rules',
      body: body({ filter: { condition: 'AND', is_support_filter: true, rule: [] } }),
      want: 'CTS.0403',
    },
    {
      desc: 'filter-off-without-rules',
      body: body({ filter: { is_support_filter: false, rule: [] } }),
      want: 'no error',
    },
    {
      desc: 'filter-bad-field',
      body: body({ filter: { condition: 'AND', is_support_filter: true, rule: ['user = bob'] } }),
      want: 'CTS.0403',
    },
    {
      desc: 'filter-bad-rating',
      body: body({
        filter: { condition: 'AND', is_support_filter: true, rule: ['trace_rating = bad'] },
      }),
      want: 'CTS.0403',
    },
    { desc: 'agency-unknown', body: body({ agency_name: 'root' }), want: 'CTS.0403' },
    { desc: 'agency-cts', body: body({ agency_name: 'cts_admin_trust' }), want: 'no error' },
    { desc: 'valid', body: body(), existing: [stored('x', 'other')], want: 'no error' },
  ]
  for (const c of cases) {
    it(c.desc, () => {
      assert.equal(
        codeOf(() => validateCreateNotification(c.body, { existing: c.existing ?? [] })),
        c.want,
      )
    })
  }

  it('derives the topic type and says got/want for invalid fields', () => {
    assert.equal(
      validateCreateNotification(body({ topic_id: FUN }), { existing: [] }).topic?.type,
      'fun',
    )
    assert.equal(validateCreateNotification(body(), { existing: [] }).topic?.type, 'smn')
    assert.throws(
      () => validateCreateNotification(body({ operation_type: 'some' }), { existing: [] }),
      {
        message: /operation_type must be one of complete, customized, got "some"/,
      },
    )
    assert.throws(
      () =>
        validateCreateNotification(
          body({
            operations: [{ service_type: 'CTS', resource_type: 'tracker', trace_names: ['ok', 7] }],
          }),
          { existing: [] },
        ),
      { message: /operations\[0\]\.trace_names\[1\] must be a string, got number 7/ },
    )
  })
})

describe('validateUpdateNotification', () => {
  const existing = [stored('id-1', 'keyOps'), stored('id-2', 'other')]
  const update = (overrides: Record<string, unknown> = {}): Record<string, unknown> =>
    body({ notification_id: 'id-1', status: 'enabled', ...overrides })
  const cases: Case[] = [
    { desc: 'body-string', body: 'x', want: 'CTS.0003' },
    { desc: 'id-missing', body: update({ notification_id: undefined }), want: 'CTS.0403' },
    { desc: 'id-unknown', body: update({ notification_id: 'id-9' }), want: 'CTS.0401' },
    { desc: 'rename-to-taken', body: update({ notification_name: 'other' }), want: 'CTS.0400' },
    { desc: 'keep-own-name', body: update(), want: 'no error' },
    { desc: 'rename-free', body: update({ notification_name: 'renamed' }), want: 'no error' },
    { desc: 'status-missing', body: update({ status: undefined }), want: 'CTS.0403' },
    { desc: 'status-unknown', body: update({ status: 'on' }), want: 'CTS.0403' },
    { desc: 'enabled-without-topic', body: update({ topic_id: undefined }), want: 'CTS.0403' },
    {
      desc: 'disabled-without-topic',
      body: update({ topic_id: undefined, status: 'disabled' }),
      want: 'no error',
    },
    { desc: 'operations-invalid', body: update({ operations: [{}] }), want: 'CTS.0403' },
  ]
  for (const c of cases) {
    it(c.desc, () => {
      assert.equal(
        codeOf(() => validateUpdateNotification(c.body, { existing })),
        c.want,
      )
    })
  }
})

describe('parseTopicUrn', () => {
  it('reads SMN and FunctionGraph URNs', () => {
    assert.deepEqual(parseTopicUrn(SMN), {
      type: 'smn',
      region: 'eu-de',
      projectId: '0123456789abcdef0123456789abcdef',
      name: 'alerts',
    })
    assert.deepEqual(parseTopicUrn(FUN), {
      type: 'fun',
      region: 'eu-de',
      projectId: '0123456789abcdef0123456789abcdef',
      name: 'onTrace',
      package: 'default',
      version: 'latest',
    })
    assert.equal(parseTopicUrn('urn:fss:eu-de:p1:function:default:fn')?.version, undefined)
  })

  it('rejects other shapes', () => {
    for (const urn of [
      '',
      'urn:smn:eu-de:p1',
      'urn:smn:eu-de:p1:a:b',
      'urn:fss:eu-de:p1:fn:default:x',
      'smn:eu-de:p1:t',
    ]) {
      assert.equal(parseTopicUrn(urn), undefined, urn)
    }
  })
})
