/**
 * Test helper: every page of a filter, newest first, following the `next` markers, as a client
 * walks ListTraces; the trace ids in the order the pages gave them.
 */
import type { TraceFilter, TraceStore } from '../../src/store/index.js'

export async function walkPages(
  traces: Pick<TraceStore, 'page'>,
  filter: TraceFilter,
  limit: number,
  maxPages = 2_000,
): Promise<string[]> {
  const ids: string[] = []
  let after: { traceId: string } | null = null
  for (let i = 0; i < maxPages; i++) {
    const page = await traces.page(filter, after, limit)
    ids.push(...page.traces.map((t) => t.trace_id))
    const last = page.traces.at(-1)
    if (!page.hasMore || last === undefined) return ids
    after = { traceId: last.trace_id }
  }
  throw new Error('the walk did not end')
}
