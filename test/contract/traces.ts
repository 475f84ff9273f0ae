/**
 * The contract of the traces port (`TraceStore`): every engine passes it. Idempotent appends per
 * project, newest-first pages with exact cursors, every CTS filter, bounded purges, the commit
 * sequence (`readFrom`, `headSeq`), operators and the operation catalogue, durability across a
 * restart. The factory opens stores without MerkleHashing (the log is off; `merkle-log.ts` covers
 * it on).
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { Store, TraceFilter } from '../../src/store/index.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'
import { NOW, window, withStore } from './fixtures.js'

export function traceStoreContract(name: string, factory: StoreFactory): void {
  describe(`trace store contract: ${name}`, () => {
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

    it('keeps no Merkle log when opened without MerkleHashing', () =>
      withStore(factory, async (store) => {
        const batch = Array.from({ length: 10 }, (_, i) => makeTrace({ time: NOW - 100 + i }))
        await store.traces.append(batch)
        assert.equal(await store.merkle.treeSize('p1'), 0)
        assert.equal(await store.merkle.leafIndexOf('p1', batch[0]?.trace_id ?? ''), undefined)
        assert.equal(await store.merkle.withNodes('p1', (_node, size) => size), 0)
      }))

    if (factory.reopen !== undefined) {
      const reopen = factory.reopen.bind(factory)
      it('keeps traces across a restart', async () => {
        let store = await factory.open()
        try {
          const t = makeTrace({ time: NOW - 10 })
          await store.traces.append([t])
          store = await reopen(store)
          assert.deepEqual(await store.traces.get('p1', t.trace_id), t)
        } finally {
          await store.close()
        }
      })
    }
  })
}
