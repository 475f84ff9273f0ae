/**
 * @module bench/block-query-lab
 * Standalone (not part of `npm run bench`): fills an embedded store in-process with the bench's
 * tenant data (`fill DIR N`), then times ListTraces pages and activity counts on it in-process
 * (`query DIR`), per filter and limit, to study the block engine's query path without HTTP, or the
 * insight job's throughput on it (`insights DIR SECONDS`), or the bench's statistics row with and
 * without the insight job running (`mix DIR QUERIES`), or the first and repeated source-IP counts of
 * a day (`cold DIR RANKS`).
 */
import { writeFileSync, readFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { TRACE_LOG_HASHING } from '../src/log/trace-log-hashing.js'
import { openStore } from '../src/store/open-store.js'
import type { Store, TraceFilter } from '../src/store/index.js'
import { parseStatisticsQuery } from '../src/query/index.js'
import { STATISTICS_SHAPES } from './tenant-queries.js'
import { projectId } from './postgres-bench.js'
import { TenantData } from './tenant-data.js'
import { queryRanks, tenantQueries } from './tenant-queries.js'
import { seededRandom, vocabulary } from './trace-generator.js'
import { SelfAudit } from '../src/ingest/index.js'
import { CYCLE_BUDGET_MS, InsightJob } from '../src/insights/insight-job.js'
import { DEFAULT_DETECTOR_SETTINGS } from '../src/insights/detectors/settings.js'
import { randomIds, systemClock } from '../src/platform/clock.js'

const KEYS: Record<string, keyof TraceFilter> = {
  resource_id: 'resourceId',
  resource_name: 'resourceName',
  resource_type: 'resourceType',
  service_type: 'serviceType',
  trace_name: 'traceName',
  trace_rating: 'traceRating',
  user: 'userName',
  tracker_name: 'trackerName',
}

async function fill(dir: string, total: number): Promise<void> {
  mkdirSync(dir, { recursive: true })
  const store = await openStore({
    url: `sqlite:${join(dir, 'opencts.db')}`,
    merkle: TRACE_LOG_HASHING,
  })
  const ids = Array.from({ length: 100 }, (_, i) => projectId(i))
  const data = new TenantData(ids, total)
  await data.fill(store, total)
  await store.close()
  const samples = queryRanks(100).map((r) => [r, data.samples(r)])
  writeFileSync(join(dir, 'lab.json'), JSON.stringify({ ids, samples, made: Date.now() }))
}

function pct(times: number[], q: number): number {
  const s = [...times].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0
}

async function query(dir: string, rounds: number, only: string | undefined): Promise<void> {
  const lab = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as {
    ids: string[]
    samples: [number, string[]][]
  }
  const store = await openStore({
    url: `sqlite:${join(dir, 'opencts.db')}`,
    merkle: TRACE_LOG_HASHING,
  })
  // A serving store builds activity rollups while idle: LAB_WARM_SECONDS of idle time first.
  const warm = Number(process.env.LAB_WARM_SECONDS ?? 0)
  if (warm > 0) await new Promise((resolve) => setTimeout(resolve, warm * 1000))
  const samples = new Map(lab.samples)
  const ranks = queryRanks(100)
  const random = seededRandom(31)
  const now = Date.now()
  for (const c of tenantQueries(vocabulary())) {
    if (c.name === 'trace_id' || c.pages > 1) continue
    if (only !== undefined && !c.name.startsWith(only)) continue
    for (const limit of [10, 200]) {
      const times: number[] = []
      const slow: { ms: number; rank: number; rows: number }[] = []
      let total = 0
      for (let i = 0; i < rounds; i++) {
        const rank = ranks[Math.floor(random() * ranks.length)] ?? 0
        const params = c.params(samples.get(rank) ?? [])
        const filter: Record<string, unknown> = {
          projectId: lab.ids[rank],
          from: now - 7 * 86_400_000 + 60_000,
          to: now,
        }
        for (const [k, v] of Object.entries(params)) filter[KEYS[k] ?? k] = v
        const started = performance.now()
        const page = await store.traces.page(
          { category: 'system', ...filter } as unknown as TraceFilter,
          null,
          limit,
        )
        const ms = performance.now() - started
        times.push(ms)
        slow.push({ ms, rank, rows: page.traces.length })
        total += page.traces.length
      }
      const worst = slow.sort((a, b) => b.ms - a.ms).slice(0, 3)
      console.log(
        `${c.name.padEnd(48)} limit ${String(limit).padStart(3)}: p50 ${pct(times, 0.5).toFixed(1).padStart(7)} p99 ${pct(times, 0.99).toFixed(1).padStart(7)} ms  mean rows ${(total / rounds).toFixed(0)}; slowest ${worst.map((w) => `${w.ms.toFixed(0)} ms (tenant ${w.rank}, ${w.rows} rows)`).join(', ')}`,
      )
    }
  }
  if (only === undefined || only === 'activity') {
    const times: number[] = []
    const filters = [
      {},
      { serviceType: vocabulary().services[0] },
      { userName: vocabulary().users[3] },
      { traceRating: 'warning' },
    ]
    for (let i = 0; i < rounds; i++) {
      const rank = ranks[Math.floor(random() * ranks.length)] ?? 0
      const step = 6 * 3_600_000
      const from = now - 7 * 86_400_000 + 60_000
      const started = performance.now()
      await store.traces.activity(
        {
          projectId: lab.ids[rank] ?? '',
          from,
          to: now,
          category: 'system',
          ...filters[i % 4],
        } as unknown as TraceFilter,
        Math.floor(from / step) * step,
        step,
        8,
      )
      times.push(performance.now() - started)
    }
    console.log(`activity p50 ${pct(times, 0.5).toFixed(1)} p99 ${pct(times, 0.99).toFixed(1)} ms`)
  }
  if (only === undefined || only === 'statistics') {
    for (const days of [1, 7]) {
      for (const params of STATISTICS_SHAPES) {
        const times: number[] = []
        let refused = 0
        for (let i = 0; i < Math.max(3, Math.floor(rounds / 10)); i++) {
          const rank = ranks[Math.floor(random() * ranks.length)] ?? 0
          const started = performance.now()
          try {
            const { filter, spec } = parseStatisticsQuery(
              { ...params, from: String(now - days * 86_400_000 + 60_000), to: String(now) },
              { projectId: lab.ids[rank] ?? '', now, retentionMs: 7 * 86_400_000 },
            )
            await store.traces.statistics(filter, spec)
          } catch {
            refused++
          }
          times.push(performance.now() - started)
        }
        console.log(
          `statistics ${days} d ${new URLSearchParams(params).toString().padEnd(56)} p50 ${pct(times, 0.5).toFixed(1).padStart(7)} p99 ${pct(times, 0.99).toFixed(1).padStart(7)} ms${refused > 0 ? ` (${refused} refused)` : ''}`,
        )
      }
    }
  }
  const memory = process.memoryUsage()
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`
  console.log(
    `rss ${mib(memory.rss)}, heap used ${mib(memory.heapUsed)} of ${mib(memory.heapTotal)}, external ${mib(memory.external)} (array buffers ${mib(memory.arrayBuffers)})`,
  )
  await store.close()
}

/** The insight job as a server runs it, on the lab's store (its traces appended directly). */
function labJob(store: Store, intervalMs: number): InsightJob {
  return new InsightJob({
    traces: store.traces,
    insights: store.insights,
    commitTraces: (traces) => store.traces.append(traces),
    audit: new SelfAudit(systemClock, randomIds),
    clock: systemClock,
    settings: DEFAULT_DETECTOR_SETTINGS,
    intervalMs,
  })
}

/**
 * The insight job's throughput on the store (`insights DIR SECONDS`): scheduled-size cycles back
 * to back from its cursor, as a server's job does with no pause, for at most `seconds`. It stores
 * the insights it finds and its state and cursor: run it on a copy of the store.
 */
async function insights(dir: string, seconds: number): Promise<void> {
  const store = await openStore({
    url: `sqlite:${join(dir, 'opencts.db')}`,
    merkle: TRACE_LOG_HASHING,
  })
  const job = labJob(store, 1000)
  // What a request would wait behind: the event loop's delay, sampled every millisecond.
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const started = performance.now()
  let read = 0
  let stored = 0
  const cycles: number[] = []
  while (performance.now() - started < seconds * 1000) {
    const cycleStart = performance.now()
    const report = await job.runCycle(CYCLE_BUDGET_MS)
    cycles.push(performance.now() - cycleStart)
    read += report.read
    stored += report.stored
    if (report.caughtUp) break
  }
  delay.disable()
  const elapsed = (performance.now() - started) / 1000
  const ms = (ns: number): string => (ns / 1e6).toFixed(1)
  console.log(
    `insight job: ${read} traces in ${elapsed.toFixed(1)} s = ${(read / elapsed).toFixed(0)} traces/s with no pause between cycles; ${cycles.length} cycles of ${CYCLE_BUDGET_MS} ms budget, p50 ${pct(cycles, 0.5).toFixed(1)} / p99 ${pct(cycles, 0.99).toFixed(1)} / max ${pct(cycles, 1).toFixed(1)} ms; event loop delay p50 ${ms(delay.percentile(50))} / p99 ${ms(delay.percentile(99))} / max ${ms(delay.max)} ms; ${stored} insights stored; rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`,
  )
  await store.close()
}

/**
 * The bench's statistics row in-process (`mix DIR QUERIES`): STATISTICS_SHAPES rotated over a day
 * of random queried tenants, one at a time; with LAB_INSIGHTS=1 the insight job runs on its
 * schedule meanwhile (as in a server that is behind), so that what a query waits behind shows.
 * The job writes its state and insights: run that on a copy of the store. LAB_WARM_SECONDS of idle
 * time first, as in `query`; LAB_SHAPE=K asks only STATISTICS_SHAPES[K].
 */
async function mix(dir: string, queries: number): Promise<void> {
  const lab = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as { ids: string[] }
  const store = await openStore({
    url: `sqlite:${join(dir, 'opencts.db')}`,
    merkle: TRACE_LOG_HASHING,
  })
  const job = labJob(store, 5000)
  const warm = Number(process.env.LAB_WARM_SECONDS ?? 0)
  if (warm > 0) await new Promise((resolve) => setTimeout(resolve, warm * 1000))
  if (process.env.LAB_INSIGHTS === '1') job.start()
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const ranks = queryRanks(100)
  const random = seededRandom(42)
  const times: number[] = []
  const slow: string[] = []
  const onlyShape = process.env.LAB_SHAPE === undefined ? undefined : Number(process.env.LAB_SHAPE)
  for (let i = 0; i < queries + 5; i++) {
    const rank = ranks[Math.floor(random() * ranks.length)] ?? 0
    const shape = STATISTICS_SHAPES[onlyShape ?? i % STATISTICS_SHAPES.length] ?? {}
    const now = Date.now()
    const started = performance.now()
    try {
      const { filter, spec } = parseStatisticsQuery(
        { ...shape, from: String(now - 86_400_000 + 60_000), to: String(now) },
        { projectId: lab.ids[rank] ?? '', now, retentionMs: 7 * 86_400_000 },
      )
      await store.traces.statistics(filter, spec)
    } catch {
      // refused by the bound: timed as the bench does
    }
    // The bench's next request arrives after an event-loop turn (HTTP): so does this one.
    await new Promise((resolve) => setImmediate(resolve))
    const ms = performance.now() - started
    if (i < 5) continue
    times.push(ms)
    slow.push(`${ms.toFixed(0)} ms tenant ${rank} ${new URLSearchParams(shape).toString()}`)
  }
  delay.disable()
  await job.stop()
  slow.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
  console.log(
    `statistics over a day, ${times.length} queries, insights ${process.env.LAB_INSIGHTS === '1' ? 'on' : 'off'}: p50 ${pct(times, 0.5).toFixed(1)} p99 ${pct(times, 0.99).toFixed(1)} max ${pct(times, 1).toFixed(1)} ms; event loop delay p99 ${(delay.percentile(99) / 1e6).toFixed(1)} max ${(delay.max / 1e6).toFixed(1)} ms\n  slowest: ${slow.slice(0, 6).join('; ')}`,
  )
  await store.close()
}

/**
 * The bench's source-IP statistics shape (`group_by=source_ip&q=code:>=400`) over a day of the
 * tenants of `ranks` in turn, each timed (`cold DIR 98,2,1,0,0`): the first query of a tenant
 * reads its blocks from disk, a repeated one finds them cached. LAB_WARM_SECONDS of idle time first.
 */
async function cold(dir: string, ranks: readonly number[]): Promise<void> {
  const lab = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as { ids: string[] }
  const store = await openStore({
    url: `sqlite:${join(dir, 'opencts.db')}`,
    merkle: TRACE_LOG_HASHING,
  })
  const warm = Number(process.env.LAB_WARM_SECONDS ?? 0)
  if (warm > 0) await new Promise((resolve) => setTimeout(resolve, warm * 1000))
  const times: string[] = []
  for (const rank of ranks) {
    const now = Date.now()
    const { filter, spec } = parseStatisticsQuery(
      {
        group_by: 'source_ip',
        q: 'code:>=400',
        from: String(now - 86_400_000 + 60_000),
        to: String(now),
      },
      { projectId: lab.ids[rank] ?? '', now, retentionMs: 7 * 86_400_000 },
    )
    const started = performance.now()
    const result = await store.traces.statistics(filter, spec)
    times.push(
      `rank ${rank} ${(performance.now() - started).toFixed(1)} ms (${result.total} traces)`,
    )
  }
  console.log(`source IPs of failed calls over a day: ${times.join('; ')}`)
  await store.close()
}

const [mode, dir, arg, only] = process.argv.slice(2)
if (mode === 'fill') await fill(dir ?? '/work/lab', Number(arg ?? 1_000_000))
else if (mode === 'mix') await mix(dir ?? '/work/lab', Number(arg ?? 200))
else if (mode === 'insights') await insights(dir ?? '/work/lab', Number(arg ?? 30))
else if (mode === 'cold') await cold(dir ?? '/work/lab', (arg ?? '0').split(',').map(Number))
else await query(dir ?? '/work/lab', Number(arg ?? 100), only)
