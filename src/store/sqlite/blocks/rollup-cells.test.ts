/** RollupCells: dense counts over rollups resolve to what the string tally counts trace by trace. */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { TraceFilter } from '../../ports/traces.js'
import type { StatisticsSpec } from '../../store.js'
import { StatisticsTally } from '../../statistics-tally.js'
import type { TraceRecord } from '../../../model/index.js'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import { decodeDims, encodeBlock } from './block-codec.js'
import { compile } from './block-query.js'
import { buildRollup, rollupChecks, ROLLUP_FILTER_COLUMNS, RollupValues } from './block-rollup.js'
import { IdTally } from './id-tally.js'
import { entryValues } from './prepare-batch.js'
import { RollupCells } from './rollup-cells.js'

const T0 = Date.UTC(2026, 11, 1)

/** Block k: users and operations of its own (the later blocks bring many new values). */
function block(k: number, users: number): TraceRecord[] {
  const traces: TraceRecord[] = []
  for (let i = 0; i < 300; i++)
    traces.push(
      makeTrace({
        project_id: 'pr',
        time: T0 + k * 3_600_000 + i * 1_000,
        user_name: i % 11 === 10 ? null : `user-${k}-${(i * 7) % users}`,
        trace_name: ['createImage', 'deleteImage', `op-${k}-${i % 5}`][i % 3] ?? 'x',
        service_type: ['IMS', 'ECS', 'OBS', 'EVS'][(i * 3) % 4] ?? 'IMS',
        trace_rating: i % 4 === 0 ? 'warning' : 'normal',
      }),
    )
  return traces
}

function statistics(
  blocks: readonly TraceRecord[][],
  spec: StatisticsSpec,
  extra: Partial<TraceFilter>,
): { direct: unknown; cells: unknown } {
  const filter: TraceFilter = { projectId: 'pr', category: 'system', from: 0, to: 2 * T0, ...extra }
  const field = (t: TraceRecord, name: string): string | null =>
    (t as unknown as Record<string, string | null>)[name] ?? null
  const direct = new StatisticsTally(spec)
  for (const t of blocks.flat()) {
    if (extra.userName !== undefined && t.user_name !== extra.userName) continue
    if (extra.traceRating !== undefined && t.trace_rating !== extra.traceRating) continue
    direct.add(
      spec.groupBy.map((f) => field(t, f)),
      spec.distinct === null ? null : field(t, spec.distinct),
      0,
      1,
    )
  }
  const values = new RollupValues()
  const at = {
    group: spec.groupBy.map((f) => ROLLUP_FILTER_COLUMNS.indexOf(f)),
    distinct: spec.distinct === null ? null : ROLLUP_FILTER_COLUMNS.indexOf(spec.distinct),
  }
  const ids = new IdTally(spec)
  const [fa, fb, fd] = ids.fields
  const resolve = (column: number | null | undefined, id: number): string | null =>
    id === 0 || column === null || column === undefined ? null : values.value(column, id)
  const mapped = {
    a: fa.through((id) => resolve(at.group[0], id)),
    b: fb.through((id) => resolve(at.group[1], id)),
    d: fd.through((id) => resolve(at.distinct, id)),
  }
  const cells = RollupCells.create(values, at)
  assert.ok(cells !== undefined)
  for (const traces of blocks) {
    const encoded = encodeBlock(
      traces.map((t) => ({ time: t.time, values: entryValues(t), document: '{}' })),
    )
    const rollup = buildRollup(decodeDims(Buffer.from(encoded.dims)), values)
    assert.ok(rollup !== undefined)
    assert.ok(cells.ready(values, ids, mapped))
    const checks = rollupChecks(compile(filter), values)
    if (checks !== null) cells.add(rollup, checks)
  }
  cells.flush(ids, mapped)
  const tally = new StatisticsTally(spec)
  ids.into(tally)
  return { direct: direct.result(), cells: tally.result() }
}

const SPECS: StatisticsSpec[] = [
  { groupBy: ['user_name'], distinct: 'trace_name', top: 1000, buckets: null },
  { groupBy: ['user_name', 'trace_name'], distinct: null, top: 1000, buckets: null },
  { groupBy: ['trace_name', 'user_name'], distinct: 'service_type', top: 1000, buckets: null },
  { groupBy: ['service_type', 'trace_rating'], distinct: 'user_name', top: 1000, buckets: null },
  { groupBy: ['service_type'], distinct: 'trace_name', top: 3, buckets: null },
  { groupBy: [], distinct: 'user_name', top: 1000, buckets: null },
]

it('counts rollups as the string tally counts their traces, across arrays that grow', () => {
  // Block 0 has 3 users; block 1 brings 60 more, past the arrays' room (2 n + 16): they grow.
  const blocks = [block(0, 3), block(1, 60), block(2, 5)]
  for (const spec of SPECS)
    for (const extra of [{}, { userName: 'user-1-7' }, { traceRating: 'warning' as const }]) {
      const { direct, cells } = statistics(blocks, spec, extra)
      assert.deepEqual(cells, direct, `${JSON.stringify(spec)} ${JSON.stringify(extra)}`)
    }
})

it('says no when the cells would be too many', () => {
  const values = new RollupValues()
  const dict = [null, ...Array.from({ length: 3_000 }, (_, i) => `v${i}`)]
  values.intern(4, dict)
  values.intern(6, dict)
  const at = { group: [4, 6], distinct: null }
  assert.equal(RollupCells.create(values, at), undefined)
  assert.ok(RollupCells.create(values, { group: [4], distinct: null }) !== undefined)
})
