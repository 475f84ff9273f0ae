/**
 * @module query/resource-history
 * The history of one resource (OpenCTS): every management trace naming it (by `resource_id` or by
 * `resource_name`, across services unless one is given) in the window, summed up — who created,
 * changed, shared and deleted it, when, from where, what failed — and paged newest first with the
 * requests and responses. The summary reads the resource's traces through the store's filter
 * (an indexed resource lookup on both engines), at most HISTORY_MAX_TRACES of them: past that it
 * says it is not complete, never loads more.
 */
import { ctsError } from '../errors/index.js'
import {
  activityOf,
  outcomeOf,
  toApiTrace,
  type ApiTrace,
  type TraceRecord,
} from '../model/index.js'
import { traceUserName } from '../model/trace-csv.js'
import type { TraceFilter, TraceStore } from '../store/index.js'
import { parseTraceQuery, type RawQuery } from './parse-trace-query.js'

/** Traces a summary reads at most. */
export const HISTORY_MAX_TRACES = 10_000
/** Operators a summary lists at most (the most active first). */
export const HISTORY_MAX_OPERATORS = 20
export const HISTORY_DEFAULT_LIMIT = 50

/** What a trace did to the resource. Sharing (members, grants) is told apart from other changes. */
export type HistoryKind = 'create' | 'update' | 'share' | 'delete' | 'read' | 'other'

const SHARING = /^(share|unshare|grant|revoke)|member|acl|permission/i

export function historyKind(trace: Pick<ApiTrace, 'trace_name' | 'read_only'>): HistoryKind {
  if (SHARING.test(trace.trace_name)) return 'share'
  return activityOf(trace)
}

/** One trace in a history. */
export interface HistoryEvent {
  readonly trace_id: string
  readonly time: number
  readonly trace_name: string
  readonly kind: HistoryKind
  readonly trace_rating: string
  readonly code?: string
  readonly user?: string
  readonly source_ip?: string
  readonly service_type: string
  readonly resource_type: string
  readonly resource_id?: string
  readonly resource_name?: string
  readonly request?: string
  readonly response?: string
}

/** A moment of the summary: the trace that created, last changed or deleted the resource. */
export interface HistoryMoment {
  readonly trace_id: string
  readonly time: number
  readonly trace_name: string
  readonly user?: string
  readonly source_ip?: string
}

export interface HistorySummary {
  /** Traces read; `complete` false when the window holds more than HISTORY_MAX_TRACES. */
  readonly total: number
  readonly complete: boolean
  readonly first_time: number | null
  readonly last_time: number | null
  /** The oldest successful create, the newest successful change or share, the newest delete. */
  readonly created: HistoryMoment | null
  readonly last_changed: HistoryMoment | null
  readonly deleted: HistoryMoment | null
  /** Traces per kind, and those that failed (code 400 and above). */
  readonly counts: Readonly<Record<HistoryKind | 'failed', number>>
  /** Who acted on it, most traces first: what they did and when they last did. */
  readonly operators: readonly {
    readonly user: string
    readonly count: number
    readonly kinds: readonly HistoryKind[]
    readonly last_time: number
  }[]
}

export function historyEvent(trace: ApiTrace): HistoryEvent {
  const user = traceUserName(trace)
  const optional = {
    code: trace.code,
    user: user === '' ? undefined : user,
    source_ip: trace.source_ip,
    resource_id: trace.resource_id,
    resource_name: trace.resource_name,
    request: trace.request,
    response: trace.response,
  }
  const event: Record<string, unknown> = {
    trace_id: trace.trace_id,
    time: trace.time,
    trace_name: trace.trace_name,
    kind: historyKind(trace),
    trace_rating: trace.trace_rating,
    service_type: trace.service_type,
    resource_type: trace.resource_type,
  }
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) event[key] = value
  return event as unknown as HistoryEvent
}

function moment(event: HistoryEvent): HistoryMoment {
  const out: Record<string, unknown> = {
    trace_id: event.trace_id,
    time: event.time,
    trace_name: event.trace_name,
  }
  if (event.user !== undefined) out.user = event.user
  if (event.source_ip !== undefined) out.source_ip = event.source_ip
  return out as unknown as HistoryMoment
}

/** Sums up events given newest first (the store's page order). */
export function summarize(events: readonly HistoryEvent[], complete: boolean): HistorySummary {
  const counts: Record<HistoryKind | 'failed', number> = {
    create: 0,
    update: 0,
    share: 0,
    delete: 0,
    read: 0,
    other: 0,
    failed: 0,
  }
  let created: HistoryEvent | null = null
  let changed: HistoryEvent | null = null
  let deleted: HistoryEvent | null = null
  const operators = new Map<string, { count: number; kinds: Set<HistoryKind>; last: number }>()
  for (const event of events) {
    counts[event.kind]++
    const failed = outcomeOf(event) === 'failure'
    if (failed) counts.failed++
    else if (event.kind === 'create')
      created = event // newest first: the last seen is the oldest
    else if ((event.kind === 'update' || event.kind === 'share') && changed === null)
      changed = event
    else if (event.kind === 'delete' && deleted === null) deleted = event
    if (event.user === undefined) continue
    const seen = operators.get(event.user)
    if (seen === undefined)
      operators.set(event.user, { count: 1, kinds: new Set([event.kind]), last: event.time })
    else {
      seen.count++
      seen.kinds.add(event.kind)
    }
  }
  return {
    total: events.length,
    complete,
    first_time: events.at(-1)?.time ?? null,
    last_time: events[0]?.time ?? null,
    created: created === null ? null : moment(created),
    last_changed: changed === null ? null : moment(changed),
    deleted: deleted === null ? null : moment(deleted),
    counts,
    operators: [...operators]
      .sort((a, b) => b[1].count - a[1].count || b[1].last - a[1].last)
      .slice(0, HISTORY_MAX_OPERATORS)
      .map(([user, o]) => ({ user, count: o.count, kinds: [...o.kinds], last_time: o.last })),
  }
}

/** The query parameters a history takes (others are refused: they would change what it sums). */
const HISTORY_PARAMS = new Set([
  'resource_id',
  'resource_name',
  'resource_type',
  'service_type',
  'from',
  'to',
  'limit',
  'next',
])

export interface HistoryPlan {
  readonly filter: TraceFilter
  readonly limit: number
  readonly next: string | null
}

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

/**
 * The plan of a history query: exactly one of resource_id and resource_name; resource_type,
 * service_type; from/to (default: the whole retention window); limit 1–200 (default 50); next.
 */
export function parseHistoryQuery(
  raw: RawQuery,
  options: { readonly projectId: string; readonly now: number; readonly retentionMs: number },
): HistoryPlan {
  for (const name of Object.keys(raw))
    if (!HISTORY_PARAMS.has(name))
      fail(
        `${JSON.stringify(name.slice(0, 40))} is not a parameter of a resource history (${[...HISTORY_PARAMS].join(', ')})`,
      )
  const given = ['resource_id', 'resource_name'].filter(
    (k) => raw[k] !== undefined && raw[k] !== '',
  )
  if (given.length !== 1) fail('give exactly one of resource_id and resource_name')
  const from = raw.from ?? String(options.now - options.retentionMs)
  const plan = parseTraceQuery(
    { ...raw, from, limit: raw.limit ?? String(HISTORY_DEFAULT_LIMIT) },
    { ...options, legacy: false },
  )
  if (plan.kind !== 'page') fail('a resource history takes no trace_id')
  return { filter: plan.filter, limit: plan.limit, next: plan.next }
}

export interface ResourceHistory {
  readonly resource: Readonly<Record<string, string>>
  readonly summary: HistorySummary
  readonly events: readonly HistoryEvent[]
  readonly meta_data: { readonly count: number; readonly marker: string | null }
}

/** Reads a history: the summary over the window (bounded), the page the plan asks for. */
export async function readResourceHistory(
  traces: Pick<TraceStore, 'page'>,
  plan: HistoryPlan,
  maxTraces = HISTORY_MAX_TRACES,
): Promise<ResourceHistory> {
  const all: HistoryEvent[] = []
  let after: { traceId: string } | null = null
  let complete = true
  // Bounded: at most maxTraces / 500 + 1 store pages, each strictly older.
  for (;;) {
    const page: { traces: TraceRecord[]; hasMore: boolean } = await traces.page(
      plan.filter,
      after,
      Math.min(500, maxTraces + 1 - all.length),
    )
    for (const record of page.traces) all.push(historyEvent(toApiTrace(record)))
    const last = page.traces.at(-1)
    if (all.length > maxTraces) {
      all.length = maxTraces
      complete = false
      break
    }
    if (!page.hasMore || last === undefined) break
    after = { traceId: last.trace_id }
  }
  // The first page is the walk's newest traces, unless the bound cut the walk shorter than it.
  let events: HistoryEvent[]
  let hasMore: boolean
  if (plan.next === null && (complete || all.length >= plan.limit)) {
    events = all.slice(0, plan.limit)
    hasMore = all.length > plan.limit || !complete
  } else {
    const after = plan.next === null ? null : { traceId: plan.next }
    const page = await traces.page(plan.filter, after, plan.limit)
    events = page.traces.map((t) => historyEvent(toApiTrace(t)))
    hasMore = page.hasMore
  }
  const newest = all[0]
  const resource: Record<string, string> = {}
  for (const key of ['resource_id', 'resource_name', 'resource_type', 'service_type'] as const) {
    const value = newest?.[key]
    if (value !== undefined) resource[key] = value
  }
  return {
    resource,
    summary: summarize(all, complete),
    events,
    meta_data: {
      count: events.length,
      marker: hasMore ? (events.at(-1)?.trace_id ?? null) : null,
    },
  }
}
