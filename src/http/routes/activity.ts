/**
 * @module http/routes/activity
 * `GET /v3/{project_id}/traces/activity` (OpenCTS; action `cts:trace:list`): what the console's
 * activity chart shows, counted in the store: the traces matching the ListTraces filters per
 * interval by status (`normal`, `warning`, `incident`), and the largest operations (service and
 * trace name) with their warnings and incidents. `interval` (ms, at least 1 000, at most 1 000
 * intervals in the range) defaults to the smallest of 1, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h and
 * 1 day giving at most 30 intervals; `top` (1 to 50) defaults to 8. Intervals start at `from`
 * rounded down to the interval. Bad values → 400 OCTS_ERR_QUERY (CTS.0300).
 */
import type { FastifyInstance } from 'fastify'
import { ctsError } from '../../errors/index.js'
import { parseTraceQuery } from '../../query/index.js'
import type { TraceActivity, TraceFilter } from '../../store/index.js'
import type { HttpServices } from '../../services.js'
import { rawQuery } from '../request-context.js'
import { projectRoute } from '../route-auth.js'
import { projectParams, queryString } from '../schemas.js'
import { LIST_FILTER_PARAMS } from './export.js'

const STEPS_MS = [60e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3]
const DAY_MS = 86_400_000
const MAX_INTERVALS = 1000

function fail(message: string): never {
  throw ctsError('OCTS_ERR_QUERY', `Query failed: ${message}`)
}

function integer(value: string | string[] | undefined, name: string, min: number, max: number) {
  if (value === undefined || value === '') return undefined
  if (Array.isArray(value)) fail(`${name} is given ${value.length} times, give it once`)
  const n = Number(value)
  if (!/^\d{1,16}$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
    fail(
      `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value.slice(0, 40))}`,
    )
  return n
}

/** The activity of one stored trace (a `trace_id` query), counted like the store counts. */
function single(
  trace:
    { time: number; trace_rating: string; service_type: string; trace_name: string } | undefined,
  start: number,
  step: number,
): TraceActivity {
  if (trace === undefined) return { buckets: [], operations: [], total: 0 }
  const rating = trace.trace_rating
  const one = (r: string): number => (rating === r ? 1 : 0)
  return {
    buckets: [
      {
        index: Math.floor((trace.time - start) / step),
        normal: rating === 'warning' || rating === 'incident' ? 0 : 1,
        warning: one('warning'),
        incident: one('incident'),
      },
    ],
    operations: [
      {
        serviceType: trace.service_type,
        traceName: trace.trace_name,
        count: 1,
        warning: one('warning'),
        incident: one('incident'),
      },
    ],
    total: 1,
  }
}

export function registerActivityRoutes(app: FastifyInstance, services: HttpServices): void {
  const retentionMs = services.config.retentionDays * 86_400_000
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/traces/activity',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary: 'Count matching traces per interval by status, and the top operations (OpenCTS)',
        tags: ['traces'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            ...LIST_FILTER_PARAMS,
            interval: queryString(
              'Interval length in ms (>= 1000); default: at most 30 intervals.',
            ),
            top: queryString('How many operations, 1 to 50; default 8.'),
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              interval: { type: 'integer' },
              total: { type: 'integer' },
              buckets: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    start: { type: 'integer' },
                    normal: { type: 'integer' },
                    warning: { type: 'integer' },
                    incident: { type: 'integer' },
                  },
                },
              },
              operations: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    service_type: { type: 'string' },
                    trace_name: { type: 'string' },
                    count: { type: 'integer' },
                    warning: { type: 'integer' },
                    incident: { type: 'integer' },
                  },
                },
              },
            },
          },
        },
      },
    },
    async (request) => {
      const raw = { ...rawQuery(request) }
      const intervalGiven = integer(raw.interval, 'interval', 1000, 7 * DAY_MS)
      const top = integer(raw.top, 'top', 1, 50) ?? 8
      delete raw.interval
      delete raw.top
      delete raw.limit
      delete raw.next
      const now = services.clock.now()
      const projectId = request.params.project_id
      const plan = parseTraceQuery(raw, {
        projectId,
        now,
        retentionMs,
        legacy: false,
        searchMaxScan: services.config.searchMaxScan,
      })
      // A trace_id query keeps the default window (the last hour) for its axis.
      const window: Pick<TraceFilter, 'from' | 'to'> =
        plan.kind === 'page' ? plan.filter : { from: now - 3_600_000, to: now }
      const span = window.to - window.from
      const step = intervalGiven ?? STEPS_MS.find((s) => span / s <= 30) ?? DAY_MS
      const start = Math.floor(window.from / step) * step
      const count = Math.max(1, Math.ceil((window.to - start) / step))
      if (count > MAX_INTERVALS)
        fail(
          `interval ${step} ms gives ${count} intervals over the range, at most ${MAX_INTERVALS}`,
        )
      const activity =
        plan.kind === 'page'
          ? await services.traceReads.activity(plan.filter, start, step, top)
          : single(await services.traceReads.get(projectId, plan.traceId), start, step)
      const buckets = Array.from({ length: count }, (_, i) => ({
        start: start + i * step,
        normal: 0,
        warning: 0,
        incident: 0,
      }))
      for (const b of activity.buckets) {
        const bucket = buckets[Math.min(Math.max(b.index, 0), count - 1)]
        if (bucket === undefined) continue
        bucket.normal += b.normal
        bucket.warning += b.warning
        bucket.incident += b.incident
      }
      return {
        from: window.from,
        to: window.to,
        interval: step,
        total: activity.total,
        buckets,
        operations: activity.operations.map((o) => ({
          service_type: o.serviceType,
          trace_name: o.traceName,
          count: o.count,
          warning: o.warning,
          incident: o.incident,
        })),
      }
    },
  )
}
