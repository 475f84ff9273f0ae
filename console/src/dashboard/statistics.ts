/**
 * The statistics API as the dashboard reads it (`GET /v3/{project_id}/traces/statistics`,
 * docs/statistics.md): counts grouped by one or two fields over the ListTraces filters, the
 * largest groups first, the rest summed in `other`.
 */
import { send } from '../api'
import type { AppliedQuery } from '../traces/trace-filters'

/** The most groups one answer holds (`top` at most). */
export const MAX_STAT_TOP = 1000

export type StatField =
  | 'service_type'
  | 'resource_type'
  | 'trace_name'
  | 'user'
  | 'source_ip'
  | 'trace_rating'
  | 'code'
  | 'access_key_id'

export interface StatGroup {
  readonly values: Readonly<Partial<Record<StatField, string | null>>>
  readonly count: number
  readonly distinct?: number
}

export interface Statistics {
  readonly from: number
  readonly to: number
  readonly group_by: readonly StatField[]
  readonly distinct: StatField | null
  readonly total: number
  readonly groups: readonly StatGroup[]
  readonly other: {
    readonly count: number
    readonly groups: number
    readonly distinct?: number
  } | null
}

/** One statistics request over the window's query. */
export async function statistics(
  query: AppliedQuery,
  options: {
    readonly groupBy: readonly StatField[]
    readonly top: number
    readonly distinct?: StatField
    /** A search (`q=`, docs/search.md) narrowing the window's traces. */
    readonly q?: string
  },
  signal: AbortSignal,
): Promise<Statistics> {
  const response = await send('GET', '/v3/{project_id}/traces/statistics', {
    query: {
      ...query.params,
      group_by: options.groupBy.join(','),
      top: String(options.top),
      distinct: options.distinct,
      q: options.q,
    },
    signal,
  })
  return (await response.json()) as Statistics
}
