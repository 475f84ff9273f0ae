/**
 * The tracker and notification APIs over HTTP: the spec examples (§5.3, §6.2) with their documented
 * shapes and status codes, self-audit of every change, and what disabled/deleted trackers mean.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { trackerDelivers } from '../src/model/index.js'
import { reportedTrace } from './helpers/make-trace.js'
import { TEST_ACCOUNT, TEST_NOW, buildTestApp, call } from './helpers/test-app.js'

const P = '24edf66e79d04187acb99a463e610764'

async function audits(app: Parameters<typeof call>[0], traceName: string): Promise<any[]> {
  const list = await call(
    app,
    'GET',
    `/v3/${P}/traces?service_type=CTS&trace_name=${traceName}&limit=200`,
  )
  return list.body.traces
}

describe('trackers over HTTP', () => {
  it('creates the system tracker on first use and answers the §5.3 examples', async (t) => {
    const { app } = await buildTestApp(t)
    const listed = await call(app, 'GET', `/v3/${P}/trackers`)
    assert.equal(listed.status, 200)
    assert.equal(
      listed.body.trackers.length,
      1,
      'Enable CTS: the management tracker exists on first use',
    )
    const system = listed.body.trackers[0]
    assert.equal(system.tracker_name, 'system')
    assert.equal(system.tracker_type, 'system')
    assert.equal(system.status, 'enabled')
    assert.equal(system.project_id, P)
    assert.deepEqual(system.lts, {
      is_lts_enabled: false,
      log_group_name: 'CTS',
      log_topic_name: 'system-trace',
    })
    assert.equal(system.obs_info.compress_type, 'gzip')
    assert.equal(system.obs_info.is_sort_by_service, true)
    const enabled = await audits(app, 'createTracker')
    assert.equal(enabled.length, 1)
    assert.equal(enabled[0].trace_type, 'SystemAction')

    // §5.3 management tracker example: it already exists.
    const again = await call(app, 'POST', `/v3/${P}/tracker`, {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { is_obs_created: false, bucket_name: 'test-bucket', file_prefix_name: '11' },
      is_lts_enabled: true,
      is_support_validate: true,
    })
    assert.equal(again.status, 400)
    assert.deepEqual(again.body, { error_code: 'CTS.0201', error_msg: again.body.error_msg })

    // The same configuration through PUT.
    const updated = await call(app, 'PUT', `/v3/${P}/tracker`, {
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { is_obs_created: false, bucket_name: 'test-bucket', file_prefix_name: '11' },
      is_lts_enabled: true,
      is_support_validate: true,
    })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.obs_info.bucket_name, 'test-bucket')
    assert.equal(updated.body.obs_info.file_prefix_name, '11')
    assert.equal(updated.body.lts.is_lts_enabled, true)
    assert.equal(updated.body.is_support_validate, true)

    // §5.3 data tracker example.
    const data = await call(app, 'POST', `/v3/${P}/tracker`, {
      tracker_type: 'data',
      tracker_name: 'data-tracker-1',
      agency_name: 'cts_admin_trust',
      data_bucket: { data_bucket_name: 'tracked-bucket', data_event: ['READ', 'WRITE'] },
      obs_info: {
        bucket_name: 'transfer-bucket',
        file_prefix_name: 'dt',
        is_sort_by_service: true,
        compress_type: 'gzip',
        bucket_lifecycle: 30,
      },
      is_lts_enabled: false,
      is_support_validate: false,
    })
    assert.equal(data.status, 201)
    assert.match(data.body.id, /^[0-9a-f-]{36}$/)
    assert.equal(typeof data.body.create_time, 'number')
    assert.equal(data.body.status, 'enabled')
    assert.deepEqual(data.body.data_bucket.data_event, ['READ', 'WRITE'])
    const byName = await call(app, 'GET', `/v3/${P}/trackers?tracker_name=data-tracker-1`)
    assert.equal(byName.body.trackers.length, 1)
    const none = await call(app, 'GET', `/v3/${P}/trackers?tracker_name=nope`)
    assert.deepEqual(none.body, { trackers: [] })
  })

  it('answers the checklist error codes of §18', async (t) => {
    const { app } = await buildTestApp(t)
    const post = async (body: unknown): Promise<string> =>
      (await call(app, 'POST', `/v3/${P}/tracker`, body)).body.error_code
    assert.equal(await post([]), 'CTS.0003')
    assert.equal(await post({ tracker_type: 'mgmt', tracker_name: 'x' }), 'CTS.0202')
    assert.equal(await post({ tracker_type: 'system', tracker_name: 'other' }), 'CTS.0204')
    assert.equal(await post({ tracker_type: 'data', tracker_name: '-bad' }), 'CTS.0203')
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'system',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
      }),
      'CTS.0207',
    )
    assert.equal(await post({ tracker_type: 'data', tracker_name: 'd1' }), 'CTS.0210')
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['DELETE'] },
      }),
      'CTS.0225',
    )
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
        obs_info: { bucket_name: 'Bad_Bucket' },
      }),
      'CTS.0231',
    )
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
        obs_info: { bucket_name: 'bkt1' },
      }),
      'CTS.0213',
    )
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
        obs_info: { bucket_name: 'good-bucket', file_prefix_name: 'a b' },
      }),
      'CTS.0218',
    )
    const ok = await call(app, 'POST', `/v3/${P}/tracker`, {
      tracker_type: 'data',
      tracker_name: 'd1',
      data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
    })
    assert.equal(ok.status, 201)
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt2', data_event: ['READ'] },
      }),
      'CTS.0208',
    )
    assert.equal(
      await post({
        tracker_type: 'data',
        tracker_name: 'd2',
        data_bucket: { data_bucket_name: 'bkt1', data_event: ['READ'] },
      }),
      'CTS.0209',
    )
    const put = async (body: unknown): Promise<[number, string]> => {
      const r = await call(app, 'PUT', `/v3/${P}/tracker`, body)
      return [r.status, r.body.error_code]
    }
    assert.deepEqual(
      await put({
        tracker_type: 'data',
        tracker_name: 'd9',
        data_bucket: { data_bucket_name: 'bkt1' },
      }),
      [404, 'CTS.0214'],
    )
    assert.deepEqual(
      await put({
        tracker_type: 'data',
        tracker_name: 'd1',
        status: 'paused',
        data_bucket: { data_bucket_name: 'bkt1' },
      }),
      [400, 'CTS.0205'],
    )
    assert.deepEqual(
      await put({
        tracker_type: 'data',
        tracker_name: 'd1',
        data_bucket: { data_bucket_name: 'bkt2' },
      }),
      [400, 'CTS.0212'],
    )
    assert.deepEqual(
      await put({
        tracker_type: 'system',
        tracker_name: 'system',
        is_support_trace_files_encryption: true,
      }),
      [400, 'CTS.0221'],
    )
    assert.deepEqual(
      await put({
        tracker_type: 'system',
        tracker_name: 'system',
        is_support_trace_files_encryption: true,
        kms_id: 'k1',
      }),
      [400, 'CTS.0222'],
    )
    const del = await call(app, 'DELETE', `/v3/${P}/trackers?tracker_name=ghost`)
    assert.deepEqual([del.status, del.body.error_code], [404, 'CTS.0214'])
  })

  it('self-audits every change, failed ones included, with caller IP, request, response and code', async (t) => {
    const { app } = await buildTestApp(t)
    const body = {
      tracker_type: 'data',
      tracker_name: 'audit-me',
      data_bucket: { data_bucket_name: 'bkt1', data_event: ['WRITE'] },
    }
    const created = await call(app, 'POST', `/v3/${P}/tracker`, body)
    await call(app, 'POST', `/v3/${P}/tracker`, body)
    await call(app, 'PUT', `/v3/${P}/tracker`, { ...body, status: 'disabled' })
    const deleted = await call(
      app,
      'DELETE',
      `/v3/${P}/trackers?tracker_name=audit-me&tracker_type=data`,
    )
    assert.equal(deleted.status, 204)
    assert.equal(deleted.body, undefined)
    const creates = (await audits(app, 'createTracker')).filter(
      (tr) => tr.resource_name === 'audit-me',
    )
    assert.equal(creates.length, 2)
    const [failed, success] = creates
    assert.equal(success.code, '201')
    assert.equal(success.trace_rating, 'normal')
    assert.equal(success.resource_id, created.body.id)
    assert.equal(success.source_ip, '127.0.0.1')
    assert.deepEqual(JSON.parse(success.request), body)
    assert.equal(JSON.parse(success.response).id, created.body.id)
    assert.equal(success.resource_type, 'tracker')
    assert.equal(failed.code, '400')
    assert.equal(failed.trace_rating, 'warning')
    assert.equal(JSON.parse(failed.response).error_code, 'CTS.0208')
    const updates = await audits(app, 'updateTracker')
    assert.equal(updates.length, 1)
    const deletes = await audits(app, 'deleteTracker')
    assert.equal(deletes.length, 1)
    assert.equal(deletes[0].code, '204')
  })

  it('keeps recording while the system tracker is disabled or deleted; delivery stops', async (t) => {
    const { app, services } = await buildTestApp(t)
    const disabled = await call(app, 'PUT', `/v3/${P}/tracker`, {
      tracker_type: 'system',
      tracker_name: 'system',
      status: 'disabled',
    })
    assert.equal(disabled.body.status, 'disabled')
    assert.equal(
      trackerDelivers(disabled.body),
      false,
      'a disabled tracker transfers and notifies nothing',
    )
    const whileDisabled = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ time: TEST_NOW - 20 })],
    })
    assert.equal(whileDisabled.status, 201)
    const deleted = await call(
      app,
      'DELETE',
      `/v3/${P}/trackers?tracker_name=system&tracker_type=system`,
    )
    assert.equal(deleted.status, 204)
    assert.deepEqual((await call(app, 'GET', `/v3/${P}/trackers`)).body.trackers, [])
    const trackers = await services.store.config.listTrackers(P)
    assert.equal(
      trackerDelivers(trackers.find((tr) => tr.tracker_name === 'system')),
      false,
      'a deleted tracker delivers nothing',
    )
    const whileDeleted = await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [reportedTrace({ time: TEST_NOW - 10 })],
    })
    assert.equal(whileDeleted.status, 201)
    const list = await call(app, 'GET', `/v3/${P}/traces?service_type=IMS`)
    assert.equal(list.body.traces.length, 2, 'both traces are in the 7-day list')
    // Deleting `system` is respected: it does not come back by itself.
    assert.deepEqual((await call(app, 'GET', `/v3/${P}/trackers`)).body.trackers, [])
    const reenabled = await call(app, 'POST', `/v3/${P}/tracker`, {
      tracker_type: 'system',
      tracker_name: 'system',
    })
    assert.equal(reenabled.status, 201)
    assert.equal(trackerDelivers(reenabled.body), true)
  })

  it('serves the legacy v1.0 tracker API', async (t) => {
    const { app } = await buildTestApp(t)
    const flat = await call(app, 'GET', `/v1.0/${P}/tracker?tracker_name=system`)
    assert.equal(flat.status, 200)
    assert.equal(flat.body.tracker_name, 'system')
    const all = await call(app, 'GET', `/v1.0/${P}/tracker`)
    assert.ok(Array.isArray(all.body))
    const put = await call(app, 'PUT', `/v1.0/${P}/tracker/system`, {
      bucket_name: 'legacy-bucket',
      file_prefix_name: 'lg',
      status: 'enabled',
    })
    assert.equal(put.status, 200)
    assert.equal(put.body.bucket_name, 'legacy-bucket')
    const del = await call(app, 'DELETE', `/v1.0/${P}/tracker?tracker_name=system`)
    assert.equal(del.status, 204)
    const created = await call(app, 'POST', `/v1.0/${P}/tracker`, { bucket_name: 'legacy-bucket' })
    assert.equal(created.status, 201)
  })
})

describe('notifications over HTTP', () => {
  const example = {
    notification_name: 'test',
    operation_type: 'customized',
    filter: {
      is_support_filter: true,
      condition: 'OR',
      rule: [
        'code != 200',
        'api_version = v1.0',
        'trace_rating = normal',
        'trace_type != ApiCall',
        'resource_id = xxx',
        'resource_name = xxx',
      ],
    },
    operations: [
      {
        service_type: 'CTS',
        resource_type: 'tracker',
        trace_names: ['createTracker', 'deleteTracker'],
      },
      {
        service_type: 'AOM',
        resource_type: 'pe',
        trace_names: ['deletePolicyGroup', 'updatePolicyGroup', 'createPolicyGroup'],
      },
    ],
    notify_user_list: [{ user_group: 'admin', user_list: ['test1', 'test2'] }],
    topic_id: `urn:smn:local-1:${P}:test`,
  }

  it('answers the §6.2 example and supports update, list and batch delete', async (t) => {
    const { app } = await buildTestApp(t)
    const created = await call(app, 'POST', `/v3/${P}/notifications`, example)
    assert.equal(created.status, 201)
    const n = created.body
    assert.match(n.notification_id, /^[0-9a-f-]{36}$/)
    assert.equal(n.notification_type, 'smn')
    assert.equal(n.status, 'enabled')
    assert.equal(n.project_id, P)
    assert.equal(typeof n.create_time, 'number')
    assert.deepEqual(n.filter, example.filter)
    assert.deepEqual(n.operations, example.operations)
    const dup = await call(app, 'POST', `/v3/${P}/notifications`, example)
    assert.deepEqual([dup.status, dup.body.error_code], [400, 'CTS.0400'])
    const complete = await call(app, 'POST', `/v3/${P}/notifications`, {
      notification_name: 'all_ops',
      operation_type: 'complete',
    })
    assert.equal(complete.status, 201)
    assert.equal(complete.body.status, 'disabled', 'without a topic a notification is disabled')
    const updated = await call(app, 'PUT', `/v3/${P}/notifications`, {
      ...example,
      notification_id: n.notification_id,
      status: 'disabled',
    })
    assert.equal(updated.status, 200)
    assert.equal(updated.body.status, 'disabled')
    const enableWithoutTopic = await call(app, 'PUT', `/v3/${P}/notifications`, {
      notification_id: complete.body.notification_id,
      notification_name: 'all_ops',
      operation_type: 'complete',
      status: 'enabled',
    })
    assert.equal(enableWithoutTopic.status, 400)
    const list = await call(app, 'GET', `/v3/${P}/notifications/smn`)
    assert.deepEqual(
      list.body.notifications.map((x: { notification_name: string }) => x.notification_name),
      ['all_ops', 'test'],
    )
    const one = await call(app, 'GET', `/v3/${P}/notifications/smn?notification_name=test`)
    assert.equal(one.body.notifications.length, 1)
    const fun = await call(app, 'GET', `/v3/${P}/notifications/fun`)
    assert.deepEqual(fun.body, { notifications: [] })
    const del = await call(
      app,
      'DELETE',
      `/v3/${P}/notifications?notification_id=${n.notification_id},${complete.body.notification_id}`,
    )
    assert.equal(del.status, 204)
    assert.deepEqual((await call(app, 'GET', `/v3/${P}/notifications/smn`)).body, {
      notifications: [],
    })
    const gone = await call(
      app,
      'DELETE',
      `/v3/${P}/notifications?notification_id=${n.notification_id}`,
    )
    assert.deepEqual([gone.status, gone.body.error_code], [404, 'CTS.0401'])
    assert.equal((await audits(app, 'createNotification')).length, 3, 'two created, one refused')
    assert.equal((await audits(app, 'updateNotification')).length, 2)
    assert.equal((await audits(app, 'deleteNotification')).length, 3, 'two deleted, one not found')
  })

  it('enforces name rules, the rule grammar, user limits and the quota of 100', async (t) => {
    const { app } = await buildTestApp(t)
    const post = async (body: unknown): Promise<string> =>
      (await call(app, 'POST', `/v3/${P}/notifications`, body)).body.error_code
    assert.equal(await post({ ...example, notification_name: 'bad name!' }), 'CTS.0403')
    assert.equal(
      await post({ ...example, filter: { ...example.filter, rule: ['status == ok'] } }),
      'CTS.0403',
    )
    assert.equal(
      await post({ ...example, filter: { ...example.filter, rule: ['trace_rating = fatal'] } }),
      'CTS.0403',
    )
    const users = Array.from({ length: 11 }, (_, i) => ({ user_group: `g${i}`, user_list: ['u'] }))
    assert.equal(await post({ ...example, notify_user_list: users }), 'CTS.0403')
    assert.equal(await post({ ...example, topic_id: 'arn:aws:sns:x' }), 'CTS.0403')
    for (let i = 0; i < 100; i++) {
      const r = await call(app, 'POST', `/v3/${P}/notifications`, {
        notification_name: `n_${i}`,
        operation_type: 'complete',
      })
      assert.equal(r.status, 201)
    }
    assert.equal(await post({ notification_name: 'n_100', operation_type: 'complete' }), 'CTS.0402')
    const quotas = await call(app, 'GET', `/v3/${P}/quotas`)
    assert.deepEqual(
      quotas.body.resources.find((r: { type: string }) => r.type === 'smn_notification'),
      { type: 'smn_notification', used: 100, quota: 100 },
    )
  })
})

describe('other v3 APIs', () => {
  it('answers quotas, operations, user-resources, resources and tags', async (t) => {
    const { app } = await buildTestApp(t)
    await call(app, 'POST', `/v3/${P}/traces`, {
      traces: [
        reportedTrace({ time: TEST_NOW - 10, user: { name: 'alice' } }),
        reportedTrace({
          time: TEST_NOW - 10,
          user: { name: 'bob' },
          service_type: 'ECS',
          resource_type: 'ecs',
          trace_name: 'rebootServer',
        }),
      ],
    })
    const quotas = await call(app, 'GET', `/v3/${P}/quotas`)
    assert.deepEqual(quotas.body.resources, [
      { type: 'system_tracker', used: 1, quota: 1 },
      { type: 'data_tracker', used: 0, quota: 100 },
      { type: 'smn_notification', used: 0, quota: 100 },
    ])
    const ims = await call(app, 'GET', `/v3/${P}/operations?service_type=IMS&resource_type=image`)
    assert.deepEqual(ims.body.operations[0].operation_list, [
      'addMember',
      'addTag',
      'copyImage',
      'createImage',
      'deleteImage',
      'deleteMember',
      'deleteTag',
      'exportImage',
      'updateImage',
      'updateMember',
    ])
    const ecs = await call(app, 'GET', `/v3/${P}/operations?service_type=ECS&resource_type=ecs`)
    assert.ok(
      ecs.body.operations[0].operation_list.includes('rebootServer'),
      'observed operations are listed too',
    )
    const bad = await call(app, 'GET', `/v3/${P}/operations?resource_type=image`)
    assert.equal(bad.status, 400)
    const users = await call(app, 'GET', `/v3/${P}/user-resources`)
    // admin operated too: its sign-in is an IAM login trace of the project.
    assert.deepEqual(users.body, { users: [{ name: 'admin' }, { name: 'alice' }, { name: 'bob' }] })
    const resources = await call(app, 'GET', `/v3/${TEST_ACCOUNT}/resources`)
    assert.deepEqual(
      resources.body.resources.find((r: { service_type: string }) => r.service_type === 'ECS'),
      { service_type: 'ECS', resource: ['ecs'] },
    )
    const tracker = (await call(app, 'GET', `/v3/${P}/trackers`)).body.trackers[0]
    const tagged = await call(app, 'POST', `/v3/${P}/cts-tracker/${tracker.id}/tags/create`, {
      tags: [{ key: 'env', value: 'prod' }],
    })
    assert.equal(tagged.status, 200)
    const tags = await call(app, 'GET', `/v3/${P}/cts-tracker/${tracker.id}/tags`)
    assert.deepEqual(tags.body.tags, [{ key: 'env', value: 'prod' }])
    const wrongType = await call(app, 'GET', `/v3/${P}/ecs/${tracker.id}/tags`)
    assert.equal(wrongType.status, 400)
    const untag = await call(app, 'DELETE', `/v3/${P}/cts-tracker/${tracker.id}/tags/delete`, {
      tags: [{ key: 'env' }],
    })
    assert.equal(untag.status, 204)
  })
})
