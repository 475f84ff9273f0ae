import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import type { Caller, PublishedTrace } from '../ingest/index.js'
import type { TraceRecord, Tracker } from '../model/index.js'
import type { FakeClock } from '../platform/clock.js'
import type { Store } from '../store/index.js'
import { newTracker } from './new-tracker.js'
import { ProjectRegistry } from './project-registry.js'
import { getQuotas } from './quotas.js'
import { TrackerService, type TrackerServiceDeps } from './tracker-service.js'
import { FsObjectSink } from '../transfer/fs/index.js'
import {
  auditTrail as sharedAuditTrail,
  rejectsWith as rejects,
  serviceHarness,
} from '../../test/helpers/service-harness.js'

const P = 'p1'
const caller: Caller = {
  sourceIp: '192.0.2.7',
  user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
  requestId: 'req-1',
  userAgent: 'test',
  traceType: 'ApiCall',
}

interface Harness {
  readonly store: Store
  readonly service: TrackerService
  readonly published: PublishedTrace[]
  readonly clock: FakeClock
}

async function setup(
  t: TestContext,
  kmsKeys: string[] = [],
  buckets?: TrackerServiceDeps['buckets'],
): Promise<Harness> {
  const h = serviceHarness(t)
  const deps = {
    config: h.store.config,
    traces: h.store.traces,
    clock: h.clock,
    ids: h.ids,
    audit: h.audit,
    publisher: h.publisher,
  }
  await new ProjectRegistry(deps).ensure(P)
  h.published.length = 0
  const service = new TrackerService({
    ...deps,
    // Asynchronous, as the real key store answers.
    kmsKeyExists: (id) => Promise.resolve(kmsKeys.includes(id)),
    ...(buckets === undefined ? {} : { buckets }),
  })
  return { store: h.store, service, published: h.published, clock: h.clock }
}

const auditTrail = (store: Store): Promise<TraceRecord[]> => sharedAuditTrail(store, P)

const dataBody = (name: string, bucket = `watched-${name}`): Record<string, unknown> => ({
  tracker_type: 'data',
  tracker_name: name,
  data_bucket: { data_bucket_name: bucket, data_event: ['READ', 'WRITE'] },
  obs_info: { bucket_name: 'archive', file_prefix_name: 'dt' },
})

describe('TrackerService', () => {
  it('creates, lists, updates and deletes a data tracker, auditing each step', async (t) => {
    const { store, service, published } = await setup(t)
    const created = await service.create(P, dataBody('dt1'), caller)
    assert.equal(created.status, 201)
    const tracker = created.body as Tracker
    assert.equal(tracker.tracker_name, 'dt1')
    assert.equal(tracker.tracker_type, 'data')
    assert.equal(tracker.status, 'enabled')
    assert.equal(tracker.domain_id, 'd1')
    assert.equal(tracker.project_id, P)
    assert.deepEqual(tracker.data_bucket, {
      data_bucket_name: 'watched-dt1',
      data_event: ['READ', 'WRITE'],
    })

    const listed = await service.list(P, {})
    const names = (listed.body as { trackers: Tracker[] }).trackers.map((x) => x.tracker_name)
    assert.deepEqual(names.sort(), ['dt1', 'system'])
    const onlyData = await service.list(P, { tracker_type: 'data' })
    assert.equal((onlyData.body as { trackers: Tracker[] }).trackers.length, 1)

    const updated = await service.update(
      P,
      {
        tracker_type: 'data',
        tracker_name: 'dt1',
        status: 'disabled',
        obs_info: { bucket_name: '' },
      },
      caller,
    )
    assert.equal(updated.status, 200)
    const after = updated.body as Tracker
    assert.equal(after.status, 'disabled')
    assert.equal(after.obs_info.bucket_name, '')
    assert.equal(after.obs_info.file_prefix_name, 'dt', 'omitted fields are kept')
    assert.equal(after.id, tracker.id)

    const deleted = await service.delete(P, { tracker_name: 'dt1' }, caller)
    assert.deepEqual(deleted, { status: 204 })
    const remaining = await service.list(P, {})
    assert.deepEqual(
      (remaining.body as { trackers: Tracker[] }).trackers.map((x) => x.tracker_name),
      ['system'],
    )

    const trail = await auditTrail(store)
    const mine = trail.filter((x) => x.trace_type === 'ApiCall')
    assert.deepEqual(
      mine.map((x) => [x.trace_name, x.code, x.resource_id, x.resource_name, x.trace_rating]),
      [
        ['createTracker', '201', tracker.id, 'dt1', 'normal'],
        ['updateTracker', '200', tracker.id, 'dt1', 'normal'],
        ['deleteTracker', '204', tracker.id, 'dt1', 'normal'],
      ],
    )
    const [create] = mine
    assert.equal(create?.resource_type, 'tracker')
    assert.equal(create?.user_name, 'alice')
    assert.equal(create?.source_ip, '192.0.2.7')
    assert.deepEqual(JSON.parse(create?.request ?? 'null'), dataBody('dt1'))
    assert.equal((JSON.parse(create?.response ?? 'null') as Tracker).id, tracker.id)
    assert.deepEqual(
      published.map((x) => x.trace_name),
      ['createTracker', 'updateTracker', 'deleteTracker'],
    )
  })

  it('rejects a duplicate name with CTS.0208 and audits the failure as a warning', async (t) => {
    const { store, service, published } = await setup(t)
    await service.create(P, dataBody('dt1'), caller)
    await rejects(service.create(P, dataBody('dt1', 'another'), caller), 'CTS.0208')
    const failure = (await auditTrail(store)).at(-1)
    assert.equal(failure?.trace_name, 'createTracker')
    assert.equal(failure?.code, '400')
    assert.equal(failure?.trace_rating, 'warning')
    assert.equal(failure?.resource_name, 'dt1')
    assert.equal(
      (JSON.parse(failure?.response ?? '{}') as { error_code: string }).error_code,
      'CTS.0208',
    )
    assert.equal(published.at(-1)?.trace_id, failure?.trace_id)
  })

  it('audits a body that is not an object with CTS.0003', async (t) => {
    const { store, service } = await setup(t)
    await rejects(service.create(P, 'nonsense', caller), 'CTS.0003')
    const failure = (await auditTrail(store)).at(-1)
    assert.equal(failure?.code, '400')
    assert.equal(failure?.request, 'nonsense')
  })

  it('rejects the 101st data tracker with CTS.0200', async (t) => {
    const { store, service } = await setup(t)
    for (let i = 0; i < 100; i++) {
      const seeded = newTracker({
        id: `seed-${i}`,
        now: 1,
        projectId: P,
        domainId: '',
        type: 'data',
        name: `d${i}`,
      })
      await store.config.insertTracker(seeded, [])
    }
    await rejects(service.create(P, dataBody('one-more'), caller), 'CTS.0200')
    const quotas = await getQuotas(store.config, P)
    assert.deepEqual(quotas.body, {
      resources: [
        { type: 'system_tracker', used: 1, quota: 1 },
        { type: 'data_tracker', used: 100, quota: 100 },
        { type: 'smn_notification', used: 0, quota: 100 },
      ],
    })
  })

  it('rejects a second management tracker with CTS.0201', async (t) => {
    const { service } = await setup(t)
    await rejects(
      service.create(P, { tracker_type: 'system', tracker_name: 'system' }, caller),
      'CTS.0201',
    )
  })

  it('updates a missing tracker with 404 CTS.0214, audited with code 404', async (t) => {
    const { store, service } = await setup(t)
    await rejects(
      service.update(P, { tracker_type: 'data', tracker_name: 'ghost' }, caller),
      'CTS.0214',
    )
    const failure = (await auditTrail(store)).at(-1)
    assert.equal(failure?.trace_name, 'updateTracker')
    assert.equal(failure?.code, '404')
    assert.equal(failure?.trace_rating, 'warning')
  })

  it('records the tracker id in a failed update of an existing tracker', async (t) => {
    const { store, service } = await setup(t)
    const [system] = await store.config.listTrackers(P, { type: 'system' })
    await rejects(
      service.update(
        P,
        { tracker_type: 'system', tracker_name: 'system', status: 'paused' },
        caller,
      ),
      'CTS.0205',
    )
    const failure = (await auditTrail(store)).at(-1)
    assert.equal(failure?.resource_id, system?.id)
  })

  it('deletes every data tracker when no name is given, one trace each, and keeps system', async (t) => {
    const { store, service } = await setup(t)
    await service.create(P, dataBody('a1'), caller)
    await service.create(P, dataBody('b1'), caller)
    assert.equal((await service.delete(P, {}, caller)).status, 204)
    const left = await store.config.listTrackers(P)
    assert.deepEqual(
      left.map((x) => x.tracker_name),
      ['system'],
    )
    const deletes = (await auditTrail(store)).filter((x) => x.trace_name === 'deleteTracker')
    assert.deepEqual(deletes.map((x) => x.resource_name).sort(), ['a1', 'b1'])
    await rejects(service.delete(P, {}, caller), 'CTS.0214')
  })

  it('deletes the management tracker with tracker_name=system', async (t) => {
    const { store, service } = await setup(t)
    assert.equal((await service.delete(P, { tracker_name: 'system' }, caller)).status, 204)
    assert.deepEqual(await store.config.listTrackers(P), [])
    await rejects(service.delete(P, { tracker_type: 'bogus' }, caller), 'CTS.0202')
  })

  it('turns encryption on with a known key only', async (t) => {
    const { service } = await setup(t, ['key-1'])
    const base = {
      tracker_type: 'system',
      tracker_name: 'system',
      is_support_trace_files_encryption: true,
    }
    await rejects(service.update(P, { ...base, kms_id: 'key-2' }, caller), 'CTS.0222')
    const ok = await service.update(P, { ...base, kms_id: 'key-1' }, caller)
    assert.equal((ok.body as Tracker).kms_id, 'key-1')
  })

  it('creates the bucket for is_obs_created: CTS.0215 when it exists, CTS.0216 when it fails', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'opencts-buckets-'))
    const sink = new FsObjectSink(root)
    const { service, store } = await setup(t, [], {
      exists: (b) => sink.bucketExists(b),
      create: (b) => sink.createBucket(b),
    })
    const body = (bucket: string): Record<string, unknown> => ({
      tracker_type: 'system',
      tracker_name: 'system',
      obs_info: { bucket_name: bucket, is_obs_created: true },
    })
    assert.equal((await service.update(P, body('fresh-bucket'), caller)).status, 200)
    assert.ok(await sink.bucketExists('fresh-bucket'))
    assert.equal(
      (await service.update(P, body('fresh-bucket'), caller)).status,
      200,
      'repeating the same bucket is not a new creation',
    )
    await sink.createBucket('taken-bucket')
    await rejects(service.update(P, body('taken-bucket'), caller), 'CTS.0215')
    const [system] = await store.config.listTrackers(P, { name: 'system' })
    assert.equal(system?.obs_info.bucket_name, 'fresh-bucket', 'a refused change changes nothing')
    const { service: broken } = await setup(t, [], {
      exists: () => Promise.resolve(false),
      create: () => Promise.reject(new Error('disk full')),
    })
    await rejects(broken.update(P, body('other-bucket'), caller), 'CTS.0216')
  })

  it('serves the legacy v1.0 API on the same tracker', async (t) => {
    const { store, service } = await setup(t)
    const one = await service.getV1(P, { tracker_name: 'system' })
    assert.equal(one.status, 200)
    assert.equal((one.body as { tracker_name: string }).tracker_name, 'system')
    assert.equal((one.body as { bucket_name: string }).bucket_name, '')

    const put = await service.updateV1(
      P,
      'system',
      { bucket_name: 'archive-v1', file_prefix_name: 'old', status: 'disabled' },
      caller,
    )
    assert.equal(put.status, 200)
    assert.equal((put.body as { bucket_name: string }).bucket_name, 'archive-v1')
    assert.equal(
      (put.body as { obs_info: { bucket_lifecycle: string } }).obs_info.bucket_lifecycle,
      '0',
    )
    const [stored] = await store.config.listTrackers(P, { type: 'system' })
    assert.equal(stored?.status, 'disabled')
    assert.equal(stored?.obs_info.file_prefix_name, 'old')

    const all = await service.getV1(P, {})
    assert.ok(Array.isArray(all.body))
    await rejects(service.createV1(P, { bucket_name: 'archive-v1' }, caller), 'CTS.0201')
    assert.equal((await service.deleteV1(P, {}, caller)).status, 204)
    await rejects(service.getV1(P, { tracker_name: 'system' }), 'CTS.0214')
    const created = await service.createV1(
      P,
      { bucket_name: 'archive-v1', lts: { is_lts_enabled: true } },
      caller,
    )
    assert.equal(created.status, 201)
    assert.equal((created.body as { lts: { is_lts_enabled: boolean } }).lts.is_lts_enabled, true)

    const v1Traces = (await auditTrail(store)).filter((x) => x.api_version === 'v1.0')
    assert.deepEqual(
      v1Traces.map((x) => [x.trace_name, x.code]),
      [
        ['updateTracker', '200'],
        ['createTracker', '400'],
        ['deleteTracker', '204'],
        ['createTracker', '201'],
      ],
    )
  })
})
