/**
 * @module recorder/build-traces
 * Turns one matched exchange into CTS traces: the objects `POST /v3/{project_id}/traces` accepts
 * (docs/traces.md). Pure except for the default trace id source (`randomUUID`), which the options
 * replace.
 *
 * Fields: trace_id, trace_name (or `trace_name_by`), trace_type (the map's, default ApiCall),
 * service_type, resource_type, resource_id, resource_name, request/response (redacted, capped),
 * code (upstream status, a number), trace_rating (< 400 normal, 4xx warning, 5xx incident), time
 * (startedAt), source_ip, user, request_id, api_version, user_agent, read_only, total_time,
 * content_length, message (`job_id=…`, the rule's message_fields, content type of an uncaptured
 * body). `project_id` is not set: the traces belong to the project they are posted to
 * (`exchange.projectId`).
 */
import { randomUUID } from 'node:crypto'
import type { Exchange } from './exchange.js'
import type { RouteMatch } from './match-route.js'
import type { RouteRule } from './route-map.js'
import {
  bodyText,
  contextOf,
  messageOf,
  put,
  ratingOf,
  requestCapture,
  userOf,
  versionOf,
  type BuildOptions,
} from './trace-fields.js'
import { resolveList, resolveValue, type SourceContext } from './value-source.js'

export type { Exchange, ExchangeUser } from './exchange.js'
export type { BuildOptions } from './trace-fields.js'
export { buildCatchAllTraces } from './catch-all.js'

function traceNameOf(rule: RouteRule, ctx: SourceContext): string {
  if (rule.trace_name_by === undefined) return rule.trace_name
  const value = resolveValue(rule.trace_name_by.source, ctx)
  return (value === undefined ? undefined : rule.trace_name_by.names[value]) ?? rule.trace_name
}

function messageFields(rule: RouteRule, ctx: SourceContext): string[] {
  return Object.entries(rule.message_fields ?? {}).flatMap(([key, source]) => {
    const value = resolveValue(source, ctx)
    return value === undefined ? [] : [`${key}=${value}`]
  })
}

/** Fields common to the request-time and completion traces of a rule. */
function common(
  match: RouteMatch,
  exchange: Exchange,
  ctx: SourceContext,
): Record<string, unknown> {
  const { rule, map } = match
  const trace: Record<string, unknown> = {
    trace_name: traceNameOf(rule, ctx),
    trace_type: map.trace_type ?? 'ApiCall',
    service_type: rule.service_type ?? map.service_type,
    resource_type: rule.resource_type,
    code: exchange.status,
  }
  const user = userOf(exchange.user)
  if (user !== undefined) trace.user = user
  put(trace, 'api_version', resolveValue(rule.api_version, ctx) ?? versionOf(exchange.path))
  return trace
}

/** One trace per fan-out element, or one trace with the single resource_id. */
function perResource(
  base: Record<string, unknown>,
  ids: readonly (string | undefined)[],
  name: string | undefined,
  newId: () => string,
): Record<string, unknown>[] {
  return ids.map((id) => {
    const trace: Record<string, unknown> = { trace_id: newId(), ...base }
    put(trace, 'resource_id', id)
    put(trace, 'resource_name', name)
    return trace
  })
}

/**
 * The traces of one exchange: one, or one per `fan_out` element (an empty fan-out gives one trace
 * with `resource_id`). Empty for read-only rules unless `options.recordReads`.
 */
export function buildTraces(
  match: RouteMatch,
  exchange: Exchange,
  options: BuildOptions = {},
): Record<string, unknown>[] {
  const { rule, map } = match
  if (rule.read_only === true && options.recordReads !== true) return []
  const ctx = contextOf(match.params, exchange)
  const keys = map.redact ?? []
  const captured = requestCapture(exchange, rule.capture_request !== false, keys)
  const jobId = rule.async_job === undefined ? undefined : resolveValue(rule.async_job.job_id, ctx)
  const base = common(match, exchange, ctx)
  base.trace_rating = ratingOf(exchange.status)
  base.request = captured.request
  base.response =
    rule.capture_response === false
      ? ''
      : bodyText(exchange.responseJson, exchange.responseText, keys)
  base.time = exchange.startedAt
  base.source_ip = exchange.sourceIp
  base.read_only = rule.read_only ?? rule.data_event === 'READ'
  base.total_time = Math.max(0, exchange.durationMs)
  base.content_length = Math.max(0, exchange.requestBytes)
  put(base, 'request_id', exchange.requestId)
  put(base, 'user_agent', exchange.userAgent)
  put(
    base,
    'message',
    messageOf([
      jobId === undefined ? undefined : `job_id=${jobId}`,
      ...messageFields(rule, ctx),
      captured.note,
    ]),
  )
  const list = resolveList(rule.fan_out, ctx)
  const ids = list.length > 0 ? list : [resolveValue(rule.resource_id, ctx)]
  return perResource(base, ids, resolveValue(rule.resource_name, ctx), options.newId ?? randomUUID)
}

function jobField(job: unknown, key: string): string | undefined {
  if (typeof job !== 'object' || job === null) return undefined
  const value = (job as Record<string, unknown>)[key]
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

const DAY_MS = 86_400_000

/**
 * Completion time: the job's `end_time` (epoch ms, epoch seconds or a date), else the end of the
 * exchange. A time before the request (beyond a day of clock skew) or over 7 days after it is
 * not the job's end: the exchange's end is used, so that OpenCTS never refuses the trace.
 */
function jobTime(job: unknown, exchange: Exchange): number {
  const end = jobField(job, 'end_time')
  const fallback = exchange.startedAt + Math.max(0, Math.round(exchange.durationMs))
  if (end === undefined) return fallback
  let ms = /^\d+$/.test(end) ? Number(end) : Date.parse(end)
  // 10 digits: epoch seconds (as ms they would fall in January 1970).
  if (/^\d{9,11}$/.test(end)) ms *= 1000
  const plausible = ms >= exchange.startedAt - DAY_MS && ms <= exchange.startedAt + 7 * DAY_MS
  return Number.isSafeInteger(ms) && plausible ? ms : fallback
}

/**
 * The SystemAction completion traces of an async job (spec ims-glance-auth §1.4): same trace_name,
 * source_ip '', response = the job JSON (redacted, capped), rating normal for SUCCESS and warning for
 * FAIL, request_id and message carry the job id. One per `async_job.fan_out` element, else one with
 * `async_job.resource_id`. Empty when the rule has no async_job or the job is not finished
 * (RUNNING, INIT): poll again.
 */
export function buildJobTraces(
  match: RouteMatch,
  exchange: Exchange,
  job: unknown,
  options: BuildOptions = {},
): Record<string, unknown>[] {
  const async = match.rule.async_job
  const status = jobField(job, 'status')
  if (async === undefined || (status !== 'SUCCESS' && status !== 'FAIL')) return []
  const ctx = contextOf(match.params, exchange, job)
  const jobId = jobField(job, 'job_id') ?? resolveValue(async.job_id, ctx)
  const base = common(match, exchange, ctx)
  base.trace_type = 'SystemAction'
  base.trace_rating = status === 'SUCCESS' ? 'normal' : 'warning'
  base.request = ''
  base.response = bodyText(job, undefined, match.map.redact ?? [])
  base.time = jobTime(job, exchange)
  base.source_ip = ''
  base.read_only = false
  put(base, 'request_id', jobId)
  put(
    base,
    'message',
    messageOf([
      jobId === undefined ? undefined : `job_id=${jobId}`,
      `status=${status}`,
      ...['job_type', 'error_code', 'fail_reason'].map((key) => {
        const value = jobField(job, key)
        return value === undefined ? undefined : `${key}=${value}`
      }),
    ]),
  )
  const list = resolveList(async.fan_out, ctx)
  const ids = list.length > 0 ? list : [resolveValue(async.resource_id, ctx)]
  const name = resolveValue(async.resource_name ?? match.rule.resource_name, ctx)
  return perResource(base, ids, name, options.newId ?? randomUUID)
}
