/**
 * The InsightStore contract (src/store/ports/insights.ts): idempotent insights with the detectors'
 * state and cursor in one commit, and a project's insights newest first with filters and paging.
 * Every engine passes it; run it with `insightContract(engine, factory)`. Each test works in a
 * fresh store of the factory.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { InsightFilter, InsightRecord, Store } from '../../src/store/index.js'
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

/** An insight event; `n` makes its ids (UUID-shaped, ordered by n). */
function insight(n: number, overrides: Partial<InsightRecord> = {}): InsightRecord {
  const hex = n.toString(16).padStart(12, '0')
  return {
    id: `00000000-0000-4000-8000-${hex}`,
    insight_id: `11111111-0000-4000-8000-${hex}`,
    project_id: 'p1',
    insight_type: 'ApiCallRateInsight',
    state: 'start',
    time: NOW - n * 1000,
    service_type: 'IMS',
    trace_name: 'createImage',
    subject: {},
    statistics: {
      baseline: { average: 5.5 },
      insight: { average: 80, peak: 80 },
      threshold: 14.4,
      insight_duration: 0,
      baseline_duration: 60,
    },
    attributions: [
      {
        attribute: 'user',
        insight: [{ value: 'mallory', average: 80 }],
        baseline: [{ value: 'alice', average: 3 }],
      },
    ],
    reasons: [],
    trace_id: null,
    detected_at: NOW,
    ...overrides,
  }
}

const filter = (overrides: Partial<InsightFilter> = {}): InsightFilter => ({
  projectId: 'p1',
  from: NOW - 86_400_000,
  to: NOW + 1,
  ...overrides,
})

const ids = (list: readonly InsightRecord[]): string[] => list.map((i) => i.id)

export function insightContract(name: string, factory: StoreFactory): void {
  describe(`insight contract: ${name}`, () => {
    it('has no cursor and no state before the first commit', () =>
      withStore(factory, async (store) => {
        const state = await store.insights.loadDetectors()
        assert.equal(state.cursor, undefined)
        assert.equal(state.entries.size, 0)
        const page = await store.insights.listInsights(filter(), null, 10)
        assert.deepEqual(page, { insights: [], hasMore: false })
      }))

    it('commits insights, state and cursor together; a stored id is skipped, not replaced', () =>
      withStore(factory, async (store) => {
        const first = insight(1)
        const stored = await store.insights.commitDetectors({
          cursor: 7,
          upserts: [
            ['rate:a', '{"x":1}'],
            ['denied:b', '{"y":2}'],
          ],
          deletes: ['absent'],
          insights: [first, insight(2, { project_id: 'p2' })],
        })
        assert.deepEqual(stored.sort(), [insight(1).id, insight(2).id].sort())
        const again = await store.insights.commitDetectors({
          cursor: 9,
          upserts: [['rate:a', '{"x":3}']],
          deletes: ['denied:b'],
          insights: [{ ...first, detected_at: NOW + 5 }, insight(3), insight(3)],
        })
        assert.deepEqual(again, [insight(3).id], 'a stored id and a repeat are stored once')
        const state = await store.insights.loadDetectors()
        assert.equal(state.cursor, 9)
        assert.deepEqual([...state.entries], [['rate:a', '{"x":3}']])
        const page = await store.insights.listInsights(filter(), null, 10)
        assert.deepEqual(page.insights, [first, insight(3)], 'the first version is kept')
        const other = await store.insights.listInsights(filter({ projectId: 'p2' }), null, 10)
        assert.deepEqual(ids(other.insights), [insight(2).id], 'projects are apart')
      }))

    it('lists newest first (time, then id) with exclusive bounds, filters and paging', () =>
      withStore(factory, async (store) => {
        const all = [
          insight(1),
          insight(2, { state: 'end', time: NOW - 1000 }),
          insight(3, { insight_type: 'DeniedBurstInsight', service_type: null }),
          insight(4, { service_type: 'EVS' }),
          insight(5),
        ]
        await store.insights.commitDetectors({ cursor: 1, upserts: [], deletes: [], insights: all })
        // insight(1) and insight(2) share a time: the larger id comes first.
        const order = [insight(2), insight(1), insight(3), insight(4), insight(5)].map((i) => i.id)
        assert.deepEqual(
          ids((await store.insights.listInsights(filter(), null, 10)).insights),
          order,
        )
        const walked: string[] = []
        let after: string | null = null
        for (let page = 0; page < 10; page++) {
          const got = await store.insights.listInsights(filter(), after, 2)
          walked.push(...ids(got.insights))
          if (!got.hasMore) break
          after = got.insights.at(-1)?.id ?? null
        }
        assert.deepEqual(walked, order)
        const between = filter({ from: NOW - 4000, to: NOW - 1000 })
        assert.deepEqual(ids((await store.insights.listInsights(between, null, 10)).insights), [
          insight(3).id,
        ])
        const ended = filter({ state: 'end' })
        assert.deepEqual(ids((await store.insights.listInsights(ended, null, 10)).insights), [
          insight(2).id,
        ])
        const denied = filter({ insightType: 'DeniedBurstInsight' })
        assert.deepEqual(ids((await store.insights.listInsights(denied, null, 10)).insights), [
          insight(3).id,
        ])
        const evs = filter({ serviceType: 'EVS' })
        assert.deepEqual(ids((await store.insights.listInsights(evs, null, 10)).insights), [
          insight(4).id,
        ])
        const page = await store.insights.listInsights(filter(), null, 5)
        assert.equal(page.hasMore, false)
      }))

    it('refuses a marker that is not an insight of the project (OCTS_ERR_QUERY)', () =>
      withStore(factory, async (store) => {
        await store.insights.commitDetectors({
          cursor: 1,
          upserts: [],
          deletes: [],
          insights: [insight(1, { project_id: 'p2' })],
        })
        await assert.rejects(
          store.insights.listInsights(filter(), insight(1).id, 10),
          (error: unknown) => isOpenCtsError(error) && error.code === 'OCTS_ERR_QUERY',
        )
      }))

    it('purges insights older than a time', () =>
      withStore(factory, async (store) => {
        await store.insights.commitDetectors({
          cursor: 1,
          upserts: [],
          deletes: [],
          insights: [insight(1), insight(5), insight(9)],
        })
        assert.equal(await store.insights.purgeInsights(NOW - 4000), 2)
        const left = await store.insights.listInsights(filter(), null, 10)
        assert.deepEqual(ids(left.insights), [insight(1).id])
      }))

    it(
      'keeps insights, state and cursor across a reopen',
      { skip: factory.reopen === undefined ? 'this factory cannot reopen a store' : false },
      () =>
        withStore(factory, async (store) => {
          await store.insights.commitDetectors({
            cursor: 42,
            upserts: [['risk-op:["p1","alice"]', '{"touched":1}']],
            deletes: [],
            insights: [insight(1)],
          })
          const again = await (factory.reopen as (s: Store) => Promise<Store>)(store)
          const state = await again.insights.loadDetectors()
          assert.equal(state.cursor, 42)
          assert.deepEqual([...state.entries], [['risk-op:["p1","alice"]', '{"touched":1}']])
          assert.deepEqual((await again.insights.listInsights(filter(), null, 10)).insights, [
            insight(1),
          ])
          return again
        }),
    )
  })
}
