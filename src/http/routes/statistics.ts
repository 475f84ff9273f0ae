/**
 * @module http/routes/statistics
 * `GET /v3/{project_id}/traces/statistics` (OpenCTS; action `cts:trace:list`): counts of the traces
 * matching the ListTraces filters, in total or grouped by one or two of service_type,
 * resource_type, trace_name, user, source_ip, trace_rating, code and access_key_id, the `top`
 * groups and the rest folded into `other`, with distinct counts of a field per group and counts
 * per interval when asked. Counted in the store (TraceStore.statistics); see docs/statistics.md.
 * Bad parameters → 400 OCTS_ERR_QUERY (CTS.0300).
 */
import type { FastifyInstance } from 'fastify'
import { parseStatisticsQuery, statApiName } from '../../query/index.js'
import type { HttpServices } from '../../services.js'
import type { StatisticsCounts, StatisticsSpec } from '../../store/index.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'
import { LIST_FILTER_PARAMS } from './export.js'

/** The ListTraces filters but trace_id (statistics count many traces). */
const FILTER_PARAMS = Object.fromEntries(
  Object.entries(LIST_FILTER_PARAMS).filter(([name]) => name !== 'trace_id'),
)

const COUNTS_SCHEMA = {
  count: { type: 'integer' },
  distinct: { type: 'integer' },
  buckets: {
    type: 'array',
    items: {
      type: 'object',
      properties: { time: { type: 'integer' }, count: { type: 'integer' } },
    },
  },
} as const

/** The API form of a group's counts: `distinct` and `buckets` only when asked. */
function countsOf(c: StatisticsCounts, spec: StatisticsSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { count: c.count }
  if (c.distinct !== null) out.distinct = c.distinct
  if (c.buckets !== null && spec.buckets !== null) {
    const { start, step } = spec.buckets
    out.buckets = c.buckets.map((b) => ({ time: start + b.index * step, count: b.count }))
  }
  return out
}

export function registerStatisticsRoutes(app: FastifyInstance, services: HttpServices): void {
  const retentionMs = services.config.retentionDays * 86_400_000
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/traces/statistics',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary: 'Count matching traces, grouped, with distinct counts and intervals (OpenCTS)',
        tags: ['traces'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            ...FILTER_PARAMS,
            group_by: queryString(
              'One or two comma-separated fields: service_type, resource_type, trace_name, user, source_ip, trace_rating, code, access_key_id.',
            ),
            distinct: queryString('A field whose distinct values are counted per group.'),
            interval: queryString('Count per interval of this many ms (1000 to 7 days).'),
            top: queryString('Groups returned, 1 to 1000 (default 10); the rest are in other.'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              group_by: { type: 'array', items: { type: 'string' } },
              distinct: { type: ['string', 'null'] },
              interval: { type: ['integer', 'null'] },
              total: { type: 'integer' },
              groups: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    values: {
                      type: 'object',
                      additionalProperties: { type: ['string', 'null'] },
                    },
                    ...COUNTS_SCHEMA,
                  },
                },
              },
              other: {
                type: ['object', 'null'],
                properties: { ...COUNTS_SCHEMA, groups: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const { filter, spec } = parseStatisticsQuery(rawQuery(request), {
        projectId: request.params.project_id,
        now: services.clock.now(),
        retentionMs,
        searchMaxScan: services.config.searchMaxScan,
      })
      const stats = await services.traceReads.statistics(filter, spec)
      const names = spec.groupBy.map(statApiName)
      return {
        from: filter.from,
        to: filter.to,
        group_by: names,
        distinct: spec.distinct === null ? null : statApiName(spec.distinct),
        interval: spec.buckets?.step ?? null,
        total: stats.total,
        groups: stats.groups.map((g) => ({
          values: Object.fromEntries(names.map((n, i) => [n, g.values[i] ?? null])),
          ...countsOf(g, spec),
        })),
        other:
          stats.other === null
            ? null
            : { ...countsOf(stats.other, spec), groups: stats.other.groups },
      }
    },
  )
}
