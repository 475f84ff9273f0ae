/**
 * @module bench/tenant-queries
 * ListTraces latency over HTTP at full size, across tenants: every query goes to a project drawn
 * from a few big tenants (the largest Zipf ranks) and a few small ones (the smallest), over the
 * whole 7-day window, one at a time over keep-alive. Per case and per `limit` (10 and 200): each
 * CTS filter with a value drawn from the generator's vocabulary (trace_id from the tenant's stored
 * ids), the combined filter (service + user + rating), and deep paging: a query followed through
 * its `next` markers (meta_data.marker) to page 20, timing the 20th page (the last page reached
 * when the tenant has fewer). Then the console's activity counts (`GET
 * /v3/{project}/traces/activity`) with a filter drawn the same way. Each case has a time budget so a
 * slow one ends with fewer samples instead of stalling the run.
 */
import { latency, type Latency } from './percentiles.js'
import type { Target } from './postgres-bench.js'
import { ProgressBar } from './progress-bar.js'
import { seededRandom, type Vocabulary } from './trace-generator.js'

export interface TenantQuery {
  readonly name: string
  /** Query parameters for a tenant (`samples`: its stored trace ids). */
  readonly params: (samples: readonly string[]) => Record<string, string>
  /** Follow `next` markers to this page (1: the first page only). */
  readonly pages: number
}

export interface TenantQueryResult {
  readonly name: string
  readonly limit: number
  readonly latency: Latency
  readonly samples: number
  readonly meanCount: number
  /** Deep paging: walks that ended before the wanted page (the tenant had fewer traces). */
  readonly shortWalks: number
}

export const DEEP_PAGES = 20
export const LIMITS = [10, 200] as const

export function tenantQueries(vocab: Vocabulary, seed = 99): TenantQuery[] {
  const random = seededRandom(seed)
  const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const ratings = ['normal', 'warning', 'incident'] as const
  const one = (name: string, value: () => string): TenantQuery => ({
    name,
    params: () => ({ [name]: value() }),
    pages: 1,
  })
  return [
    { name: 'trace_id', params: (samples) => ({ trace_id: any(samples) }), pages: 1 },
    one('resource_id', () => any(vocab.resourceIds)),
    one('resource_name', () => any(vocab.resourceNames)),
    one('resource_type', () => any(vocab.types)[1]),
    one('service_type', () => any(vocab.services)),
    one('trace_name', () => any(vocab.traceNames)),
    one('trace_rating', () => any(ratings)),
    one('user', () => any(vocab.users)),
    one('tracker_name', () => 'system'),
    {
      name: 'combined (service_type + user + trace_rating)',
      params: () => ({
        service_type: any(vocab.services),
        user: any(vocab.users),
        trace_rating: any(ratings),
      }),
      pages: 1,
    },
    { name: `deep paging (page ${DEEP_PAGES} via next)`, params: () => ({}), pages: DEEP_PAGES },
  ]
}

/** Filters of the activity queries (none, or one of the common ones). */
export function activityFilters(vocab: Vocabulary, seed = 17): () => Record<string, string> {
  const random = seededRandom(seed)
  const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const choices: (() => Record<string, string>)[] = [
    () => ({}),
    () => ({ service_type: any(vocab.services) }),
    () => ({ user: any(vocab.users) }),
    () => ({ trace_rating: any(['normal', 'warning', 'incident'] as const) }),
  ]
  return () => any(choices)()
}

/** Tenants the queries go to: `big` largest and `small` smallest ranks of `count` projects. */
export function queryRanks(count: number, big = 3, small = 3): number[] {
  const ranks = new Set<number>()
  for (let k = 0; k < Math.min(big, count); k++) ranks.add(k)
  for (let k = Math.max(0, count - small); k < count; k++) ranks.add(k)
  return [...ranks]
}

export interface TenantQueryOptions {
  readonly url: string
  readonly targets: readonly Target[]
  /** Ranks of the tenants queried, and their stored trace ids. */
  readonly ranks: readonly number[]
  readonly samplesOf: (rank: number) => readonly string[]
  readonly queries: number
  readonly warmup: number
  readonly secondsPerCase: number
}

async function getJson(url: string, token: string): Promise<unknown> {
  const response = await fetch(url, {
    headers: { 'x-auth-token': token },
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${text}`)
  return JSON.parse(text) as unknown
}

interface ListAnswer {
  meta_data?: { count?: number; marker?: string | null }
}

/** One walk of `pages` pages; the time of the last page fetched and what it returned. */
async function walk(
  base: string,
  params: Record<string, string>,
  token: string,
  pages: number,
): Promise<{ ms: number; count: number; reached: number }> {
  let marker: string | undefined
  let ms = 0
  let count = 0
  let page = 0
  while (page < pages) {
    const query = new URLSearchParams(marker === undefined ? params : { ...params, next: marker })
    const started = performance.now()
    const answer = (await getJson(`${base}?${query.toString()}`, token)) as ListAnswer
    ms = performance.now() - started
    count = answer.meta_data?.count ?? 0
    page++
    const next = answer.meta_data?.marker
    if (next === undefined || next === null || next === '' || count === 0) break
    marker = next
  }
  return { ms, count, reached: page }
}

export async function benchTenantQueries(
  cases: readonly TenantQuery[],
  options: TenantQueryOptions,
): Promise<TenantQueryResult[]> {
  const random = seededRandom(31)
  const results: TenantQueryResult[] = []
  const bar = new ProgressBar(
    `ListTraces across ${options.ranks.length} tenants`,
    cases.length * LIMITS.length * options.queries,
  )
  let done = 0
  for (const c of cases)
    for (const limit of LIMITS) {
      const times: number[] = []
      let total = 0
      let shortWalks = 0
      const budgetEnd = performance.now() + options.secondsPerCase * 1000
      for (let i = 0; i < options.warmup + options.queries; i++) {
        if (performance.now() > budgetEnd && times.length >= 3) break
        const rank = options.ranks[Math.floor(random() * options.ranks.length)] ?? 0
        const target = options.targets[rank] as Target
        const now = Date.now()
        const params = {
          ...c.params(options.samplesOf(rank)),
          from: String(now - 7 * 86_400_000 + 60_000),
          to: String(now),
          limit: String(limit),
        }
        const base = `${options.url}/v3/${target.projectId}/traces`
        const result = await walk(base, params, target.token, c.pages)
        if (i < options.warmup) continue
        times.push(result.ms)
        total += result.count
        if (result.reached < c.pages) shortWalks++
        bar.update(++done)
      }
      done += options.queries - times.length
      results.push({
        name: c.name,
        limit,
        latency: latency(times),
        samples: times.length,
        meanCount: total / Math.max(1, times.length),
        shortWalks,
      })
    }
  bar.done()
  return results
}

export interface ActivityResult {
  readonly latency: Latency
  readonly samples: number
}

/** Activity counts over the 7-day window, `queries` times across the tenants. */
/**
 * The statistics the bench asks for (rotated), as API parameters: groupings a dashboard or an
 * analyst uses. Source IPs are nearly all distinct in the bench's data, so they are grouped under a
 * filter (the denied calls), as an analyst would; over a whole day they exceed the statistics'
 * bound and are refused (a 400 that says so).
 */
export const STATISTICS_SHAPES: readonly Readonly<Record<string, string>>[] = [
  { group_by: 'service_type' },
  { group_by: 'service_type,trace_name' },
  { group_by: 'user', distinct: 'trace_name' },
  { group_by: 'trace_rating', interval: '3600000' },
  { group_by: 'code' },
  { group_by: 'user,code' },
  { group_by: 'source_ip', q: 'code:>=400' },
  { group_by: 'trace_name', distinct: 'user', q: 'trace_name:delete*' },
]

export interface StatisticsResult {
  readonly days: number
  readonly latency: Latency
  readonly samples: number
  /** Answers of 400: the statistics' bound refused the query (counted in the latency too). */
  readonly refused: number
  /** The three slowest queries: what the p99 is made of. */
  readonly slowest: readonly {
    readonly ms: number
    readonly rank: number
    readonly query: string
  }[]
}

/**
 * Statistics over the last `days` days of a queried tenant, rotating STATISTICS_SHAPES (as the
 * console's dashboard and an analyst ask them), each query timed whole over HTTP.
 */
export async function benchStatistics(
  options: TenantQueryOptions,
  days: number,
): Promise<StatisticsResult> {
  const random = seededRandom(41 + days)
  const times: number[] = []
  const timed: { ms: number; rank: number; query: string }[] = []
  let refused = 0
  const bar = new ProgressBar(`statistics over ${days} d`, options.queries)
  const budgetEnd = performance.now() + options.secondsPerCase * 1000
  for (let i = 0; i < options.warmup + options.queries; i++) {
    if (performance.now() > budgetEnd && times.length >= 3) break
    const rank = options.ranks[Math.floor(random() * options.ranks.length)] ?? 0
    const target = options.targets[rank] as Target
    const now = Date.now()
    const shape = STATISTICS_SHAPES[i % STATISTICS_SHAPES.length] ?? {}
    const query = new URLSearchParams({
      ...shape,
      from: String(now - days * 86_400_000 + 60_000),
      to: String(now),
    })
    const started = performance.now()
    const response = await fetch(
      `${options.url}/v3/${target.projectId}/traces/statistics?${query.toString()}`,
      { headers: { 'x-auth-token': target.token }, signal: AbortSignal.timeout(30_000) },
    )
    const text = await response.text()
    const ms = performance.now() - started
    if (response.status !== 200 && response.status !== 400)
      throw new Error(`statistics answered ${response.status}: ${text}`)
    if (i < options.warmup) continue
    if (response.status === 400) refused++
    times.push(ms)
    timed.push({ ms, rank, query: new URLSearchParams(shape).toString() })
    bar.update(times.length)
  }
  bar.done()
  const slowest = timed.sort((a, b) => b.ms - a.ms).slice(0, 3)
  return { days, latency: latency(times), samples: times.length, refused, slowest }
}

export async function benchActivity(
  vocab: Vocabulary,
  options: TenantQueryOptions,
): Promise<ActivityResult> {
  const random = seededRandom(37)
  const filter = activityFilters(vocab)
  const times: number[] = []
  const bar = new ProgressBar('activity counts', options.queries)
  const budgetEnd = performance.now() + options.secondsPerCase * 1000
  for (let i = 0; i < options.warmup + options.queries; i++) {
    if (performance.now() > budgetEnd && times.length >= 3) break
    const rank = options.ranks[Math.floor(random() * options.ranks.length)] ?? 0
    const target = options.targets[rank] as Target
    const now = Date.now()
    const query = new URLSearchParams({
      ...filter(),
      from: String(now - 7 * 86_400_000 + 60_000),
      to: String(now),
    })
    const started = performance.now()
    await getJson(
      `${options.url}/v3/${target.projectId}/traces/activity?${query.toString()}`,
      target.token,
    )
    const ms = performance.now() - started
    if (i < options.warmup) continue
    times.push(ms)
    bar.update(times.length)
  }
  bar.done()
  return { latency: latency(times), samples: times.length }
}
