/**
 * The store contract: every TraceStore/ConfigStore implementation must pass this suite.
 * Run it with `storeContract('sqlite', factory)`; a future PostgreSQL backend calls it the same way.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../src/errors/index.js'
import type { Notification, Tracker } from '../src/model/index.js'
import type { Store, TraceFilter } from '../src/store/index.js'
import { newTracker } from '../src/trackers/new-tracker.js'
import { makeTrace } from './helpers/make-trace.js'

export interface StoreFactory {
  /** A fresh, empty store. */
  open(): Promise<Store>
  /** Closes `store` and opens the same data again (omit for stores that cannot persist). */
  reopen?(store: Store): Promise<Store>
}

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

function window(projectId = 'p1'): TraceFilter {
  return { projectId, from: NOW - 3_600_000, to: NOW + 1, category: 'system' }
}

function tracker(projectId: string, name: string, type: 'system' | 'data' = 'data'): Tracker {
  return newTracker({ id: randomUUID(), now: NOW, projectId, domainId: 'd1', type, name })
}

function notification(projectId: string, name: string): Notification {
  return {
    notification_id: randomUUID(),
    notification_name: name,
    operation_type: 'complete',
    operations: [],
    notify_user_list: [],
    status: 'disabled',
    notification_type: 'smn',
    project_id: projectId,
    create_time: NOW,
  }
}

async function withStore(
  factory: StoreFactory,
  fn: (store: Store) => Promise<void>,
): Promise<void> {
  const store = await factory.open()
  try {
    await fn(store)
  } finally {
    await store.close()
  }
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`store contract: ${name}`, () => {
    it('stores a batch and returns every field unchanged', () =>
      withStore(factory, async (store) => {
        const t = makeTrace({
          time: NOW - 10,
          user: { name: 'bob', invoked_by: ['service.console'] },
          user_name: 'bob',
          code: '302',
        })
        const result = await store.traces.append([t])
        assert.deepEqual(
          { inserted: result.inserted, duplicates: result.duplicates },
          { inserted: [t.trace_id], duplicates: [] },
        )
        assert.deepEqual(await store.traces.get('p1', t.trace_id), t)
        assert.equal(
          await store.traces.get('p2', t.trace_id),
          undefined,
          'a trace is invisible from another project',
        )
      }))

    it('does not store a trace id twice, across and within batches', () =>
      withStore(factory, async (store) => {
        const a = makeTrace({ time: NOW - 10 })
        await store.traces.append([a])
        const b = makeTrace({ time: NOW - 5 })
        const result = await store.traces.append([a, b, { ...b }])
        assert.deepEqual(
          { inserted: result.inserted, duplicates: result.duplicates },
          { inserted: [b.trace_id], duplicates: [a.trace_id, b.trace_id] },
        )
        const page = await store.traces.page(window(), null, 10)
        assert.deepEqual(
          page.traces.map((t) => t.trace_id),
          [b.trace_id, a.trace_id],
        )
      }))

    it('keeps trace ids per project: the same id is stored in each, a duplicate only of its own', () =>
      withStore(factory, async (store) => {
        const a = makeTrace({ time: NOW - 10, resource_name: 'of-p1' })
        const b = { ...a, project_id: 'p2', resource_name: 'of-p2', time: NOW - 5 }
        assert.deepEqual((await store.traces.append([a])).inserted, [a.trace_id])
        const inB = await store.traces.append([b])
        assert.deepEqual(
          { inserted: inB.inserted, duplicates: inB.duplicates },
          { inserted: [b.trace_id], duplicates: [] },
          'an id stored in p1 is new in p2',
        )
        assert.deepEqual(await store.traces.get('p1', a.trace_id), a)
        assert.deepEqual(await store.traces.get('p2', b.trace_id), b)
        for (const [project, want] of [
          ['p1', a],
          ['p2', b],
        ] as const) {
          const page = await store.traces.page(window(project), null, 10)
          assert.deepEqual(page.traces, [want], `${project} sees only its own trace`)
          const next = await store.traces.page(window(project), { traceId: a.trace_id }, 10)
          assert.deepEqual(next.traces, [], `the marker is ${project}'s own trace`)
          const one = await store.traces.page(
            { ...window(project), resourceName: want.resource_name ?? '' },
            null,
            10,
          )
          assert.equal(one.traces.length, 1)
        }
        const retry = await store.traces.append([{ ...b, resource_name: 'changed' }])
        assert.deepEqual(
          { inserted: retry.inserted, duplicates: retry.duplicates },
          { inserted: [], duplicates: [b.trace_id] },
          "a retry in p2 is a duplicate of p2's trace",
        )
        assert.deepEqual(await store.traces.get('p2', b.trace_id), b, 'the first report is kept')
        const rows = await store.traces.readFrom(0, 10)
        assert.deepEqual(
          rows.map((r) => [r.trace.project_id, r.trace.trace_id]),
          [
            ['p1', a.trace_id],
            ['p2', a.trace_id],
          ],
        )
      }))

    it('pages newest first with exclusive bounds and an exact cursor, even on equal times', () =>
      withStore(factory, async (store) => {
        const traces = Array.from({ length: 25 }, (_, i) =>
          makeTrace({ time: NOW - 1000 + Math.floor(i / 5) }),
        )
        await store.traces.append(traces)
        await store.traces.append([
          makeTrace({ time: NOW - 3_600_000 }),
          makeTrace({ time: NOW + 1 }),
        ])
        const seen: string[] = []
        let after: { traceId: string } | null = null
        for (let guard = 0; guard < 10; guard++) {
          const page: Awaited<ReturnType<Store['traces']['page']>> = await store.traces.page(
            window(),
            after,
            7,
          )
          seen.push(...page.traces.map((t) => t.trace_id))
          const last = page.traces.at(-1)
          if (!page.hasMore || last === undefined) break
          after = { traceId: last.trace_id }
        }
        assert.equal(
          seen.length,
          25,
          'bounds are exclusive: the traces at from and to are not returned',
        )
        assert.equal(new Set(seen).size, 25)
        const times = seen.map((id) => traces.find((t) => t.trace_id === id)?.time ?? 0)
        assert.deepEqual(
          times,
          [...times].sort((x, y) => y - x),
        )
      }))

    it('filters on every CTS dimension, exactly and case-sensitively', () =>
      withStore(factory, async (store) => {
        const base = makeTrace({ time: NOW - 100 })
        const other = makeTrace({
          time: NOW - 50,
          service_type: 'ECS',
          resource_type: 'ecs',
          resource_id: 'vm-1',
          resource_name: 'web',
          trace_name: 'deleteServer',
          trace_rating: 'warning',
          user_name: 'Bob',
          access_key_id: 'AK1',
          enterprise_project_id: 'ep1',
        })
        const data = makeTrace({
          time: NOW - 20,
          trace_type: 'ObsAPI',
          event_type: 'data',
          tracker_name: 'dt1',
        })
        await store.traces.append([base, other, data])
        const ids = async (f: Partial<TraceFilter>): Promise<string[]> =>
          (await store.traces.page({ ...window(), ...f }, null, 10)).traces.map((t) => t.trace_id)
        assert.deepEqual(
          await ids({}),
          [other.trace_id, base.trace_id],
          'management traces only by default',
        )
        assert.deepEqual(await ids({ category: 'data' }), [data.trace_id])
        assert.deepEqual(await ids({ category: 'data', trackerName: 'dt1' }), [data.trace_id])
        assert.deepEqual(await ids({ category: 'data', trackerName: 'dt2' }), [])
        assert.deepEqual(await ids({ serviceType: 'ECS' }), [other.trace_id])
        assert.deepEqual(await ids({ resourceType: 'image' }), [base.trace_id])
        assert.deepEqual(await ids({ resourceId: 'vm-1' }), [other.trace_id])
        assert.deepEqual(await ids({ resourceName: 'WEB' }), [], 'case-sensitive')
        assert.deepEqual(await ids({ traceName: 'deleteServer' }), [other.trace_id])
        assert.deepEqual(await ids({ traceRating: 'warning' }), [other.trace_id])
        assert.deepEqual(await ids({ userName: 'Bob' }), [other.trace_id])
        assert.deepEqual(await ids({ accessKeyId: 'AK1' }), [other.trace_id])
        assert.deepEqual(await ids({ enterpriseProjectId: 'ep1' }), [other.trace_id])
        assert.deepEqual(
          await ids({ serviceType: 'ECS', traceRating: 'normal' }),
          [],
          'filters combine with AND',
        )
        assert.deepEqual(await ids({ projectId: 'p2' }), [])
      }))

    it('rejects a cursor that is not a stored trace of the project', () =>
      withStore(factory, async (store) => {
        const t = makeTrace({ time: NOW - 10 })
        await store.traces.append([t])
        await assert.rejects(
          store.traces.page(window(), { traceId: randomUUID() }, 10),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_QUERY',
        )
        await assert.rejects(
          store.traces.page(window('p2'), { traceId: t.trace_id }, 10),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_QUERY',
        )
      }))

    it('purges before a time in bounded steps and keeps commit sequence numbers increasing', () =>
      withStore(factory, async (store) => {
        const old = Array.from({ length: 5 }, () => makeTrace({ time: NOW - 8 * 86_400_000 }))
        const fresh = makeTrace({ time: NOW - 10 })
        await store.traces.append([...old, fresh])
        assert.equal(await store.traces.purgeBefore(NOW - 7 * 86_400_000, 3), 3)
        assert.equal(await store.traces.purgeBefore(NOW - 7 * 86_400_000, 3), 2)
        assert.equal(await store.traces.purgeBefore(NOW - 7 * 86_400_000, 3), 0)
        const before = await store.traces.readFrom(0, 100)
        assert.deepEqual(
          before.map((s) => s.trace.trace_id),
          [fresh.trace_id],
        )
        const last = before[0]?.seq ?? 0
        await store.traces.purgeBefore(NOW, 100)
        const next = makeTrace({ time: NOW - 1 })
        await store.traces.append([next])
        const after = await store.traces.readFrom(last, 100)
        assert.equal(after.length, 1)
        assert.ok(
          (after[0]?.seq ?? 0) > last,
          'seq never goes backwards, even after the newest rows were purged',
        )
      }))

    it('reads from a sequence number by project, and knows the head even after a purge', () =>
      withStore(factory, async (store) => {
        assert.equal(await store.traces.headSeq(), 0)
        const a = makeTrace({ time: NOW - 30, project_id: 'p1' })
        const b = makeTrace({ time: NOW - 20, project_id: 'p2' })
        const c = makeTrace({ time: NOW - 10, project_id: 'p1' })
        await store.traces.append([a, b, c])
        const all = await store.traces.readFrom(0, 10)
        const head = await store.traces.headSeq()
        assert.equal(head, all.at(-1)?.seq)
        const p1 = await store.traces.readFrom(0, 10, { projectId: 'p1', maxSeq: head })
        assert.deepEqual(
          p1.map((s) => s.trace.trace_id),
          [a.trace_id, c.trace_id],
        )
        assert.deepEqual(
          (await store.traces.readFrom(p1[0]?.seq ?? 0, 1, { projectId: 'p1', maxSeq: head })).map(
            (s) => s.trace.trace_id,
          ),
          [c.trace_id],
          'the limit counts traces of the project only',
        )
        assert.deepEqual(
          (
            await store.traces.readFrom(0, 10, { projectId: 'p1', maxSeq: (p1[1]?.seq ?? 0) - 1 })
          ).map((s) => s.trace.trace_id),
          [a.trace_id],
          'nothing after maxSeq',
        )
        await store.traces.purgeBefore(NOW, 100)
        assert.equal(await store.traces.headSeq(), head, 'the head survives the purge')
      }))

    it('keeps the delivery outbox: enqueue with the cursor, attempts, dead letters, purge', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const delivery = (id: string, createdAt: number) => ({
          id,
          projectId: 'p1',
          notificationId: 'n1',
          traceId: `t-${id}`,
          targetKind: 'subscription' as const,
          targetId: 's1',
          protocol: 'http' as const,
          endpoint: 'http://127.0.0.1/hook',
          payload: '{}',
          status: 'pending' as const,
          attempts: 0,
          nextAttemptAt: createdAt,
          lastError: null,
          createdAt,
          deliveredAt: null,
        })
        assert.equal(await d.deliveryCursor(), undefined, 'never set')
        await d.enqueue(0, [])
        assert.equal(await d.deliveryCursor(), 0, 'set to 0 is not never set')
        await d.enqueue(7, [delivery('a', NOW), delivery('b', NOW + 1)])
        await d.enqueue(9, [delivery('a', NOW + 5)])
        assert.equal(await d.deliveryCursor(), 9)
        assert.deepEqual(
          (await d.dueDeliveries(NOW + 1, 10)).map((x) => x.id),
          ['a', 'b'],
          'a repeated id is ignored',
        )
        await d.markFailed('a', 1, NOW + 100, 'HTTP 500')
        await d.markFailed('b', 1, null, 'HTTP 410')
        assert.equal(await d.nextDueAt(), NOW + 100)
        assert.deepEqual(await d.dueDeliveries(NOW + 50, 10), [])
        assert.deepEqual(await d.deliveryCounts(), { pending: 1, delivered: 0, dead: 1 })
        assert.equal((await d.getDelivery('p1', 'b'))?.lastError, 'HTTP 410')
        await d.markDelivered('a', 2, NOW + 120)
        assert.equal(await d.nextDueAt(), undefined)
        assert.equal(await d.redeliver('p1', 'b', NOW + 200), true)
        assert.equal(await d.redeliver('p2', 'b', NOW + 200), false, 'only within its project')
        assert.deepEqual(
          (await d.listDeliveries('p1', 'pending', 10)).map((x) => [x.id, x.attempts]),
          [['b', 0]],
        )
        assert.equal(
          await d.purgeDeliveries(NOW + 1000),
          1,
          'the delivered one goes, not the pending',
        )
        assert.deepEqual(
          (await d.listDeliveries('p1', undefined, 10)).map((x) => x.id),
          ['b'],
        )
        await d.setCursor('log-stream:file', 42)
        assert.equal(await d.getCursor('log-stream:file'), 42)
        assert.equal(await d.getCursor('other'), undefined, 'never set')
        await d.setCursor('empty-store', 0)
        assert.equal(await d.getCursor('empty-store'), 0, 'set to 0 is not never set')
      }))

    it('counts the notifications enabled with a topic, in every project', () =>
      withStore(factory, async (store) => {
        assert.equal(await store.config.countActiveNotifications(), 0)
        await store.config.insertNotification(notification('p1', 'off'), [])
        await store.config.insertNotification(
          { ...notification('p2', 'on'), status: 'enabled', topic_id: 'urn:smn:r:p2:t' },
          [],
        )
        await store.config.insertNotification(
          { ...notification('p1', 'no_topic'), status: 'enabled' },
          [],
        )
        assert.equal(await store.config.countActiveNotifications(), 1)
      }))

    it('lists every tracker and sets a tracker health without touching a disabled one', () =>
      withStore(factory, async (store) => {
        const t1 = tracker('p2', 'b-tracker')
        const t2 = tracker('p1', 'a-tracker')
        await store.config.insertTracker(t1, [])
        await store.config.insertTracker(t2, [])
        assert.deepEqual(
          (await store.config.listAllTrackers()).map((t) => `${t.project_id}/${t.tracker_name}`),
          ['p1/a-tracker', 'p2/b-tracker'],
        )
        const failed = await store.config.setTrackerHealth(t1.id, {
          status: 'error',
          detail: 'noBucket',
        })
        assert.equal(failed?.status, 'error')
        assert.equal(failed?.detail, 'noBucket')
        const [stored] = await store.config.listTrackers('p2', { name: 'b-tracker' })
        assert.deepEqual(stored, failed)
        const healed = await store.config.setTrackerHealth(t1.id, { status: 'enabled' })
        assert.equal(healed?.status, 'enabled')
        assert.equal(healed !== undefined && 'detail' in healed, false)
        await store.config.updateTracker({ ...t2, status: 'disabled' }, [])
        const untouched = await store.config.setTrackerHealth(t2.id, {
          status: 'error',
          detail: 'bucketPolicyError',
        })
        assert.equal(untouched?.status, 'disabled')
        assert.equal(
          await store.config.setTrackerHealth(randomUUID(), { status: 'enabled' }),
          undefined,
        )
      }))

    it('keeps transfer progress: cursor, pending batch, delivered files, digest state', () =>
      withStore(factory, async (store) => {
        const t = tracker('p1', 'dt1')
        await store.config.insertTracker(t, [])
        assert.equal(await store.transfer.getTransferState(t.id), undefined)
        const initial = await store.transfer.initTransferState(t.id, 7)
        assert.deepEqual(initial, { trackerId: t.id, cursor: 7, pending: null, digest: null })
        assert.deepEqual(
          await store.transfer.initTransferState(t.id, 99),
          initial,
          'init keeps an existing state',
        )
        await store.transfer.savePending(t.id, '{"v":1}')
        assert.equal((await store.transfer.getTransferState(t.id))?.pending, '{"v":1}')
        const file = (key: string, deliveredAt: number) => ({
          trackerId: t.id,
          bucket: 'b1',
          key,
          sha256: 'ab'.repeat(32),
          deliveredAt,
          traceCount: 2,
          oldestTime: NOW - 5,
          newestTime: NOW - 1,
        })
        await store.transfer.commitBatch(t.id, 12, [file('k2', NOW + 1000), file('k1', NOW)])
        assert.deepEqual(await store.transfer.getTransferState(t.id), {
          trackerId: t.id,
          cursor: 12,
          pending: null,
          digest: null,
        })
        assert.deepEqual(
          (await store.transfer.deliveredFiles(t.id, NOW, NOW + 1000)).map((f) => f.key),
          ['k1'],
          'from inclusive, to exclusive',
        )
        assert.deepEqual(await store.transfer.deliveredFiles(t.id, 0, NOW + 5000), [
          file('k1', NOW),
          file('k2', NOW + 1000),
        ])
        await store.transfer.saveDigestState(t.id, '{"v":1,"start":1}')
        assert.equal((await store.transfer.getTransferState(t.id))?.digest, '{"v":1,"start":1}')
        assert.equal(await store.transfer.purgeDeliveredFiles(t.id, NOW + 1000), 1)
        assert.equal((await store.transfer.deliveredFiles(t.id, 0, NOW + 5000)).length, 1)
        await store.config.deleteTrackers('p1', [t.id], [])
        assert.equal(
          await store.transfer.getTransferState(t.id),
          undefined,
          'deleted with the tracker',
        )
        await store.transfer.commitBatch(t.id, 20, [file('k3', NOW)])
        assert.deepEqual(
          await store.transfer.deliveredFiles(t.id, 0, NOW + 5000),
          [],
          'a commit for a deleted tracker records nothing',
        )
      }))

    it('lists operators seen since a time and the observed operation catalogue', () =>
      withStore(factory, async (store) => {
        await store.traces.append([
          makeTrace({ time: NOW - 100, user_name: 'alice' }),
          makeTrace({ time: NOW - 10 * 86_400_000, user_name: 'old' }),
          makeTrace({
            time: NOW - 50,
            user_name: 'bob',
            service_type: 'ECS',
            resource_type: 'ecs',
            trace_name: 'createServer',
          }),
          makeTrace({ time: NOW - 50, user_name: null, user: null }),
        ])
        assert.deepEqual(await store.traces.operators('p1', NOW - 30 * 86_400_000), [
          'alice',
          'bob',
          'old',
        ])
        assert.deepEqual(await store.traces.operators('p1', NOW - 86_400_000), ['alice', 'bob'])
        assert.deepEqual(await store.traces.operators('p2', 0), [])
        assert.deepEqual(await store.traces.catalogue('p1'), [
          { service_type: 'ECS', resource_type: 'ecs', trace_name: 'createServer' },
          { service_type: 'IMS', resource_type: 'image', trace_name: 'createImage' },
        ])
      }))

    it('registers a project once, creating its management tracker with the audit trace', () =>
      withStore(factory, async (store) => {
        let calls = 0
        const make = (): { tracker: Tracker; audit: ReturnType<typeof makeTrace>[] } => {
          calls++
          return {
            tracker: tracker('p1', 'system', 'system'),
            audit: [makeTrace({ time: NOW - 1, service_type: 'CTS', trace_name: 'createTracker' })],
          }
        }
        assert.equal(await store.config.ensureProject('p1', NOW, make), true)
        assert.equal(await store.config.ensureProject('p1', NOW, make), false)
        assert.equal(calls, 1)
        const trackers = await store.config.listTrackers('p1')
        assert.deepEqual(
          trackers.map((t) => t.tracker_name),
          ['system'],
        )
        const audit = await store.traces.page({ ...window(), serviceType: 'CTS' }, null, 10)
        assert.equal(audit.traces.length, 1)
      }))

    it('keeps tracker names unique per project and commits audit traces only with the change', () =>
      withStore(factory, async (store) => {
        const a = tracker('p1', 'dt1')
        const auditA = makeTrace({ time: NOW - 3 })
        await store.config.insertTracker(a, [auditA])
        await store.config.insertTracker(tracker('p2', 'dt1'), [])
        const auditB = makeTrace({ time: NOW - 2 })
        await assert.rejects(
          store.config.insertTracker(tracker('p1', 'dt1'), [auditB]),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_CONFLICT',
        )
        assert.ok(await store.traces.get('p1', auditA.trace_id))
        assert.equal(
          await store.traces.get('p1', auditB.trace_id),
          undefined,
          'a failed change leaves no audit trace',
        )
        const updated: Tracker = { ...a, status: 'disabled' }
        await store.config.updateTracker(updated, [])
        assert.deepEqual(await store.config.listTrackers('p1', { name: 'dt1' }), [updated])
        assert.deepEqual(await store.config.listTrackers('p1', { type: 'system' }), [])
        await assert.rejects(
          store.config.updateTracker(tracker('p1', 'ghost'), []),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_TRACKER_NOT_FOUND',
        )
        await store.config.putTags('p1', 'cts-tracker', a.id, [{ key: 'env', value: 'prod' }], [])
        assert.equal(await store.config.deleteTrackers('p1', [a.id, randomUUID()], []), 1)
        assert.deepEqual(await store.config.listTrackers('p1'), [])
        assert.deepEqual(
          await store.config.getTags('p1', 'cts-tracker', a.id),
          [],
          'tags go with their tracker',
        )
      }))

    it('keeps notification names unique per project and replaces by id', () =>
      withStore(factory, async (store) => {
        const n1 = notification('p1', 'n1')
        const n2 = notification('p1', 'n2')
        await store.config.insertNotification(n1, [])
        await store.config.insertNotification(n2, [])
        await assert.rejects(
          store.config.insertNotification(notification('p1', 'n1'), []),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_NOTIFICATION_EXISTS',
        )
        await assert.rejects(
          store.config.updateNotification({ ...n2, notification_name: 'n1' }, []),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_NOTIFICATION_EXISTS',
        )
        await assert.rejects(
          store.config.updateNotification(notification('p1', 'n9'), []),
          (e) => isOpenCtsError(e) && e.code === 'OCTS_ERR_NOTIFICATION_NOT_FOUND',
        )
        await store.config.updateNotification(
          { ...n2, status: 'enabled', topic_id: 'urn:smn:r:p1:t' },
          [],
        )
        const list = await store.config.listNotifications('p1')
        assert.deepEqual(
          list.map((n) => [n.notification_name, n.status]),
          [
            ['n1', 'disabled'],
            ['n2', 'enabled'],
          ],
        )
        assert.equal(
          await store.config.deleteNotifications(
            'p1',
            [n1.notification_id, n2.notification_id],
            [],
          ),
          2,
        )
        assert.deepEqual(await store.config.listNotifications('p1'), [])
      }))

    it('adds, overwrites, lists and deletes tags', () =>
      withStore(factory, async (store) => {
        await store.config.putTags(
          'p1',
          'cts-tracker',
          'r1',
          [
            { key: 'env', value: 'dev' },
            { key: 'team', value: 'sec' },
          ],
          [],
        )
        await store.config.putTags('p1', 'cts-tracker', 'r1', [{ key: 'env', value: 'prod' }], [])
        await store.config.putTags('p1', 'cts-tracker', 'r2', [{ key: 'env', value: 'dev' }], [])
        assert.deepEqual(await store.config.getTags('p1', 'cts-tracker', 'r1'), [
          { key: 'env', value: 'prod' },
          { key: 'team', value: 'sec' },
        ])
        assert.equal((await store.config.listTags('p1', 'cts-tracker')).length, 3)
        await store.config.deleteTags(
          'p1',
          'cts-tracker',
          'r1',
          [{ key: 'env', value: 'dev' }, { key: 'team' }],
          [],
        )
        assert.deepEqual(
          await store.config.getTags('p1', 'cts-tracker', 'r1'),
          [{ key: 'env', value: 'prod' }],
          'delete by key+value only matches the value',
        )
      }))

    if (factory.reopen !== undefined) {
      const reopen = factory.reopen.bind(factory)
      it('keeps traces and configuration across a restart', async () => {
        let store = await factory.open()
        try {
          const t = makeTrace({ time: NOW - 10 })
          await store.traces.append([t])
          await store.config.insertTracker(tracker('p1', 'dt1'), [])
          store = await reopen(store)
          assert.deepEqual(await store.traces.get('p1', t.trace_id), t)
          assert.equal((await store.config.listTrackers('p1')).length, 1)
        } finally {
          await store.close()
        }
      })
    }
  })
}
