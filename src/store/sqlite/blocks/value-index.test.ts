import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import Database from 'better-sqlite3'
import { TRACE_LOG_HASHING } from '../../../log/trace-log-hashing.js'
import type { TraceRecord } from '../../../model/index.js'
import { traceCategory, type TraceType } from '../../../model/trace.js'
import { makeTrace } from '../../../../test/helpers/make-trace.js'
import type { TraceFilter } from '../../ports/traces.js'
import { openSqliteStore } from '../sqlite-store.js'
import { firstFormValueRows } from '../../../../test/helpers/block-tamper.js'
import { walkPages } from '../../../../test/helpers/page-walk.js'
import { entryValues } from './prepare-batch.js'
import {
  decodeValueRows,
  encodeIndexedBlock,
  encodeValueRows,
  valueRowsBytes,
} from './value-index.js'

const DAY = 86_400_000
const NOW = Date.now()

/**
 * Traces of resources r-0..r-(kinds-1), `count` of them from `start`, one second apart (`tie`
 * traces share each second).
 */
function batch(
  projectId: string,
  start: number,
  count: number,
  kinds: number,
  { tie = 1, type = 'ApiCall' }: { tie?: number; type?: TraceType } = {},
): TraceRecord[] {
  return Array.from({ length: count }, (_, i) =>
    makeTrace({
      project_id: projectId,
      trace_type: type,
      time: start + Math.floor(i / tie) * 1_000,
      resource_id: `r-${(start / 1_000 + i) % kinds}`,
      resource_name: `name-${(start / 1_000 + i) % (kinds + 3)}`,
    }),
  )
}

function expected(traces: readonly TraceRecord[], filter: TraceFilter): string[] {
  return traces
    .map((t, seq) => ({ t, seq }))
    .filter(
      ({ t }) =>
        t.project_id === filter.projectId &&
        traceCategory(t) === filter.category &&
        t.time > filter.from &&
        t.time < filter.to &&
        (filter.resourceId === undefined || t.resource_id === filter.resourceId) &&
        (filter.resourceName === undefined || t.resource_name === filter.resourceName),
    )
    .sort((a, b) => b.t.time - a.t.time || b.seq - a.seq)
    .map(({ t }) => t.trace_id)
}

it('pages resource filters from the value index through merges, purges and a shared key', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-values-')), 'opencts.db')
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const stored: TraceRecord[] = []
  const append = async (traces: TraceRecord[]): Promise<void> => {
    await store.traces.append(traces)
    stored.push(...traces)
  }
  const day = Math.floor(NOW / DAY) * DAY
  const check = async (label: string): Promise<void> => {
    // What the store holds (retention may have dropped some), by a walk without a resource filter.
    const all = { projectId: 'p1', category: 'system', from: day - 3 * DAY, to: NOW + DAY } as const
    const held = new Set([
      ...(await walkPages(store.traces, all, 500)),
      ...(await walkPages(store.traces, { ...all, category: 'data' }, 500)),
    ])
    const left = stored.filter((t) => held.has(t.trace_id))
    // The whole range, one from an r-3 trace of the first big block to one of the second (both
    // bounds exclusive), and the data traces.
    const r3 = left.filter(
      (t) => t.resource_id === 'r-3' && t.time < day && traceCategory(t) === 'system',
    )
    const windows = [
      { category: 'system', from: day - 3 * DAY, to: NOW + DAY },
      { category: 'system', from: r3[2]?.time ?? 0, to: r3.at(-3)?.time ?? 0 },
      { category: 'data', from: day - 3 * DAY, to: NOW + DAY },
    ] as const
    for (const window of windows)
      for (const extra of [
        { resourceId: 'r-3' },
        { resourceId: 'r-11' },
        { resourceName: 'name-5' },
        { resourceId: 'r-4', resourceName: 'name-4' },
        { resourceId: 'r-none' },
      ])
        for (const limit of [1, 7, 200]) {
          const filter: TraceFilter = { projectId: 'p1', ...window, ...extra }
          assert.deepEqual(
            await walkPages(store.traces, filter, limit),
            expected(left, filter),
            `${label} ${JSON.stringify({ ...window, ...extra })} limit ${limit}`,
          )
        }
  }
  try {
    // Two days of big blocks, and small batches that merge (p2 interleaved).
    await append(batch('p1', day - 2 * DAY + 1_000_000, 1_500, 17))
    await append(batch('p1', day - DAY + 1_000_000, 900, 17, { tie: 3 }))
    await append(batch('p1', day - DAY + 5_000_000, 300, 11, { type: 'ObsAPI' }))
    for (let i = 0; i < 20; i++) {
      await append(batch('p1', day + 2_000_000 + i * 50_000, 5, 13))
      await append(batch('p2', day + 2_000_000 + i * 50_000, 3, 13))
    }
    await check('fresh')
    // Retention drops the oldest day's block whole and cuts into the next one.
    assert.equal(await store.traces.purgeBefore(day, 1_800), 1_800)
    await check('after purge')

    // An index listing other positions beside each value's own (as when two values share a key):
    // the page notices traces that do not hold the value and is made again from the blocks.
    await store.close()
    const db = new Database(path)
    const blocks = db.prepare('SELECT id, data AS vals FROM trace_vals').all() as {
      id: number
      vals: Buffer
    }[]
    const update = db.prepare('UPDATE trace_vals SET data = ? WHERE id = ?')
    for (const block of blocks) {
      const rows = decodeValueRows(block.vals)
      const offsets = [0]
      const positions: number[] = []
      rows.keys.forEach((_, r) => {
        const own = Array.from(rows.positions.subarray(rows.offsets[r], rows.offsets[r + 1]))
        positions.push(...new Set([...own, 0, 1, 2]))
        offsets.push(positions.length)
      })
      const wider = {
        keys: rows.keys,
        offsets: Uint32Array.from(offsets),
        positions: Uint16Array.from(positions),
        page: rows.page,
      }
      update.run(encodeValueRows(wider), block.id)
    }
    db.close()
    store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
    await check('more positions than the value holds')
  } finally {
    await store.close()
  }
})

it('pages a resource filter over blocks with page columns without their dims or strs', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-values-')), 'opencts.db')
  const day = Math.floor(NOW / DAY) * DAY
  const traces = batch('p1', day - DAY + 1_000_000, 600, 7, { tie: 2 })
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  await store.traces.append(traces)
  await store.close()
  // Dims and strs that do not decode: only the value index and the chunks can serve the page.
  const db = new Database(path)
  assert.equal(db.prepare("UPDATE trace_blocks SET dims = x'00', strs = x'00'").run().changes, 1)
  db.close()
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  try {
    const filter: TraceFilter = {
      projectId: 'p1',
      category: 'system',
      from: day - 3 * DAY,
      to: NOW + DAY,
      resourceId: 'r-3',
    }
    const page = await store.traces.page(filter, null, 50)
    assert.deepEqual(
      page.traces.map((t) => t.trace_id),
      expected(traces, filter).slice(0, 50),
    )
    assert.deepEqual(
      page.traces[0],
      traces.find((t) => t.trace_id === page.traces[0]?.trace_id),
    )
    assert.equal(page.hasMore, true)
    // The damage is there: a filter that needs the dims reports it.
    await assert.rejects(
      store.traces.page(
        {
          projectId: 'p1',
          category: 'system',
          from: filter.from,
          to: filter.to,
          serviceType: 'IMS',
        },
        null,
        50,
      ),
      /dims unreadable/,
    )
  } finally {
    await store.close()
  }
})

it('reads both forms of the value index, and writes the compact one', () => {
  const day = Math.floor(NOW / DAY) * DAY
  const traces = batch('p1', day + 1_000, 300, 40)
  const entries = traces.map((t, p) => ({
    time: t.time,
    values: entryValues(t),
    document: JSON.stringify({ ...t, p }),
  }))
  const rows = encodeIndexedBlock('p1', entries).values
  assert.ok(rows.page !== null)
  const compact = encodeValueRows(rows)
  assert.deepEqual(decodeValueRows(compact), rows)
  // What the reader's cache counts: the blob's copy and the arrays decoded out of it.
  const n = rows.keys.length
  assert.equal(
    valueRowsBytes(decodeValueRows(compact)),
    compact.length + 8 * n + 4 * (n + 1) + 4 * rows.page.ranks.length,
  )
  // Documents over 64 KiB: lengths stored 4 bytes wide.
  const wide = {
    ...rows,
    page: { ...rows.page, docLengths: rows.page.docLengths.map((n) => n * 1000) },
  }
  assert.deepEqual(decodeValueRows(encodeValueRows(wide)), wide)
  const first = firstFormValueRows(rows)
  assert.deepEqual(decodeValueRows(first), { ...rows, page: null })
  // 48-bit keys in 6 bytes, 16-bit offsets: the compact form without page columns is smaller.
  const bare = encodeValueRows({ ...rows, page: null })
  assert.equal(first.length - bare.length, 4 * rows.keys.length + 2)
  assert.throws(() => decodeValueRows(compact.subarray(0, compact.length - 2)), RangeError)
})
