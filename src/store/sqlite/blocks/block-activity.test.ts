import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { TRACE_LOG_HASHING } from '../../../log/trace-log-hashing.js'
import type { TraceRating, TraceRecord } from '../../../model/index.js'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import type { TraceActivity, TraceFilter } from '../../ports/traces.js'
import { openSqliteStore } from '../sqlite-store.js'
import { decodeDims, encodeBlock } from './block-codec.js'
import { compile } from './block-query.js'
import { buildRollup, rollupChecks, rollupPositions, RollupValues } from './block-rollup.js'
import { entryValues } from './prepare-batch.js'
import { walkPages } from '../../../../test/helpers/page-walk.js'

const HOUR = 3_600_000
const RATINGS: TraceRating[] = ['normal', 'normal', 'warning', 'incident']
const SERVICES = ['IMS', 'ECS', 'OBS']
const NAMES = ['createImage', 'deleteImage', 'updateImage', 'listImages', 'shareImage']
const USERS = ['alice', 'bob', 'carol']

/** Traces over `hours` hours before `end`, a few per batch, with varied values. */
function history(projectId: string, end: number, hours: number): TraceRecord[][] {
  const batches: TraceRecord[][] = []
  let k = 0
  for (let t = end - hours * HOUR; t < end; t += 97_000) {
    const batch: TraceRecord[] = []
    for (let i = 0; i < 7; i++, k++)
      batch.push(
        makeTrace({
          project_id: projectId,
          time: t + i * 1_000,
          service_type: SERVICES[k % 3] ?? 'IMS',
          trace_name: NAMES[(k * 7) % 5] ?? 'createImage',
          trace_rating: RATINGS[(k * 3) % 4] ?? 'normal',
          user_name: USERS[(k * 5) % 3] ?? 'alice',
          resource_type: k % 2 === 0 ? 'image' : 'member',
        }),
      )
    batches.push(batch)
  }
  return batches
}

/** Whether a trace holds every value of a filter's rollup columns (those the tests use). */
function matches(t: TraceRecord, extra: Partial<TraceFilter>): boolean {
  return (
    (extra.userName === undefined || t.user_name === extra.userName) &&
    (extra.traceRating === undefined || t.trace_rating === extra.traceRating) &&
    (extra.serviceType === undefined || t.service_type === extra.serviceType) &&
    (extra.traceName === undefined || t.trace_name === extra.traceName) &&
    (extra.resourceType === undefined || t.resource_type === extra.resourceType)
  )
}

/** Activity counted trace by trace from the traces themselves. */
function expected(
  traces: readonly TraceRecord[],
  filter: TraceFilter,
  start: number,
  step: number,
  top: number,
): TraceActivity {
  const buckets = new Map<
    number,
    { index: number; normal: number; warning: number; incident: number }
  >()
  const ops = new Map<string, TraceActivity['operations'][number]>()
  let total = 0
  for (const t of traces) {
    if (t.project_id !== filter.projectId || t.time <= filter.from || t.time >= filter.to) continue
    if (filter.serviceType !== undefined && t.service_type !== filter.serviceType) continue
    if (filter.traceName !== undefined && t.trace_name !== filter.traceName) continue
    if (filter.traceRating !== undefined && t.trace_rating !== filter.traceRating) continue
    if (filter.userName !== undefined && t.user_name !== filter.userName) continue
    const index = Math.trunc((t.time - start) / step)
    let b = buckets.get(index)
    if (b === undefined) buckets.set(index, (b = { index, normal: 0, warning: 0, incident: 0 }))
    const rating =
      t.trace_rating === 'warning' || t.trace_rating === 'incident' ? t.trace_rating : 'normal'
    b[rating]++
    const key = `${t.service_type}\u0000${t.trace_name}`
    let o = ops.get(key)
    if (o === undefined)
      ops.set(
        key,
        (o = {
          serviceType: t.service_type,
          traceName: t.trace_name,
          count: 0,
          warning: 0,
          incident: 0,
        }),
      )
    o.count++
    if (rating !== 'normal') o[rating]++
    total++
  }
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0)
  return {
    buckets: [...buckets.values()].sort((x, y) => x.index - y.index),
    operations: [...ops.values()]
      .sort(
        (x, y) =>
          y.count - x.count || cmp(x.serviceType, y.serviceType) || cmp(x.traceName, y.traceName),
      )
      .slice(0, top),
    total,
  }
}

it('counts activity from block rollups as trace by trace, at every window edge and filter', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-activity-')), 'opencts.db')
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR
  const all: TraceRecord[] = []
  try {
    const a = history('pa', end, 30)
    const b = history('pb', end, 30)
    for (let i = 0; i < a.length; i++) {
      await store.traces.append(a[i] ?? [])
      await store.traces.append(b[i] ?? [])
      all.push(...(a[i] ?? []), ...(b[i] ?? []))
    }
    const sorted = (x: TraceActivity): TraceActivity => ({
      ...x,
      buckets: [...x.buckets].sort((p, q) => p.index - q.index),
    })
    const windows = [
      { from: end - 30 * HOUR - 1, to: end + 1 }, // everything: whole blocks from rollups
      { from: end - 20 * HOUR + 1_234_567, to: end - 3 * HOUR - 777 }, // edges cut blocks
    ]
    const filters: Partial<TraceFilter>[] = [
      {},
      { serviceType: 'ECS' },
      { traceRating: 'warning' },
      { traceName: 'deleteImage', traceRating: 'incident' },
      { userName: 'bob' }, // kept per trace in the rollup
      { userName: 'carol', traceRating: 'warning' }, // per trace and grouped
      { userName: 'nobody' },
      { serviceType: 'nope' },
    ]
    for (const window of windows)
      for (const step of [HOUR, 6 * HOUR, 60_000])
        for (const extra of filters) {
          const filter: TraceFilter = { projectId: 'pa', category: 'system', ...window, ...extra }
          const start = Math.floor(window.from / step) * step
          const want = expected(all, filter, start, step, 5)
          assert.ok(
            extra.serviceType === 'nope' || extra.userName === 'nobody' || want.total > 0,
            'the case counts something',
          )
          // Twice: the first builds the rollups, the second reads them from memory.
          for (let round = 0; round < 2; round++)
            assert.deepEqual(
              sorted(await store.traces.activity(filter, start, step, 5)),
              want,
              `${JSON.stringify({ window, step, extra, round })}`,
            )
        }
  } finally {
    await store.close()
  }
})

it('pages skip blocks by their rollups and still return every match, newest first', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-activity-')), 'opencts.db')
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR
  const all: TraceRecord[] = []
  try {
    for (const batch of history('pa', end, 12)) {
      await store.traces.append(batch)
      all.push(...batch)
    }
    const window = { from: end - 12 * HOUR - 1, to: end + 1 }
    // history() gives bob only OBS traces: bob with ECS is a pair of known values that no trace has.
    const none = [{ userName: 'bob', serviceType: 'ECS' }, { userName: 'nobody' }]
    const filters: Partial<TraceFilter>[] = [
      { userName: 'bob', traceRating: 'incident', serviceType: 'OBS' },
      { traceName: 'shareImage', userName: 'carol', traceRating: 'warning' },
      { serviceType: 'OBS', traceRating: 'warning' },
      { resourceType: 'member', userName: 'alice' },
      ...none,
    ]
    const check = async (label: string): Promise<void> => {
      for (const extra of filters)
        for (const limit of [5, 200]) {
          const filter: TraceFilter = { projectId: 'pa', category: 'system', ...window, ...extra }
          const want = all
            .filter((t) => matches(t, extra))
            .sort((x, y) => y.time - x.time)
            .slice(0, limit)
            .map((t) => t.trace_id)
          assert.equal(
            want.length === 0,
            none.includes(extra as never),
            'the case matches something',
          )
          const page = await store.traces.page(filter, null, limit)
          assert.deepEqual(
            page.traces.map((t) => t.trace_id),
            want,
            `${label} ${JSON.stringify({ extra, limit })}`,
          )
        }
    }
    await check('without rollups')
    // Whole hours over the whole window: every block inside gets its rollup.
    await store.traces.activity(
      { projectId: 'pa', category: 'system', ...window },
      Math.floor(window.from / HOUR) * HOUR,
      HOUR,
      5,
    )
    await check('with rollups')
  } finally {
    await store.close()
  }
})

it('pages take the matches of cached rollups across markers and tied times', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-activity-')), 'opencts.db')
  const store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR
  const all: TraceRecord[] = []
  try {
    // Three traces of a batch share each second: the page order breaks those ties by seq.
    for (const batch of history('pt', end, 8)) {
      const tied = batch.map((t, i) => ({ ...t, time: t.time - (i % 3) * 1_000 }))
      await store.traces.append(tied)
      all.push(...tied)
    }
    const window = { from: end - 8 * HOUR - 1, to: end + 1 }
    const filters: Partial<TraceFilter>[] = [
      { userName: 'bob', traceRating: 'incident', serviceType: 'OBS' },
      { userName: 'carol' },
      { serviceType: 'ECS', traceRating: 'warning' },
      { traceName: 'shareImage', userName: 'alice' },
    ]
    const newestFirst = all
      .map((t, seq) => ({ t, seq }))
      .sort((x, y) => y.t.time - x.t.time || y.seq - x.seq)
      .map(({ t }) => t)
    const check = async (label: string): Promise<void> => {
      for (const extra of filters) {
        const filter: TraceFilter = { projectId: 'pt', category: 'system', ...window, ...extra }
        const want = newestFirst.filter((t) => matches(t, extra)).map((t) => t.trace_id)
        assert.ok(want.length > 20, 'the case matches several pages')
        for (const limit of [1, 4, 200])
          assert.deepEqual(
            await walkPages(store.traces, filter, limit),
            want,
            `${label} ${JSON.stringify({ extra, limit })}`,
          )
      }
    }
    await check('without rollups')
    await store.traces.activity(
      { projectId: 'pt', category: 'system', ...window },
      Math.floor(window.from / HOUR) * HOUR,
      HOUR,
      5,
    )
    await check('with rollups')
  } finally {
    await store.close()
  }
})

it('finds the positions a rollup shows for a filter, or says there are more than asked', () => {
  const end = Math.floor(Date.now() / HOUR) * HOUR
  const traces = history('pr', end, 3).flat()
  const block = encodeBlock(
    traces.map((t) => ({ time: t.time, values: entryValues(t), document: '{}' })),
  )
  const values = new RollupValues()
  const rollup = buildRollup(decodeDims(Buffer.from(block.dims)), values)
  assert.ok(rollup !== undefined)
  const cases: Partial<TraceFilter>[] = [
    { userName: 'bob' },
    { userName: 'bob', traceRating: 'incident', serviceType: 'OBS' },
    { traceName: 'shareImage', userName: 'carol', traceRating: 'warning' },
    { serviceType: 'ECS' },
    { userName: 'nobody' },
  ]
  for (const extra of cases) {
    const filter: TraceFilter = { projectId: 'pr', category: 'system', from: 0, to: end, ...extra }
    const want = traces.flatMap((t, p) => (matches(t, extra) ? [p] : []))
    const checks = rollupChecks(compile(filter), values)
    assert.deepEqual(Array.from(rollupPositions(rollup, checks, traces.length) ?? []), want)
    // One fewer than the matches allowed: there are more.
    if (want.length > 0) assert.equal(rollupPositions(rollup, checks, want.length - 1), undefined)
    else assert.equal(extra.userName, 'nobody')
  }
})
