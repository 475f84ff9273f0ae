/**
 * Blocks written before the dims kept `source_ip` and `code` (no codec flag 16): statistics and
 * searches on those fields read them from the documents and answer as for new blocks, also when
 * old and new blocks mix in one project.
 */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { parseSearch } from '../src/query/search-query.js'
import { decodeDims } from '../src/store/sqlite/blocks/block-codec.js'
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js'
import type { StatisticsSpec, TraceFilter } from '../src/store/index.js'
import { referenceStatistics } from './contract/trace-statistics.js'
import { matches } from './contract/trace-search.js'
import { NOW, window } from './contract/fixtures.js'
import { projectBlocks, tamper, writeBlock } from './helpers/block-tamper.js'
import { makeTrace } from './helpers/make-trace.js'

const traces = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    makeTrace({
      time: NOW - 3_000_000 + (from + i) * 1000,
      code: i % 7 === 0 ? null : String([200, 201, 403, 404, 500][i % 5]),
      source_ip: i % 6 === 0 ? null : `10.${i % 3}.${i % 5}.${i % 11}`,
      user_name: ['alice', 'bob'][i % 2] ?? 'alice',
    }),
  )

it('counts and searches source_ip and code of blocks without extra columns from their documents', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-extras-')), 'opencts.db')
  const old = traces(0, 300)
  let store = openSqliteStore({ path })
  await store.traces.append(old)
  await store.close()
  tamper(path, (db) => {
    for (const block of projectBlocks(db, 'p1')) writeBlock(db, block)
    for (const row of db.prepare('SELECT dims FROM trace_blocks').all() as { dims: Buffer }[])
      assert.equal(decodeDims(row.dims).extraBytes, null, 'rewritten as before flag 16')
  })
  store = openSqliteStore({ path })
  try {
    const fresh = traces(300, 200)
    await store.traces.append(fresh)
    const all = [...old, ...fresh]
    const spec: StatisticsSpec = {
      groupBy: ['code', 'user_name'],
      distinct: 'source_ip',
      top: 50,
      buckets: { start: NOW - 3_600_000, step: 600_000 },
    }
    assert.deepEqual(
      await store.traces.statistics(window(), spec),
      referenceStatistics(all, window(), spec),
    )
    // Counted from rollups where a block keeps codes, from documents where it does not.
    const failed = parseSearch('code:>=400')
    const byCode: StatisticsSpec = {
      groupBy: ['code'],
      distinct: 'user_name',
      top: 50,
      buckets: null,
    }
    assert.deepEqual(
      await store.traces.statistics(
        { ...window(), search: { root: failed, maxScan: 10_000 } },
        byCode,
      ),
      referenceStatistics(
        all.filter((t) => matches(t, failed)),
        window(),
        byCode,
      ),
    )
    // Source IPs under a search the rollups decide: new blocks from their extra columns alone.
    const byIp: StatisticsSpec = {
      groupBy: ['source_ip'],
      distinct: 'code',
      top: 50,
      buckets: null,
    }
    for (const search of [undefined, { root: failed, maxScan: 10_000 }])
      assert.deepEqual(
        await store.traces.statistics({ ...window(), ...(search && { search }) }, byIp),
        referenceStatistics(
          all.filter((t) => search === undefined || matches(t, search.root)),
          window(),
          byIp,
        ),
      )
    const root = parseSearch('code:>=400 OR source_ip:10.1.*')
    const filter: TraceFilter = { ...window(), search: { root, maxScan: 10_000 } }
    const page = await store.traces.page(filter, null, 200)
    const want = all
      .filter((t) => matches(t, root))
      .sort((a, b) => b.time - a.time)
      .slice(0, 200)
      .map((t) => t.trace_id)
    assert.deepEqual(
      page.traces.map((t) => t.trace_id),
      want,
    )
  } finally {
    await store.close()
  }
})
