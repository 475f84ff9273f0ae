/**
 * @module bench/query-bench
 * ListTraces latency per filter over HTTP against a running server, with the same query run
 * in-process through `TraceQuery.list` on the same SQLite file as the baseline (what HTTP, Fastify
 * and JSON add). Every query covers the whole 7-day window with the API's default page size (10);
 * the value of each filter is drawn at random from the generated vocabulary. Each filter gets a time
 * budget, so a slow one ends with fewer samples instead of stalling the run.
 */
import type { TraceQuery } from '../src/query/index.js'
import { latency, type Latency } from './percentiles.js'
import { ProgressBar } from './progress-bar.js'
import { seededRandom, type Vocabulary } from './trace-generator.js'

export interface QueryCase {
  readonly name: string
  readonly params: () => Record<string, string>
}

export interface QueryResult {
  readonly name: string
  readonly http: Latency
  readonly inProcess: Latency
  /** Mean traces per answer (how much each query returned). */
  readonly meanCount: number
  /** Queries measured (fewer than asked when the time budget ran out). */
  readonly samples: number
}

export function queryCases(vocab: Vocabulary, sampleIds: readonly string[]): QueryCase[] {
  const random = seededRandom(99)
  const any = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const ratings = ['normal', 'warning', 'incident'] as const
  return [
    { name: 'no filter', params: () => ({}) },
    { name: 'service_type', params: () => ({ service_type: any(vocab.services) }) },
    { name: 'resource_type', params: () => ({ resource_type: any(vocab.types)[1] }) },
    { name: 'resource_id', params: () => ({ resource_id: any(vocab.resourceIds) }) },
    { name: 'resource_name', params: () => ({ resource_name: any(vocab.resourceNames) }) },
    { name: 'trace_name', params: () => ({ trace_name: any(vocab.traceNames) }) },
    { name: 'user', params: () => ({ user: any(vocab.users) }) },
    { name: 'trace_rating', params: () => ({ trace_rating: any(ratings) }) },
    {
      name: 'combined (service_type + user + trace_rating)',
      params: () => ({
        service_type: any(vocab.services),
        user: any(vocab.users),
        trace_rating: any(ratings),
      }),
    },
    { name: 'trace_id', params: () => ({ trace_id: any(sampleIds) }) },
    {
      name: 'deep paging (next = a random stored trace)',
      params: () => ({ next: any(sampleIds) }),
    },
  ]
}

export interface QueryBenchOptions {
  readonly url: string
  /** `X-Auth-Token` of every request. */
  readonly token: string
  readonly projectId: string
  readonly query: TraceQuery
  readonly queries: number
  readonly warmup: number
  /** Time budget per filter (s): a slow filter stops early, with fewer samples. */
  readonly secondsPerFilter: number
}

async function httpList(url: string, token: string): Promise<number> {
  const response = await fetch(url, {
    headers: { 'x-auth-token': token },
    signal: AbortSignal.timeout(30_000),
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`ListTraces answered ${response.status}: ${text}`)
  return (JSON.parse(text) as { meta_data: { count: number } }).meta_data.count
}

export async function benchQueries(
  cases: readonly QueryCase[],
  options: QueryBenchOptions,
): Promise<QueryResult[]> {
  const results: QueryResult[] = []
  const bar = new ProgressBar('query latency', cases.length * options.queries)
  let done = 0
  for (const c of cases) {
    const http: number[] = []
    const inProcess: number[] = []
    let total = 0
    const budgetEnd = performance.now() + options.secondsPerFilter * 1000
    for (let i = 0; i < options.warmup + options.queries; i++) {
      if (performance.now() > budgetEnd && http.length >= 3) {
        done += options.queries - http.length
        break
      }
      const now = Date.now()
      const raw = {
        ...c.params(),
        from: String(now - 7 * 86_400_000 + 60_000),
        to: String(now),
      }
      let started = performance.now()
      await options.query.list(options.projectId, raw, 'v3')
      const local = performance.now() - started
      const url = `${options.url}/v3/${options.projectId}/traces?${new URLSearchParams(raw).toString()}`
      started = performance.now()
      const count = await httpList(url, options.token)
      const remote = performance.now() - started
      if (i < options.warmup) continue
      inProcess.push(local)
      http.push(remote)
      total += count
      bar.update(++done)
    }
    results.push({
      name: c.name,
      http: latency(http),
      inProcess: latency(inProcess),
      meanCount: total / http.length,
      samples: http.length,
    })
  }
  bar.done()
  return results
}
