/**
 * The transfer and delivery tests of the former `test/store-contract.ts`, kept as they were until
 * the ports' own suites (`transfer.ts`, `delivery.ts`) take them over: then move each test into its
 * port's suite (or drop it where that suite covers it) and delete this file.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoreFactory } from './engines.js'
import { NOW, tracker, withStore } from './fixtures.js'

export function transferDeliveryBasicsContract(name: string, factory: StoreFactory): void {
  describe(`transfer and delivery basics: ${name}`, () => {
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
  })
}
