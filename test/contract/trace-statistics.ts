/**
 * The contract of `TraceStore.statistics`: every engine counts what a plain reference count over
 * the same traces gives — groups by one or two fields (nulls a group of their own), the top groups
 * and the folded rest, distinct values (nulls not counted), intervals, the filter and the window's
 * exclusive bounds — and reads `source_ip` and `code` as the traces say them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TraceRecord } from '../../src/model/index.js'
import type {
  StatField,
  StatisticsSpec,
  TraceFilter,
  TraceStatistics,
} from '../../src/store/index.js'
import { makeTrace } from '../helpers/make-trace.js'
import type { StoreFactory } from './engines.js'
import { NOW, window, withStore } from './fixtures.js'

/** The value of a statistics field of a trace. */
function fieldOf(t: TraceRecord, field: StatField): string | null {
  return t[field] ?? null
}

/** What `statistics` must answer, counted the plain way over every trace. */
export function referenceStatistics(
  traces: readonly TraceRecord[],
  filter: TraceFilter,
  spec: StatisticsSpec,
): TraceStatistics {
  const matching = traces.filter(
    (t) =>
      t.project_id === filter.projectId &&
      t.time > filter.from &&
      t.time < filter.to &&
      (filter.serviceType === undefined || t.service_type === filter.serviceType) &&
      (filter.userName === undefined || t.user_name === filter.userName),
  )
  const groups = new Map<
    string,
    { values: (string | null)[]; count: number; d: Set<string>; b: Map<number, number> }
  >()
  for (const t of matching) {
    const values = spec.groupBy.map((f) => fieldOf(t, f))
    const key = JSON.stringify(values)
    let g = groups.get(key)
    if (g === undefined) groups.set(key, (g = { values, count: 0, d: new Set(), b: new Map() }))
    g.count++
    const d = spec.distinct === null ? null : fieldOf(t, spec.distinct)
    if (d !== null) g.d.add(d)
    if (spec.buckets !== null) {
      const i = Math.floor((t.time - spec.buckets.start) / spec.buckets.step)
      g.b.set(i, (g.b.get(i) ?? 0) + 1)
    }
  }
  const cmp = (x: string | null, y: string | null): number =>
    x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1
  const sorted = [...groups.values()].sort(
    (x, y) =>
      y.count - x.count || x.values.reduce((c, v, i) => c || cmp(v, y.values[i] ?? null), 0),
  )
  if (sorted.length === 0 && spec.groupBy.length === 0)
    sorted.push({ values: [], count: 0, d: new Set(), b: new Map() })
  const counts = (g: { count: number; d: Set<string>; b: Map<number, number> }) => ({
    count: g.count,
    distinct: spec.distinct === null ? null : g.d.size,
    buckets:
      spec.buckets === null
        ? null
        : [...g.b].sort((x, y) => x[0] - y[0]).map(([index, count]) => ({ index, count })),
  })
  const rest = sorted.slice(spec.top)
  const folded = { count: 0, d: new Set<string>(), b: new Map<number, number>() }
  for (const g of rest) {
    folded.count += g.count
    for (const v of g.d) folded.d.add(v)
    for (const [i, n] of g.b) folded.b.set(i, (folded.b.get(i) ?? 0) + n)
  }
  return {
    total: matching.length,
    groups: sorted.slice(0, spec.top).map((g) => ({ values: g.values, ...counts(g) })),
    other: rest.length === 0 ? null : { ...counts(folded), groups: rest.length },
  }
}

const SERVICES = ['IMS', 'ECS', 'CTS', 'OBS']
const NAMES = ['createImage', 'deleteImage', 'updateImage', 'listImages', 'shareImage']
const USERS = ['alice', 'bob', 'carol', null]
const CODES = ['200', '201', '400', '403', '404', '500', null]

/** `n` traces over the last hour, spread over every field (deterministic). */
function spreadTraces(n: number): TraceRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const user = USERS[i % USERS.length] ?? null
    return makeTrace({
      time: NOW - 3_599_000 + ((i * 7919) % 3_599_000),
      service_type: SERVICES[(i * 3) % SERVICES.length] ?? 'IMS',
      trace_name: NAMES[(i * 5 + (i >> 3)) % NAMES.length] ?? 'createImage',
      trace_rating: i % 11 === 0 ? 'warning' : i % 29 === 0 ? 'incident' : 'normal',
      user_name: user,
      user:
        user === null ? null : { id: `u-${user}`, name: user, domain: { id: 'd1', name: 'acme' } },
      code: CODES[(i * 13) % CODES.length] ?? null,
      source_ip: i % 17 === 0 ? null : `10.0.${i % 3}.${(i * 31) % 250}`,
      access_key_id: i % 5 === 0 ? `AK${i % 4}` : null,
    })
  })
}

export function traceStatisticsContract(name: string, factory: StoreFactory): void {
  describe(`trace statistics contract: ${name}`, () => {
    const specs: [string, Partial<StatisticsSpec>, Partial<TraceFilter>?][] = [
      ['the total alone', {}],
      ['by service, top 2 and the rest', { groupBy: ['service_type'], top: 2 }],
      ['by service and operation', { groupBy: ['service_type', 'trace_name'], top: 50 }],
      [
        'by user with nulls, distinct source IPs',
        { groupBy: ['user_name'], distinct: 'source_ip' },
      ],
      [
        'by code, per 10 minutes',
        { groupBy: ['code'], buckets: { start: NOW - 3_600_000, step: 600_000 } },
      ],
      [
        'by source IP and code, distinct users, per 15 min, top 5',
        {
          groupBy: ['source_ip', 'code'],
          distinct: 'user_name',
          top: 5,
          buckets: { start: NOW - 3_600_000, step: 900_000 },
        },
      ],
      ['by rating and access key', { groupBy: ['trace_rating', 'access_key_id'] }],
      [
        'distinct operations per user, filtered by service',
        { groupBy: ['user_name'], distinct: 'trace_name' },
        { serviceType: 'IMS' },
      ],
      ['by resource type under a user filter', { groupBy: ['resource_type'] }, { userName: 'bob' }],
    ]

    it('counts what a plain count of the same traces gives, for every kind of grouping', () =>
      withStore(factory, async (store) => {
        const traces = spreadTraces(600)
        const outside = [
          makeTrace({ time: NOW - 3_600_000, code: '999' }), // on the exclusive lower bound
          makeTrace({ time: NOW + 1, code: '999' }), // on the exclusive upper bound
          makeTrace({ time: NOW - 10, project_id: 'p2', code: '999' }),
        ]
        for (let at = 0; at < traces.length; at += 150)
          await store.traces.append(traces.slice(at, at + 150))
        await store.traces.append(outside)
        const all = [...traces, ...outside]
        for (const [label, partial, narrow] of specs) {
          const spec: StatisticsSpec = {
            groupBy: [],
            distinct: null,
            top: 10,
            buckets: null,
            ...partial,
          }
          const filter = { ...window(), ...narrow }
          const got = await store.traces.statistics(filter, spec)
          assert.deepEqual(got, referenceStatistics(all, filter, spec), label)
        }
        const codes = await store.traces.statistics(window(), {
          groupBy: ['code'],
          distinct: null,
          top: 100,
          buckets: null,
        })
        assert.ok(
          !codes.groups.some((g) => g.values[0] === '999'),
          'traces on the bounds and of another project are not counted',
        )
        assert.equal(codes.total, traces.length)
      }))

    it('answers an empty window with zero and no groups', () =>
      withStore(factory, async (store) => {
        const empty = await store.traces.statistics(window(), {
          groupBy: ['user_name'],
          distinct: 'code',
          top: 10,
          buckets: { start: NOW - 3_600_000, step: 60_000 },
        })
        assert.deepEqual(empty, { total: 0, groups: [], other: null })
        const total = await store.traces.statistics(window(), {
          groupBy: [],
          distinct: 'code',
          top: 10,
          buckets: null,
        })
        assert.deepEqual(total, {
          total: 0,
          groups: [{ values: [], count: 0, distinct: 0, buckets: null }],
          other: null,
        })
      }))
  })
}
