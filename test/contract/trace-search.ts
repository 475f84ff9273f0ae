/**
 * The contract of searches (`TraceFilter.search`): every engine's pages, statistics and activity
 * take exactly the traces a plain evaluation of the search over the same traces takes — exact and
 * prefix terms, OR, NOT over traces without the field, code comparisons (a code that is no number
 * compares false), text without ASCII case in resource name/id and trace name — with the exact
 * filters and the window, across pages; and both refuse a search over more than its bound.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isOpenCtsError } from '../../src/errors/index.js'
import type { TraceRecord } from '../../src/model/index.js'
import { parseSearch } from '../../src/query/search-query.js'
import type { SearchNode, StatisticsSpec, TraceFilter } from '../../src/store/index.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'
import { NOW, window, withStore } from './fixtures.js'
import { referenceStatistics } from './trace-statistics.js'

const lower = (v: string): string => v.replace(/[A-Z]/g, (c) => c.toLowerCase())

/** Whether a trace matches a search, evaluated the plain way. */
export function matches(t: TraceRecord, node: SearchNode): boolean {
  switch (node.kind) {
    case 'and':
      return node.nodes.every((n) => matches(t, n))
    case 'or':
      return node.nodes.some((n) => matches(t, n))
    case 'not':
      return !matches(t, node.node)
    case 'text':
      return [t.resource_name, t.resource_id, t.trace_name].some(
        (v) => v !== null && lower(v).includes(node.value),
      )
    case 'match': {
      const v = t[node.field]
      return v !== null && (node.prefix ? v.startsWith(node.value) : v === node.value)
    }
    case 'compare': {
      const v = t.code
      if (v === null || !/^\d{1,9}$/.test(v)) return false
      const n = Number(v)
      return {
        '<': n < node.value,
        '<=': n <= node.value,
        '>': n > node.value,
        '>=': n >= node.value,
      }[node.op]
    }
  }
}

const NAMES = ['createImage', 'deleteImage', 'updateImage', 'GetImage', 'addMember']
const CODES = ['200', '201', '204', '400', '403', '404', '500', 'ECS.0001', null]

function traces(n: number): TraceRecord[] {
  return Array.from({ length: n }, (_, i) =>
    makeTrace({
      time: NOW - 3_500_000 + i * 5_000,
      service_type: i % 4 === 0 ? 'ECS' : 'IMS',
      trace_name: NAMES[i % NAMES.length] ?? 'createImage',
      resource_id: i % 9 === 0 ? null : `img-${i % 13}`,
      resource_name: i % 7 === 0 ? null : i % 3 === 0 ? `Web-Prod-${i % 5}` : `db-test-${i % 5}`,
      user_name: i % 6 === 0 ? null : (['alice', 'bob', 'carol'][i % 3] ?? 'alice'),
      user: null,
      code: CODES[i % CODES.length] ?? null,
      source_ip: i % 10 === 0 ? null : `10.1.${i % 4}.${i % 7}`,
      trace_rating: i % 8 === 0 ? 'warning' : 'normal',
    }),
  )
}

const QUERIES = [
  'code:>=400',
  'code:<300 AND NOT service_type:ECS',
  'code:(403 OR 404) user:bob',
  'NOT user:alice',
  'NOT source_ip:10.1.1*',
  'resource_name:Web-Prod*',
  'web OR GETIMAGE',
  '"prod-3"',
  'trace_name:delete* OR (code:500 AND NOT resource_id:img-1)',
  'NOT (code:>=200 AND code:<300)',
  'resource_id:img-1 code:>=204',
  'service_type:IMS trace_name:(createImage OR updateImage) NOT user:carol',
  'code:ECS.0001',
  'trace_rating:warning OR "db-test-2"',
  'trace_name:delete* OR (service_type:ECS AND NOT trace_rating:warning)',
]

const SEARCH_SPECS: readonly StatisticsSpec[] = [
  { groupBy: ['user_name', 'code'], distinct: 'trace_name', top: 100, buckets: null },
  { groupBy: ['trace_name'], distinct: 'user_name', top: 3, buckets: null },
  { groupBy: ['source_ip'], distinct: 'code', top: 5, buckets: null },
  {
    groupBy: ['code'],
    distinct: null,
    top: 100,
    buckets: { start: NOW - 3_600_000, step: 3_600_000 },
  },
]

export function traceSearchContract(name: string, factory: StoreFactory): void {
  describe(`trace search contract: ${name}`, () => {
    it('pages, counts and charts exactly the traces a plain evaluation finds', () =>
      withStore(factory, async (store) => {
        const all = traces(240)
        for (let at = 0; at < all.length; at += 80)
          await store.traces.append(all.slice(at, at + 80))
        for (const q of QUERIES) {
          const root = parseSearch(q)
          const filter: TraceFilter = { ...window(), search: { root, maxScan: 1000 } }
          const want = all
            .filter((t) => matches(t, root))
            .sort((a, b) => b.time - a.time)
            .map((t) => t.trace_id)
          assert.ok(want.length > 0 && want.length < all.length, `${q} splits the traces`)
          const got: string[] = []
          let after: { traceId: string } | null = null
          for (let page = 0; page < 50; page++) {
            const { traces: found, hasMore } = await store.traces.page(filter, after, 17)
            got.push(...found.map((t) => t.trace_id))
            const last = found.at(-1)
            if (!hasMore || last === undefined) break
            after = { traceId: last.trace_id }
          }
          assert.deepEqual(got, want, q)
          const stats = await store.traces.statistics(filter, {
            groupBy: ['code'],
            distinct: null,
            top: 100,
            buckets: null,
          })
          assert.equal(stats.total, want.length, `statistics of ${q}`)
          // Groups and distinct values too, with and without hourly intervals (a block engine
          // counts these from its rollups when the search reads only their columns).
          const found = all.filter((t) => matches(t, root))
          for (const spec of SEARCH_SPECS)
            assert.deepEqual(
              await store.traces.statistics(filter, spec),
              referenceStatistics(found, filter, spec),
              `statistics of ${q} by ${spec.groupBy.join(',')}`,
            )
          const activity = await store.traces.activity(filter, NOW - 3_600_000, 600_000, 5)
          assert.equal(activity.total, want.length, `activity of ${q}`)
        }
      }))

    it('combines a search with the exact filters and the window', () =>
      withStore(factory, async (store) => {
        const all = traces(120)
        await store.traces.append(all)
        const root = parseSearch('code:>=400 OR NOT resource_name:db*')
        const from = NOW - 3_000_000
        const filter: TraceFilter = {
          ...window(),
          from,
          userName: 'bob',
          serviceType: 'IMS',
          search: { root, maxScan: 1000 },
        }
        const want = all
          .filter(
            (t) =>
              t.time > from &&
              t.user_name === 'bob' &&
              t.service_type === 'IMS' &&
              matches(t, root),
          )
          .sort((a, b) => b.time - a.time)
          .map((t) => t.trace_id)
        const page = await store.traces.page(filter, null, 200)
        assert.deepEqual(
          page.traces.map((t) => t.trace_id),
          want,
        )
      }))

    it('refuses a search over more traces than its bound, counting the exact filters', () =>
      withStore(factory, async (store) => {
        await store.traces.append(traces(120))
        const search = { root: parseSearch('code:>=400'), maxScan: 100 }
        for (const run of [
          () => store.traces.page({ ...window(), search }, null, 10),
          () =>
            store.traces.statistics(
              { ...window(), search },
              { groupBy: [], distinct: null, top: 1, buckets: null },
            ),
          () => store.traces.activity({ ...window(), search }, NOW - 3_600_000, 600_000, 5),
        ])
          await assert.rejects(
            run,
            (e: unknown) =>
              isOpenCtsError(e) &&
              e.code === 'OCTS_ERR_QUERY' &&
              /more than 100 traces/.test(e.message),
          )
        // 90 of the 120 are IMS: within the bound once the exact filter narrows the window.
        const page = await store.traces.page({ ...window(), serviceType: 'IMS', search }, null, 5)
        assert.equal(page.traces.length, 5)
        // 40 are bob's: refused by a bound of 39, not by one of 40.
        const bobs = (maxScan: number): Promise<unknown> =>
          store.traces.statistics(
            { ...window(), userName: 'bob', search: { ...search, maxScan } },
            { groupBy: [], distinct: null, top: 1, buckets: null },
          )
        await assert.rejects(bobs(39), /more than 39 traces/)
        await bobs(40)
      }))
  })
}
