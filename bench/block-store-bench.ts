/**
 * @module bench/block-store-bench
 * In-process measurements of the SQLite block store (issue 16): the append rate of 1,000-trace
 * batches (`prepareBatch`, the ingest worker's part, and `appendPrepared`, the event loop's part,
 * timed apart) into an empty store and near `TOTAL` traces, the bytes per trace on disk, the open
 * time (directory and key filter), and page latencies for a few filters at `TOTAL` traces across
 * `PROJECTS` projects (the big tenant gets 20% of the batches). Merkle log on.
 *
 *   node .test-build/bench/block-store-bench.js [total=1000000] [projects=100]
 */
import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import type { TraceRecord } from '../src/model/index.js'
import { normalizeTrace } from '../src/model/normalize-trace.js'
import type { TraceFilter } from '../src/store/index.js'
import { openSqliteStore } from '../src/store/sqlite/index.js'
import { prepareBatch } from '../src/store/sqlite/blocks/prepare-batch.js'
import { latency } from './percentiles.js'
import { TraceGenerator, seededRandom } from './trace-generator.js'

const TOTAL = Number(process.argv[2] ?? 1_000_000)
const PROJECTS = Number(process.argv[3] ?? 100)
const BATCH = 1_000
const DAY = 86_400_000
const NOW = Date.now()

function project(i: number): string {
  return `p${String(i).padStart(3, '0')}`
}

function batchOf(gen: TraceGenerator, projectId: string, time: number): TraceRecord[] {
  const out: TraceRecord[] = []
  for (let i = 0; i < BATCH; i++) {
    const r = normalizeTrace(gen.next(time + i), { projectId, now: time + i, newId: randomUUID })
    if (r.ok) out.push(r.trace)
  }
  return out
}

async function main(): Promise<void> {
  const path = join(mkdtempSync(join(tmpdir(), 'opencts-bench-')), 'opencts.db')
  let store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  const gen = new TraceGenerator(1)
  const random = seededRandom(2)
  const batches = Math.ceil(TOTAL / BATCH)
  const samples: { prepare: number; append: number; hash: number }[] = []
  const keepIds: { projectId: string; traceId: string; resourceId: string; user: string }[] = []
  for (let b = 0; b < batches; b++) {
    const projectId =
      random() < 0.2 ? project(0) : project(1 + Math.floor(random() * (PROJECTS - 1)))
    // Times advance over 6 days as the store fills.
    const time = NOW - 6 * DAY + Math.floor((b / batches) * 6 * DAY)
    const traces = batchOf(gen, projectId, time)
    const t0 = performance.now()
    const documents = traces.map((t) => TRACE_LOG_HASHING.document(t))
    const leafHashes = documents.map((d) => TRACE_LOG_HASHING.leafHash(d))
    const t1 = performance.now()
    const prepared = prepareBatch({ projectId, traces, documents, leafHashes })
    const t2 = performance.now()
    await store.traces.appendPrepared(prepared)
    const t3 = performance.now()
    samples.push({ hash: t1 - t0, prepare: t2 - t1, append: t3 - t2 })
    const pick = traces[Math.floor(random() * traces.length)]
    if (pick !== undefined && b % 7 === 0)
      keepIds.push({
        projectId,
        traceId: pick.trace_id,
        resourceId: pick.resource_id ?? '',
        user: pick.user_name ?? '',
      })
    if (b % 100 === 0) process.stderr.write(`${b * BATCH} traces\n`)
  }
  const rate = (list: typeof samples, key: 'prepare' | 'append' | 'hash'): number =>
    Math.round((list.length * BATCH * 1000) / list.reduce((s, x) => s + x[key], 0))
  const first = samples.slice(0, 50)
  const last = samples.slice(-50)
  console.log(`traces ${batches * BATCH}, projects ${PROJECTS}, batch ${BATCH}`)
  for (const [name, list] of [
    ['empty store (first 50 batches)', first],
    [`at ${TOTAL} traces (last 50 batches)`, last],
  ] as const)
    console.log(
      `${name}: appendPrepared ${rate(list, 'append')} traces/s (main thread), prepareBatch ${rate(list, 'prepare')} traces/s per worker, document+leaf hash ${rate(list, 'hash')} traces/s per worker`,
    )
  await store.close()
  const o0 = performance.now()
  store = openSqliteStore({ path, merkle: TRACE_LOG_HASHING })
  console.log(`reopen (directory + key filter): ${Math.round(performance.now() - o0)} ms`)
  const bytes =
    statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)
  console.log(
    `file ${(bytes / 1e6).toFixed(1)} MB, ${Math.round(bytes / (batches * BATCH))} bytes per trace`,
  )

  const window = (projectId: string): TraceFilter => ({
    projectId,
    from: NOW - 7 * DAY,
    to: NOW + DAY,
    category: 'system',
  })
  const pickId = (): (typeof keepIds)[number] =>
    keepIds[Math.floor(random() * keepIds.length)] ?? (keepIds[0] as (typeof keepIds)[number])
  const cases: [string, () => Promise<unknown>][] = [
    ['big tenant, no filter', () => store.traces.page(window(project(0)), null, 50)],
    ['small tenant, no filter', () => store.traces.page(window(project(5)), null, 50)],
    [
      'resource id (few traces)',
      () => {
        const k = pickId()
        return store.traces.page({ ...window(k.projectId), resourceId: k.resourceId }, null, 50)
      },
    ],
    [
      'big tenant, incident rating',
      () => store.traces.page({ ...window(project(0)), traceRating: 'incident' }, null, 50),
    ],
    [
      'big tenant, user + service',
      () => {
        const k = pickId()
        return store.traces.page(
          { ...window(project(0)), userName: k.user, serviceType: 'DNS' },
          null,
          50,
        )
      },
    ],
    [
      'big tenant, rare op + incident',
      () =>
        store.traces.page(
          { ...window(project(0)), traceName: 'deleteSubnet', traceRating: 'incident' },
          null,
          50,
        ),
    ],
    [
      'deep page (marker 1 day back)',
      async () => {
        const p = await store.traces.page({ ...window(project(0)), to: NOW - 3 * DAY }, null, 1)
        const id = p.traces[0]?.trace_id ?? ''
        return store.traces.page(window(project(0)), { traceId: id }, 50)
      },
    ],
    [
      'get by id',
      () => {
        const k = pickId()
        return store.traces.get(k.projectId, k.traceId)
      },
    ],
  ]
  for (const [name, run] of cases) {
    const times: number[] = []
    for (let i = 0; i < 100; i++) {
      const t0 = performance.now()
      await run()
      times.push(performance.now() - t0)
    }
    const l = latency(times)
    console.log(`page ${name}: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms`)
  }
  await store.close()
}

await main()
