/**
 * Tests of the embedded section's helpers (not of timings): the Zipf picker's skew, percentiles,
 * the targets table's verdicts and formatting, the /proc and /metrics parsers, NDJSON batches,
 * the tenants queried, the store's files counted, and the tenant fill through a real SQLite store.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { openStore } from '../src/store/open-store.js'
import { parseStepMetrics } from './cpu-split.js'
import { storeBytes } from './embedded-bench.js'
import { latency, percentile } from './percentiles.js'
import { parseVmRss } from './rss-sampler.js'
import { renderTargets, tally, verdict, type TargetRow } from './targets.js'
import { TenantData } from './tenant-data.js'
import { toNdjson } from './tenant-ingest.js'
import { queryRanks } from './tenant-queries.js'
import { seededRandom } from './trace-generator.js'
import { ZipfPicker } from './zipf.js'

describe('embedded bench helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opencts-bench-test-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('Zipf(1.0) over 100 ranks: shares by 1/k, picks follow them', () => {
    const zipf = new ZipfPicker(100, 1.0, seededRandom(1))
    const harmonic = Array.from({ length: 100 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b)
    assert.ok(Math.abs(zipf.share(0) - 1 / harmonic) < 1e-12)
    assert.ok(Math.abs(zipf.share(99) - 1 / 100 / harmonic) < 1e-12)
    const counts = new Array<number>(100).fill(0)
    const draws = 200_000
    for (let i = 0; i < draws; i++) {
      const k = zipf.pick()
      assert.ok(Number.isInteger(k) && k >= 0 && k < 100, `rank ${k}`)
      counts[k] = (counts[k] ?? 0) + 1
    }
    // Rank 0 ~19.3%, rank 1 ~9.6%, the last ~0.19%: well inside these bounds at 200k draws.
    assert.ok(Math.abs((counts[0] ?? 0) / draws - zipf.share(0)) < 0.005)
    assert.ok(Math.abs((counts[1] ?? 0) / draws - zipf.share(1)) < 0.004)
    assert.ok((counts[99] ?? 0) > 0 && (counts[99] ?? 0) < (counts[9] ?? 0))
    // s = 0 is uniform; n = 1 always picks 0.
    const uniform = new ZipfPicker(4, 0, seededRandom(2))
    for (let k = 0; k < 4; k++) assert.ok(Math.abs(uniform.share(k) - 0.25) < 1e-12)
    assert.equal(new ZipfPicker(1, 1, seededRandom(3)).pick(), 0)
    assert.throws(() => new ZipfPicker(0, 1, seededRandom(3)), RangeError)
  })

  it('percentiles by nearest rank', () => {
    const sample = Array.from({ length: 100 }, (_, i) => 100 - i)
    assert.equal(percentile(sample, 50), 50)
    assert.equal(percentile(sample, 99), 99)
    assert.equal(percentile(sample, 100), 100)
    assert.equal(percentile([7], 99), 7)
    assert.ok(Number.isNaN(percentile([], 50)))
    assert.deepEqual(latency([3, 1, 2]), { p50: 2, p99: 3 })
  })

  it('verdicts and the targets table', () => {
    assert.equal(verdict(25_000, { op: '>=', value: 25_000 }), 'PASS')
    assert.equal(verdict(24_999, { op: '>=', value: 25_000 }), 'FAIL')
    assert.equal(verdict(50, { op: '<', value: 50 }), 'FAIL')
    assert.equal(verdict(49.9, { op: '<', value: 50 }), 'PASS')
    assert.equal(verdict(400, { op: '<=', value: 400 }), 'PASS')
    assert.equal(verdict(Number.NaN, { op: '<=', value: 400 }), 'n/a')
    assert.equal(verdict(1, undefined), 'n/a')
    const rows: TargetRow[] = [
      {
        measure: 'ingest | JSON',
        figure: '30,000',
        value: 30_000,
        target: { op: '>=', value: 25_000 },
      },
      { measure: 'ratio', figure: '0.50', value: 0.5, target: { op: '>=', value: 0.8 } },
      { measure: 'copy', figure: '-', value: Number.NaN, target: { op: '>=', value: 1.5 } },
      { measure: 'cpu', figure: '45.0 in all', value: 45 },
    ]
    const table = renderTargets(rows)
    assert.equal(table.length, 2 + rows.length)
    assert.equal(table[2], '| ingest \\| JSON | 30,000 | >= 25,000 | PASS |')
    assert.equal(table[3], '| ratio | 0.50 | >= 0.8 | FAIL |')
    assert.equal(table[4], '| copy | - | >= 1.5 | n/a |')
    assert.equal(table[5], '| cpu | 45.0 in all | - | - |')
    assert.deepEqual(tally(rows), { PASS: 1, FAIL: 1, 'n/a': 1 })
  })

  it('reads VmRSS and per-step metrics; makes NDJSON of a JSON batch', () => {
    assert.equal(parseVmRss('Name:\tnode\nVmPeak:\t 900 kB\nVmRSS:\t  123456 kB\n'), 123456 * 1024)
    assert.equal(parseVmRss('Name:\tnode\n'), undefined)
    const metrics = [
      '# HELP opencts_ingest_step_microseconds_per_trace CPU per trace',
      'opencts_ingest_step_microseconds_per_trace{step="parse"} 9.5',
      'opencts_ingest_step_microseconds_per_trace{pool="ingest",step="hash"} 4',
      'opencts_ingest_batches_total 12',
      'opencts_http_requests_total{step="parse"} 3',
    ].join('\n')
    assert.deepEqual(parseStepMetrics(metrics), [
      { step: 'parse', microsPerTrace: 9.5 },
      { step: 'hash', microsPerTrace: 4 },
    ])
    const ndjson = toNdjson(JSON.stringify({ traces: [{ a: 1 }, { b: 'x\ny' }] }))
    assert.equal(ndjson, '{"a":1}\n{"b":"x\\ny"}\n')
  })

  it('queries the largest and the smallest tenants', () => {
    assert.deepEqual(queryRanks(100), [0, 1, 2, 97, 98, 99])
    assert.deepEqual(queryRanks(4), [0, 1, 2, 3])
    assert.deepEqual(queryRanks(1), [0])
  })

  it('counts every file of the store and nothing else', () => {
    const folder = mkdtempSync(join(dir, 'files-'))
    writeFileSync(join(folder, 'opencts.db'), Buffer.alloc(1000))
    writeFileSync(join(folder, 'opencts.db-wal'), Buffer.alloc(200))
    writeFileSync(join(folder, 'opencts.db-shm'), Buffer.alloc(30))
    writeFileSync(join(folder, 'opencts.dbx'), Buffer.alloc(5000))
    writeFileSync(join(folder, 'master.key'), Buffer.alloc(32))
    assert.equal(storeBytes(join(folder, 'opencts.db')), 1230)
  })

  it('fills a real store in stages, Zipf over tenants, in time order, with stored samples', async () => {
    const projects = Array.from({ length: 20 }, (_, k) => k.toString(16).padStart(32, '0'))
    const store = await openStore({
      url: `sqlite:${join(dir, 'fill.db')}`,
      merkle: TRACE_LOG_HASHING,
    })
    try {
      const now = Date.now()
      const data = new TenantData(projects, 3000, now)
      await data.fill(store, 1000)
      assert.equal(data.filled, 1000)
      await data.fill(store, 3000)
      assert.equal(data.filled, 3000)
      let stored = 0
      for (const [rank, projectId] of projects.entries()) {
        let after: { traceId: string } | null = null
        let previous = Number.POSITIVE_INFINITY
        for (let pages = 0; pages < 100; pages++) {
          const page = await store.traces.page(
            { projectId, from: now - 8 * 86_400_000, to: now + 1, category: 'system' },
            after,
            500,
          )
          for (const trace of page.traces) {
            assert.ok(trace.time <= previous, 'newest first')
            assert.ok(trace.time > now - 7 * 86_400_000 && trace.time < now - 3_600_000)
            previous = trace.time
          }
          stored += page.traces.length
          const last = page.traces.at(-1)
          if (!page.hasMore || last === undefined) break
          after = { traceId: last.trace_id }
        }
        for (const id of data.samples(rank).slice(0, 5))
          assert.ok((await store.traces.get(projectId, id)) !== undefined, `sample ${id}`)
      }
      assert.equal(stored, 3000)
      assert.ok(data.samples(0).length > data.samples(19).length)
    } finally {
      await store.close()
    }
  })
})
