import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { Caller, PublishedTrace } from '../ingest/index.js'
import type { Notification, TraceRecord } from '../model/index.js'
import type { Store } from '../store/index.js'
import { NotificationService } from './notification-service.js'
import {
  auditTrail as sharedAuditTrail,
  rejectsWith as rejects,
  serviceHarness,
} from '../../test/helpers/service-harness.js'

const P = 'p1'
const SMN = 'urn:smn:eu-de:p1:alerts'
const FUN = 'urn:fss:eu-de:p1:function:default:onTrace'
const caller: Caller = {
  sourceIp: '192.0.2.8',
  user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  requestId: null,
  userAgent: null,
  traceType: 'ConsoleAction',
}

async function setup(
  t: TestContext,
): Promise<{ store: Store; service: NotificationService; published: PublishedTrace[] }> {
  const h = serviceHarness(t)
  const service = new NotificationService({
    config: h.store.config,
    traces: h.store.traces,
    clock: h.clock,
    ids: h.ids,
    audit: h.audit,
    publisher: h.publisher,
  })
  return { store: h.store, service, published: h.published }
}

const auditTrail = (store: Store): Promise<TraceRecord[]> => sharedAuditTrail(store, P)

const body = (name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  notification_name: name,
  operation_type: 'customized',
  operations: [{ service_type: 'IAM', resource_type: 'user', trace_names: ['login'] }],
  topic_id: SMN,
  ...overrides,
})

const names = (result: { body?: unknown }): string[] =>
  (result.body as { notifications: Notification[] }).notifications.map((n) => n.notification_name)

describe('NotificationService', () => {
  it('creates, lists, updates and deletes notifications, auditing each step', async (t) => {
    const { store, service, published } = await setup(t)
    const created = await service.create(P, body('logins'), caller)
    assert.equal(created.status, 201)
    const n = created.body as Notification
    assert.equal(n.status, 'enabled')
    assert.equal(n.notification_type, 'smn')
    assert.equal(n.project_id, P)
    assert.equal(n.domain_id, 'd1')
    assert.deepEqual(n.notify_user_list, [])

    const quiet = await service.create(
      P,
      body('quiet', { operation_type: 'complete', operations: [], topic_id: undefined }),
      caller,
    )
    assert.equal((quiet.body as Notification).status, 'disabled')
    const fn = await service.create(P, body('toFunction', { topic_id: FUN }), caller)
    assert.equal((fn.body as Notification).notification_type, 'fun')

    assert.deepEqual(names(await service.list(P, 'smn', {})), ['logins', 'quiet'])
    assert.deepEqual(names(await service.list(P, 'fun', {})), ['toFunction'])
    assert.deepEqual(names(await service.list(P, 'smn', { notification_name: 'quiet' })), ['quiet'])
    await rejects(service.list(P, 'sms', {}), 'CTS.0300')

    const updated = await service.update(
      P,
      {
        notification_id: n.notification_id,
        notification_name: 'logins2',
        operation_type: 'complete',
        status: 'disabled',
      },
      caller,
    )
    assert.equal(updated.status, 200)
    const after = updated.body as Notification
    assert.equal(after.notification_name, 'logins2')
    assert.equal(after.status, 'disabled')
    assert.equal('topic_id' in after, false, 'full replacement drops the topic')
    assert.deepEqual(after.operations, [])
    assert.equal(after.create_time, n.create_time)

    const deleted = await service.delete(
      P,
      {
        notification_id: [
          `${n.notification_id},${(quiet.body as Notification).notification_id}`,
          'unknown',
        ],
      },
      caller,
    )
    assert.deepEqual(deleted, { status: 204 })
    assert.deepEqual(names(await service.list(P, 'smn', {})), [])

    const trail = await auditTrail(store)
    assert.deepEqual(
      trail.map((x) => [x.trace_name, x.code, x.resource_type]),
      [
        ['createNotification', '201', 'notification'],
        ['createNotification', '201', 'notification'],
        ['createNotification', '201', 'notification'],
        ['updateNotification', '200', 'notification'],
        ['deleteNotification', '204', 'notification'],
        ['deleteNotification', '204', 'notification'],
      ],
    )
    assert.equal(trail[0]?.resource_id, n.notification_id)
    assert.equal(trail[0]?.resource_name, 'logins')
    assert.equal(trail[0]?.trace_type, 'ConsoleAction')
    assert.equal(published.length, trail.length)
  })

  it('rejects a duplicate name on create and on rename with CTS.0400, audited', async (t) => {
    const { store, service } = await setup(t)
    await service.create(P, body('a'), caller)
    const b = (await service.create(P, body('b'), caller)).body as Notification
    await rejects(service.create(P, body('a'), caller), 'CTS.0400')
    await rejects(
      service.update(
        P,
        { ...body('a'), notification_id: b.notification_id, status: 'enabled' },
        caller,
      ),
      'CTS.0400',
    )
    const failures = (await auditTrail(store)).filter((x) => x.code === '400')
    assert.deepEqual(
      failures.map((x) => [x.trace_name, x.trace_rating]),
      [
        ['createNotification', 'warning'],
        ['updateNotification', 'warning'],
      ],
    )
    assert.equal(failures[1]?.resource_id, b.notification_id)
  })

  it('answers 404 CTS.0401 for unknown ids on update and delete', async (t) => {
    const { store, service } = await setup(t)
    await rejects(
      service.update(P, { ...body('x'), notification_id: 'nope', status: 'enabled' }, caller),
      'CTS.0401',
    )
    await rejects(service.delete(P, { notification_id: 'nope' }, caller), 'CTS.0401')
    await rejects(service.delete(P, {}, caller), 'CTS.0403')
    const codes = (await auditTrail(store)).map((x) => [x.trace_name, x.code])
    assert.deepEqual(codes, [
      ['updateNotification', '404'],
      ['deleteNotification', '404'],
      ['deleteNotification', '400'],
    ])
  })

  it('enforces the quota of 100 with CTS.0402', async (t) => {
    const { service } = await setup(t)
    for (let i = 0; i < 100; i++) await service.create(P, body(`n${i}`), caller)
    await rejects(service.create(P, body('n100'), caller), 'CTS.0402')
  })
})
