/**
 * The contract of the config port (`ConfigStore`): every engine passes it. Projects registered
 * once, trackers and notifications unique by name per project, tracker health, tags, the count of
 * active notifications, self-audit traces committed only with their change, durability across a
 * restart.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { Tracker } from '../../src/model/index.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'
import { NOW, notification, tracker, window, withStore } from './fixtures.js'

export function configStoreContract(name: string, factory: StoreFactory): void {
  describe(`config store contract: ${name}`, () => {
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
      it('keeps configuration across a restart', async () => {
        let store = await factory.open()
        try {
          await store.config.insertTracker(tracker('p1', 'dt1'), [])
          store = await reopen(store)
          assert.equal((await store.config.listTrackers('p1')).length, 1)
        } finally {
          await store.close()
        }
      })
    }
  })
}
