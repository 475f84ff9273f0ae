/**
 * @module http/routes/export
 * `GET /v3/{project_id}/traces/export?format=csv|json` (OpenCTS; action `cts:trace:list`): every
 * trace matching the ListTraces filters (same parameters and rules, `query/parse-trace-query`;
 * `limit` and `next` are ignored), newest first, streamed page by page from the store so memory
 * stays bounded whatever the count (CTS's console stops at 5,000; this does not).
 * - `csv`: a header row, then one row per trace, the columns of `opencts query --format csv`
 *   (model/trace-csv; RFC 4180 quoting; a cell starting with `=`, `+`, `@`, a tab or a carriage
 *   return gets a leading `'` so spreadsheets do not run it as a formula);
 * - `json`: a JSON array of API-shaped traces (as ListTraces answers them), one trace per line.
 * Unlike other reads, an export is self-audited, as CTS records console exports: a CTS `exportTrace`
 * trace of resource type `trace` with the query and format, committed before the first byte.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { ctsError } from '../../errors/index.js'
import { encodeTraces, traceFormat, TRACE_FORMAT_NAMES } from '../../formats/registry.js'
import { toApiTrace, type ApiTrace, type TraceRecord } from '../../model/index.js'
import { parseTraceQuery, type TraceQueryPlan } from '../../query/index.js'
import type { TraceReads } from '../../services.js'
import { OPENCTS_VERSION } from '../../version.js'
import type { HttpServices } from '../../services.js'
import { projectRoute } from '../route-auth.js'
import { callerOf, rawQuery } from '../request-context.js'
import { projectParams, queryString } from '../schemas.js'

/** Traces read from the store per page while streaming. */
const PAGE_SIZE = 500

/** Every matching trace, newest first, one store page at a time. */
async function* matching(traces: TraceReads, plan: TraceQueryPlan): AsyncGenerator<TraceRecord> {
  if (plan.kind === 'byId') {
    const trace = await traces.get(plan.projectId, plan.traceId)
    if (trace !== undefined) yield trace
    return
  }
  let after: { traceId: string } | null = null
  // Bounded: each page moves strictly older, and the 7-day window holds finitely many traces.
  for (;;) {
    const page = await traces.page(plan.filter, after, PAGE_SIZE)
    for (const trace of page.traces) yield trace
    const last = page.traces.at(-1)
    if (!page.hasMore || last === undefined) return
    after = { traceId: last.trace_id }
  }
}

/** The API form of the traces still inside the retention window. */
async function* apiTraces(
  source: AsyncGenerator<TraceRecord>,
  oldest: number,
): AsyncGenerator<ApiTrace> {
  for await (const record of source) if (record.time >= oldest) yield toApiTrace(record)
}

/** The ListTraces filters, as the export and activity routes document them. */
/** `q`: a search (docs/search.md). */
export const SEARCH_PARAM = queryString(
  'Search: field:value, field:prefix*, field:(a OR b), code:>=400, NOT, AND, OR, free text (docs/search.md).',
)

export const LIST_FILTER_PARAMS = {
  from: queryString('Exclusive lower bound, 13-digit UTC ms. Default: to - 1 hour.'),
  to: queryString('Exclusive upper bound, 13-digit UTC ms. Default: now.'),
  trace_type: queryString('system (default) | data.'),
  tracker_name: queryString('system, or the data tracker name.'),
  service_type: queryString('Trace source, e.g. IMS.'),
  user: queryString('Operator user name.'),
  resource_id: queryString('Resource ID.'),
  resource_name: queryString('Resource name (case-sensitive).'),
  resource_type: queryString('Resource type.'),
  trace_id: queryString('Trace ID; when set, every other filter is ignored.'),
  trace_name: queryString('Trace name (case-sensitive).'),
  trace_rating: queryString('normal | warning | incident.'),
  access_key_id: queryString('Access key ID used by the operator.'),
  enterprise_project_id: queryString('Enterprise project ID.'),
  q: SEARCH_PARAM,
} as const

export function registerExportRoutes(app: FastifyInstance, services: HttpServices): void {
  const retentionMs = services.config.retentionDays * 86_400_000
  app.get<{ Params: { project_id: string } }>(
    '/v3/:project_id/traces/export',
    {
      config: projectRoute('cts:trace:list'),
      schema: {
        summary: 'Export every matching trace as CSV or JSON, streamed (OpenCTS)',
        tags: ['traces'],
        params: projectParams,
        querystring: {
          type: 'object',
          properties: {
            format: queryString(
              `${TRACE_FORMAT_NAMES.join(' | ')} (default csv; docs/formats.md).`,
            ),
            ...LIST_FILTER_PARAMS,
          },
        },
      },
    },
    async (request, reply) => {
      const raw = { ...rawQuery(request) }
      const formatGiven = raw.format
      delete raw.format
      delete raw.limit
      delete raw.next
      const format =
        formatGiven === undefined
          ? traceFormat('csv')
          : typeof formatGiven === 'string'
            ? traceFormat(formatGiven)
            : undefined
      if (format === undefined)
        throw ctsError(
          'OCTS_ERR_QUERY',
          `Query failed: format must be one of ${TRACE_FORMAT_NAMES.join(', ')}, got ${JSON.stringify(formatGiven)}`,
        )
      const now = services.clock.now()
      const projectId = request.params.project_id
      const plan = parseTraceQuery(raw, {
        projectId,
        now,
        retentionMs,
        legacy: false,
        searchMaxScan: services.config.searchMaxScan,
      })
      await services.ingestor.commit([
        services.audit.trace({
          projectId,
          traceName: 'exportTrace',
          resourceType: 'trace',
          request: { ...raw, format: format.name },
          response: { format: format.name },
          code: 200,
          caller: callerOf(request),
        }),
      ])
      const stamp = new Date(now).toISOString().replace(/[:.]/g, '-')
      const context = { projectId, productVersion: OPENCTS_VERSION, neutralizeFormulas: true }
      const traces = apiTraces(matching(services.traceReads, plan), now - retentionMs)
      const body = Readable.from(encodeTraces(format, traces, context))
      return reply
        .type(format.mediaType)
        .header(
          'content-disposition',
          `attachment; filename="traces-${stamp}.${format.name === format.extension ? '' : `${format.name}.`}${format.extension}"`,
        )
        .header('cache-control', 'no-store')
        .send(body)
    },
  )
}
