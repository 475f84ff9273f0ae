/**
 * @module insights/insight-query
 * `GET /v3/{project_id}/insights`: parses the query and reads one page, newest first. Parameters:
 * `from`/`to` exclusive 13-digit ms (default: the whole retention window up to now), clamped to
 * the retention window; `insight_type` (one of INSIGHT_TYPES), `service_type`, `state`
 * (start|end); `limit` 1–200 (default 10); `next` the `meta_data.marker` of the previous page (the
 * last insight's `id` when more match, else null). Violations throw OCTS_ERR_QUERY (400 CTS.0300)
 * saying what was got and wanted, as ListTraces.
 */
import { ctsError } from '../errors/index.js'
import { UUID_PATTERN } from '../model/index.js'
import type { Clock } from '../platform/clock.js'
import type { InsightFilter, InsightRecord, InsightStore } from '../store/index.js'
import { INSIGHT_STATES, INSIGHT_TYPES } from './insight-types.js'

export const DEFAULT_LIMIT = 10
export const MAX_LIMIT = 200

export type RawQuery = Readonly<Record<string, string | string[] | undefined>>

export interface ListInsightsResponse {
  insights: InsightRecord[]
  meta_data: { count: number; marker: string | null }
}

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

function single(raw: RawQuery, name: string): string | undefined {
  const value = raw[name]
  if (Array.isArray(value)) fail(`${name} is given ${value.length} times, give it once`)
  return value === undefined || value === '' ? undefined : value
}

function epochMs(raw: RawQuery, name: string): number | undefined {
  const value = single(raw, name)
  if (value === undefined) return undefined
  if (!/^\d{13}$/.test(value))
    fail(`${name} must be a 13-digit UTC timestamp in milliseconds, got ${JSON.stringify(value)}`)
  return Number(value)
}

function oneOf<T extends string>(raw: RawQuery, name: string, values: readonly T[]): T | undefined {
  const value = single(raw, name)
  if (value !== undefined && !(values as readonly string[]).includes(value))
    fail(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`)
  return value as T | undefined
}

export interface InsightQueryPlan {
  readonly filter: InsightFilter
  readonly limit: number
  readonly next: string | null
}

export function parseInsightQuery(
  raw: RawQuery,
  options: { projectId: string; now: number; retentionMs: number },
): InsightQueryPlan {
  const limitText = single(raw, 'limit')
  let limit = DEFAULT_LIMIT
  if (limitText !== undefined) {
    if (!/^\d{1,4}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > MAX_LIMIT)
      fail(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(limitText)}`)
    limit = Number(limitText)
  }
  const oldest = options.now - options.retentionMs
  const to = epochMs(raw, 'to') ?? options.now + 1
  const from = epochMs(raw, 'from') ?? oldest - 1
  if (from >= to) fail(`from (${from}) must be earlier than to (${to})`)
  const serviceType = single(raw, 'service_type')
  if (serviceType !== undefined && serviceType.length > 64)
    fail(`service_type is ${serviceType.length} characters, max 64`)
  const insightType = oneOf(raw, 'insight_type', INSIGHT_TYPES)
  const state = oneOf(raw, 'state', INSIGHT_STATES)
  const next = single(raw, 'next')
  if (next !== undefined && !UUID_PATTERN.test(next))
    fail(`next must be a marker (insight id) from a previous page, got ${JSON.stringify(next)}`)
  return {
    filter: {
      projectId: options.projectId,
      from: Math.max(from, oldest - 1),
      to,
      ...(insightType === undefined ? {} : { insightType }),
      ...(serviceType === undefined ? {} : { serviceType }),
      ...(state === undefined ? {} : { state }),
    },
    limit,
    next: next === undefined ? null : next.toLowerCase(),
  }
}

export class InsightQuery {
  readonly #store: Pick<InsightStore, 'listInsights'>
  readonly #clock: Clock
  readonly #retentionMs: number

  constructor(deps: {
    store: Pick<InsightStore, 'listInsights'>
    clock: Clock
    retentionMs: number
  }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#retentionMs = deps.retentionMs
  }

  /** Throws OCTS_ERR_QUERY (400) on invalid parameters or an unknown `next` marker. */
  async list(projectId: string, raw: RawQuery): Promise<ListInsightsResponse> {
    const plan = parseInsightQuery(raw, {
      projectId,
      now: this.#clock.now(),
      retentionMs: this.#retentionMs,
    })
    const page = await this.#store.listInsights(plan.filter, plan.next, plan.limit)
    const last = page.insights.at(-1)
    return {
      insights: page.insights,
      meta_data: {
        count: page.insights.length,
        marker: page.hasMore && last !== undefined ? last.id : null,
      },
    }
  }
}
