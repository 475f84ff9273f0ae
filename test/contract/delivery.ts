/**
 * The DeliveryStore contract (src/store/ports/delivery.ts): topics, subscriptions, functions, the
 * outbox with the matcher's cursor, and named cursors. Every engine passes it; run it with
 * `deliveryContract(engine, factory)`. Each test works in a fresh store of the factory.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type {
  DeliveryRecord,
  FunctionRecord,
  Store,
  SubscriptionRecord,
  TopicRecord,
} from '../../src/store/index.js'
import type { StoreFactory } from './engines.js'

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0)

async function withStore(
  factory: StoreFactory,
  fn: (store: Store) => Promise<Store | void>,
): Promise<void> {
  let store = await factory.open()
  try {
    store = (await fn(store)) ?? store
  } finally {
    await store.close()
  }
}

function topic(projectId: string, name: string, createdAt = NOW): TopicRecord {
  return { urn: `urn:smn:r1:${projectId}:${name}`, projectId, name, createdAt }
}

function subscription(
  t: TopicRecord,
  id: string,
  createdAt = NOW,
  protocol: SubscriptionRecord['protocol'] = 'https',
): SubscriptionRecord {
  return {
    id,
    topicUrn: t.urn,
    projectId: t.projectId,
    protocol,
    endpoint: protocol === 'email' ? 'ops@example.com' : `https://127.0.0.1/${id}`,
    sealedSecret: `sealed-${id}`,
    createdAt,
  }
}

function fn(projectId: string, name: string, endpoint = 'http://127.0.0.1/run'): FunctionRecord {
  return {
    urn: `urn:fss:r1:${projectId}:function:default:${name}:latest`,
    projectId,
    endpoint,
    sealedSecret: `sealed-${name}`,
    createdAt: NOW,
  }
}

function delivery(
  id: string,
  createdAt: number,
  fields: Partial<DeliveryRecord> = {},
): DeliveryRecord {
  return {
    id,
    projectId: 'p1',
    notificationId: 'n1',
    traceId: `t-${id}`,
    targetKind: 'subscription',
    targetId: 's1',
    protocol: 'http',
    endpoint: 'http://127.0.0.1/hook',
    payload: `{"trace_id":"t-${id}"}`,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: createdAt,
    lastError: null,
    createdAt,
    deliveredAt: null,
    ...fields,
  }
}

function conflict(error: unknown): boolean {
  assert.ok(isOpenCtsError(error), String(error))
  assert.equal(error.code, 'OCTS_ERR_CONFLICT')
  return true
}

export function deliveryContract(name: string, factory: StoreFactory): void {
  describe(`delivery contract: ${name}`, () => {
    it('stores topics per project, sorted by name (byte order), and refuses a taken URN or name', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const [b, a, u] = [topic('p1', 'b'), topic('p1', 'a'), topic('p1', 'B_upper')]
        for (const t of [b, a, u, topic('p2', 'a')]) await d.insertTopic(t)
        assert.deepEqual(await d.listTopics('p1'), [u, a, b])
        assert.deepEqual(await d.listTopics('p2'), [topic('p2', 'a')])
        assert.deepEqual(await d.listTopics('p3'), [])
        assert.deepEqual(await d.getTopic(a.urn), a)
        assert.equal(await d.getTopic('urn:smn:r1:p1:none'), undefined)
        await assert.rejects(d.insertTopic({ ...a, createdAt: NOW + 1 }), conflict)
        await assert.rejects(d.insertTopic({ ...a, urn: `${a.urn}-2` }), conflict, 'same name')
        await assert.rejects(d.insertTopic({ ...a, projectId: 'p9' }), conflict, 'URN elsewhere')
        assert.deepEqual(await d.listTopics('p1'), [u, a, b], 'nothing changed')
        assert.deepEqual(await d.listTopics('p9'), [])
      }))

    it('deletes a topic with its subscriptions, only within its project', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const [t, kept] = [topic('p1', 'alerts'), topic('p1', 'kept')]
        await d.insertTopic(t)
        await d.insertTopic(kept)
        await d.insertSubscription(subscription(t, 's1'))
        await d.insertSubscription(subscription(kept, 's2'))
        assert.equal(await d.deleteTopic('p2', t.urn), false, 'another project')
        assert.deepEqual(await d.getTopic(t.urn), t)
        assert.equal(await d.deleteTopic('p1', t.urn), true)
        assert.equal(await d.getTopic(t.urn), undefined)
        assert.equal(await d.getSubscription('s1'), undefined, 'its subscriptions go with it')
        assert.deepEqual(await d.listSubscriptions(t.urn), [])
        assert.equal(await d.deleteTopic('p1', t.urn), false, 'already gone')
        assert.deepEqual(await d.listSubscriptions(kept.urn), [subscription(kept, 's2')])
        await d.insertTopic(t)
        assert.deepEqual(
          await d.listSubscriptions(t.urn),
          [],
          'a new topic of the name starts empty',
        )
      }))

    it('lists the subscriptions of a topic by creation time then id, and deletes per project', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const [t, other] = [topic('p1', 'alerts'), topic('p1', 'other')]
        await d.insertTopic(t)
        await d.insertTopic(other)
        const subs = [
          subscription(t, 'sb', NOW),
          subscription(t, 'sA', NOW),
          subscription(t, 'sa', NOW - 10, 'email'),
          subscription(t, 's0', NOW + 10, 'http'),
        ]
        for (const s of subs) await d.insertSubscription(s)
        await d.insertSubscription(subscription(other, 'so'))
        assert.deepEqual(
          (await d.listSubscriptions(t.urn)).map((s) => s.id),
          ['sa', 'sA', 'sb', 's0'],
        )
        assert.deepEqual(await d.getSubscription('sa'), subs[2])
        assert.equal(await d.getSubscription('none'), undefined)
        assert.equal(await d.deleteSubscription('p2', 'sa'), false, 'another project')
        assert.equal(await d.deleteSubscription('p1', 'sa'), true)
        assert.equal(await d.deleteSubscription('p1', 'sa'), false)
        assert.deepEqual(
          (await d.listSubscriptions(t.urn)).map((s) => s.id),
          ['sA', 'sb', 's0'],
        )
        assert.deepEqual(
          (await d.listSubscriptions(other.urn)).map((s) => s.id),
          ['so'],
        )
      }))

    it('binds functions: put inserts or replaces (creation time kept), sorted by URN per project', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const [f2, f1, fu] = [fn('p1', 'f2'), fn('p1', 'f1'), fn('p1', 'F_upper')]
        for (const f of [f2, f1, fu, fn('p2', 'f1')]) await d.putFunction(f)
        assert.deepEqual(await d.listFunctions('p1'), [fu, f1, f2])
        assert.deepEqual(await d.getFunction(f1.urn), f1)
        assert.equal(await d.getFunction('urn:fss:none'), undefined)
        const replaced = {
          ...f1,
          endpoint: 'https://127.0.0.1/v2',
          sealedSecret: 'sealed-v2',
          createdAt: NOW + 500,
        }
        await d.putFunction(replaced)
        assert.deepEqual(await d.getFunction(f1.urn), { ...replaced, createdAt: NOW })
        assert.equal((await d.listFunctions('p1')).length, 3, 'replaced, not added')
        assert.equal(await d.deleteFunction('p2', f1.urn), false, 'another project')
        assert.equal(await d.deleteFunction('p1', f1.urn), true)
        assert.equal(await d.deleteFunction('p1', f1.urn), false)
        assert.deepEqual(await d.listFunctions('p1'), [fu, f2])
        assert.deepEqual(await d.listFunctions('p2'), [fn('p2', 'f1')])
      }))

    it('tells a matcher cursor never set from one set to 0, and enqueues with it', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        assert.equal(await d.deliveryCursor(), undefined, 'never set')
        await d.enqueue(0, [])
        assert.equal(await d.deliveryCursor(), 0, 'set to 0 is not never set')
        await d.enqueue(7, [delivery('a', NOW), delivery('b', NOW + 1)])
        assert.equal(await d.deliveryCursor(), 7)
        const big = 2 ** 40 + 1
        await d.enqueue(big, [])
        assert.equal(await d.deliveryCursor(), big)
        assert.equal(await d.getCursor('log-stream:x'), undefined, 'named cursors apart')
      }))

    it('ignores a delivery id already stored (first one kept), even within one batch or a repeat', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        const a = delivery('a', NOW)
        await d.enqueue(1, [a, delivery('a', NOW + 3, { payload: '{"second":true}' })])
        await d.enqueue(2, [
          delivery('a', NOW + 5, { payload: '{"later":true}' }),
          delivery('b', NOW),
        ])
        await d.enqueue(2, [delivery('b', NOW)])
        assert.equal(await d.deliveryCursor(), 2)
        const batch = [delivery('c', NOW), delivery('d', NOW)]
        await Promise.all([d.enqueue(3, batch), d.enqueue(3, batch)])
        assert.equal(await d.deliveryCursor(), 3, 'a repeat racing the original')
        assert.deepEqual(await d.getDelivery('p1', 'a'), a)
        assert.deepEqual(
          (await d.listDeliveries('p1', undefined, 10)).map((x) => x.id),
          ['a', 'b', 'c', 'd'],
        )
        assert.deepEqual(await d.deliveryCounts(), { pending: 4, delivered: 0, dead: 0 })
      }))

    it('enqueues all or nothing: a failed enqueue leaves the cursor and the outbox unchanged', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        await d.enqueue(3, [delivery('a', NOW)])
        // A payload that cannot be sent to the database (a well-typed caller never has one).
        const unsendable = {
          toJSON() {
            throw new Error('unsendable')
          },
        } as unknown as string
        const bad = delivery('c', NOW, { payload: unsendable })
        await assert.rejects(d.enqueue(9, [delivery('b', NOW), bad]), (error) => {
          assert.ok(isOpenCtsError(error))
          assert.equal(error.code, 'OCTS_ERR_WRITE_FAILED')
          return true
        })
        assert.equal(await d.deliveryCursor(), 3)
        assert.equal(await d.getDelivery('p1', 'b'), undefined)
        assert.deepEqual(await d.deliveryCounts(), { pending: 1, delivered: 0, dead: 0 })
      }))

    it('hands out due deliveries oldest due first (then created, then id), pending only, at most limit', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        await d.enqueue(1, [
          delivery('late', NOW - 100, { nextAttemptAt: NOW + 50 }),
          delivery('b', NOW - 10, { nextAttemptAt: NOW }),
          delivery('B', NOW - 10, { nextAttemptAt: NOW }),
          delivery('first', NOW - 5, { nextAttemptAt: NOW - 20 }),
          delivery('older', NOW - 30, { nextAttemptAt: NOW }),
          delivery('done', NOW - 40, {
            nextAttemptAt: NOW - 40,
            status: 'delivered',
            deliveredAt: NOW - 39,
          }),
          delivery('gone', NOW - 40, { nextAttemptAt: NOW - 40, status: 'dead' }),
          delivery('q2', NOW - 40, { projectId: 'p2', nextAttemptAt: NOW - 1 }),
        ])
        assert.deepEqual(
          (await d.dueDeliveries(NOW, 10)).map((x) => x.id),
          ['first', 'q2', 'older', 'B', 'b'],
          'due at now inclusive; every project',
        )
        assert.deepEqual(
          (await d.dueDeliveries(NOW, 2)).map((x) => x.id),
          ['first', 'q2'],
        )
        assert.deepEqual(await d.dueDeliveries(NOW - 21, 10), [])
        assert.deepEqual(
          (await d.dueDeliveries(NOW + 50, 10)).map((x) => x.id),
          ['first', 'q2', 'older', 'B', 'b', 'late'],
        )
        assert.equal(await d.nextDueAt(), NOW - 20)
      }))

    it('records attempts: delivered, failed and retried, dead; nextDueAt follows the pending', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        assert.equal(await d.nextDueAt(), undefined, 'nothing pending')
        await d.enqueue(2, [delivery('a', NOW), delivery('b', NOW + 1)])
        await d.markFailed('a', 1, NOW + 100, 'HTTP 500')
        assert.deepEqual(await d.getDelivery('p1', 'a'), {
          ...delivery('a', NOW),
          attempts: 1,
          nextAttemptAt: NOW + 100,
          lastError: 'HTTP 500',
        })
        await d.markFailed('b', 3, null, 'HTTP 410')
        assert.deepEqual(
          await d.getDelivery('p1', 'b'),
          { ...delivery('b', NOW + 1), status: 'dead', attempts: 3, lastError: 'HTTP 410' },
          'dead keeps its last due time',
        )
        assert.equal(await d.nextDueAt(), NOW + 100)
        assert.deepEqual(await d.dueDeliveries(NOW + 50, 10), [])
        assert.deepEqual(await d.deliveryCounts(), { pending: 1, delivered: 0, dead: 1 })
        await d.markDelivered('a', 2, NOW + 120)
        assert.deepEqual(await d.getDelivery('p1', 'a'), {
          ...delivery('a', NOW),
          status: 'delivered',
          attempts: 2,
          nextAttemptAt: NOW + 100,
          lastError: null,
          deliveredAt: NOW + 120,
        })
        assert.equal(await d.nextDueAt(), undefined)
        assert.deepEqual(await d.deliveryCounts(), { pending: 0, delivered: 1, dead: 1 })
        await d.markDelivered('unknown', 1, NOW)
        await d.markFailed('unknown', 1, null, 'x')
        assert.deepEqual(await d.deliveryCounts(), { pending: 0, delivered: 1, dead: 1 })
      }))

    it('redelivers within its project: pending, due now, attempts reset', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        await d.enqueue(1, [delivery('a', NOW), delivery('b', NOW)])
        await d.markDelivered('a', 1, NOW + 5)
        await d.markFailed('b', 4, null, 'HTTP 410')
        assert.equal(await d.redeliver('p2', 'a', NOW + 200), false, 'another project')
        assert.equal(await d.redeliver('p1', 'none', NOW + 200), false)
        assert.equal(await d.redeliver('p1', 'a', NOW + 200), true)
        assert.equal(await d.redeliver('p1', 'b', NOW + 300), true)
        assert.deepEqual(await d.getDelivery('p1', 'a'), {
          ...delivery('a', NOW),
          nextAttemptAt: NOW + 200,
        })
        const b = await d.getDelivery('p1', 'b')
        assert.deepEqual(
          [b?.status, b?.attempts, b?.nextAttemptAt, b?.deliveredAt],
          ['pending', 0, NOW + 300, null],
        )
        assert.deepEqual(
          (await d.dueDeliveries(NOW + 300, 10)).map((x) => x.id),
          ['a', 'b'],
        )
      }))

    it('lists a project’s deliveries newest first (then id), by status, at most limit', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        await d.enqueue(1, [
          delivery('old', NOW - 100),
          delivery('y', NOW),
          delivery('X', NOW),
          delivery('new', NOW + 100),
          delivery('dead', NOW + 50, { status: 'dead' }),
          delivery('p2', NOW + 200, { projectId: 'p2' }),
        ])
        assert.deepEqual(
          (await d.listDeliveries('p1', undefined, 10)).map((x) => x.id),
          ['new', 'dead', 'X', 'y', 'old'],
        )
        assert.deepEqual(
          (await d.listDeliveries('p1', undefined, 2)).map((x) => x.id),
          ['new', 'dead'],
        )
        assert.deepEqual(
          (await d.listDeliveries('p1', 'pending', 10)).map((x) => x.id),
          ['new', 'X', 'y', 'old'],
        )
        assert.deepEqual(
          (await d.listDeliveries('p1', 'dead', 10)).map((x) => x.id),
          ['dead'],
        )
        assert.deepEqual(await d.listDeliveries('p1', 'delivered', 10), [])
        assert.deepEqual(
          (await d.listDeliveries('p2', undefined, 10)).map((x) => x.id),
          ['p2'],
        )
        assert.equal(await d.getDelivery('p2', 'new'), undefined, 'only within its project')
        assert.deepEqual(
          await d.getDelivery('p2', 'p2'),
          delivery('p2', NOW + 200, { projectId: 'p2' }),
        )
      }))

    it('counts every project’s deliveries by status and purges finished ones created before a time', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        await d.enqueue(1, [
          delivery('d1', NOW - 10, { status: 'delivered', deliveredAt: NOW - 9 }),
          delivery('x1', NOW - 10, { status: 'dead', projectId: 'p2' }),
          delivery('p1', NOW - 10),
          delivery('d2', NOW, { status: 'delivered', deliveredAt: NOW + 1 }),
        ])
        assert.deepEqual(await d.deliveryCounts(), { pending: 1, delivered: 2, dead: 1 })
        assert.equal(await d.purgeDeliveries(NOW), 2, 'before, not at; pending stays')
        assert.equal(await d.purgeDeliveries(NOW), 0)
        assert.deepEqual(await d.deliveryCounts(), { pending: 1, delivered: 1, dead: 0 })
        assert.deepEqual(
          (await d.listDeliveries('p1', undefined, 10)).map((x) => x.id),
          ['d2', 'p1'],
        )
      }))

    it('keeps named cursors: never set is not 0, each apart, replaced on set', () =>
      withStore(factory, async (store) => {
        const d = store.delivery
        assert.equal(await d.getCursor('log-stream:file'), undefined)
        await d.setCursor('log-stream:file', 42)
        await d.setCursor('empty-store', 0)
        assert.equal(await d.getCursor('log-stream:file'), 42)
        assert.equal(await d.getCursor('empty-store'), 0, 'set to 0 is not never set')
        await d.setCursor('log-stream:file', 2 ** 45)
        assert.equal(await d.getCursor('log-stream:file'), 2 ** 45)
        assert.equal(await d.getCursor('other'), undefined)
        assert.equal(await d.deliveryCursor(), undefined, 'the matcher cursor is apart')
      }))

    it(
      'keeps topics, subscriptions, functions, the outbox and cursors across a reopen',
      {
        skip: factory.reopen === undefined ? 'this factory cannot reopen a store' : false,
      },
      () =>
        withStore(factory, async (store) => {
          const t = topic('p1', 'alerts')
          const s = subscription(t, 's1')
          const f = fn('p1', 'f1')
          await store.delivery.insertTopic(t)
          await store.delivery.insertSubscription(s)
          await store.delivery.putFunction(f)
          await store.delivery.enqueue(5, [delivery('a', NOW)])
          await store.delivery.markFailed('a', 1, NOW + 9, 'timeout')
          await store.delivery.setCursor('log-stream:s3', 17)
          const again = await (factory.reopen as (s: Store) => Promise<Store>)(store)
          const d = again.delivery
          assert.deepEqual(await d.listTopics('p1'), [t])
          assert.deepEqual(await d.listSubscriptions(t.urn), [s])
          assert.deepEqual(await d.listFunctions('p1'), [f])
          assert.equal(await d.deliveryCursor(), 5)
          assert.deepEqual(await d.getDelivery('p1', 'a'), {
            ...delivery('a', NOW),
            attempts: 1,
            nextAttemptAt: NOW + 9,
            lastError: 'timeout',
          })
          assert.equal(await d.getCursor('log-stream:s3'), 17)
          return again
        }),
    )
  })
}
