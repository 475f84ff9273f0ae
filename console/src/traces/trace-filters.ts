/**
 * The trace list filters of the CTS console (spec §12) and their ListTraces query: time preset or
 * a custom range within the 7 days kept, trace type (management, or data with its tracker), source,
 * resource type, one "search by" field, operator, status, and a search in the query language of
 * `q=` (docs/search.md), which the server parses and refuses with a readable 400.
 */
export type RangePreset = '1h' | '1d' | '1w' | 'custom'
export type SearchBy = 'resource_id' | 'trace_name' | 'resource_name' | 'trace_id'
export type Rating = '' | 'normal' | 'warning' | 'incident'

export interface TraceFilters {
  readonly range: RangePreset
  /** `datetime-local` values, used when range is custom. */
  readonly customFrom: string
  readonly customTo: string
  readonly traceType: 'system' | 'data'
  readonly trackerName: string
  readonly serviceType: string
  readonly resourceType: string
  readonly searchBy: SearchBy
  readonly search: string
  readonly user: string
  readonly rating: Rating
  /** A search of the `q=` grammar; empty for none. */
  readonly q: string
}

export const DEFAULT_FILTERS: TraceFilters = {
  range: '1h',
  customFrom: '',
  customTo: '',
  traceType: 'system',
  trackerName: '',
  serviceType: '',
  resourceType: '',
  searchBy: 'resource_id',
  search: '',
  user: '',
  rating: '',
  q: '',
}

export const DAY_MS = 86_400_000
const PRESET_MS: Readonly<Record<Exclude<RangePreset, 'custom'>, number>> = {
  '1h': 3_600_000,
  '1d': DAY_MS,
  '1w': 7 * DAY_MS,
}

export interface AppliedQuery {
  readonly from: number
  readonly to: number
  readonly params: Readonly<Record<string, string>>
}

/** The query of the filters at `now`; throws an Error with a readable message when invalid. */
export function toQuery(filters: TraceFilters, now: number): AppliedQuery {
  let from: number
  let to: number
  if (filters.range === 'custom') {
    from = Date.parse(filters.customFrom)
    to = Date.parse(filters.customTo)
    if (Number.isNaN(from) || Number.isNaN(to))
      throw new Error('Choose both ends of the custom range.')
    if (from >= to) throw new Error('The start of the range must be before its end.')
    if (from < now - 7 * DAY_MS)
      throw new Error('Traces are kept 7 days: choose a start within the last 7 days.')
  } else {
    to = now + 1
    from = now - PRESET_MS[filters.range]
  }
  const params: Record<string, string> = {
    trace_type: filters.traceType,
    from: String(from),
    to: String(to),
  }
  if (filters.traceType === 'data' && filters.trackerName !== '')
    params.tracker_name = filters.trackerName
  if (filters.serviceType !== '') params.service_type = filters.serviceType
  if (filters.serviceType !== '' && filters.resourceType !== '')
    params.resource_type = filters.resourceType
  const search = filters.search.trim()
  if (search !== '') params[filters.searchBy] = search
  if (filters.user !== '') params.user = filters.user
  if (filters.rating !== '') params.trace_rating = filters.rating
  const q = filters.q.trim()
  if (q !== '') params.q = q
  return { from, to, params }
}
