/**
 * @module formats/cadf
 * DMTF Cloud Auditing Data Federation (CADF, DSP0262 1.0) events, as OpenStack services emit them
 * (the shape of pycadf): one JSON event a trace.
 * - `typeURI` the CADF event type, `id` the trace id, `eventType` `activity`, `eventTime` the trace
 *   time as pycadf writes it (`2026-12-06T21:56:10.123000+0000`);
 * - `action` from the trace name (create, read, update, delete; else `unknown`), `outcome`
 *   success / failure from the code (`unknown` without one), `reason` the code as an HTTP reason;
 * - `initiator` the operator (`service/security/account/user`, name, id, the project, the source
 *   address), `target` the resource (`service/<service_type>/<resource_type>`, id, name),
 *   `observer` OpenCTS; `requestPath` the resource URL; `severity` the trace rating;
 * - the request and response as `attachments` (parsed JSON where they parse).
 */
import { activityOf, outcomeOf, type Activity, type ApiTrace } from '../model/index.js'
import { bodyValue, operatorOf, withoutUndefined } from './trace-facts.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

export const CADF_EVENT_TYPE_URI = 'http://schemas.dmtf.org/cloud/audit/1.0/event'

const ACTION: Readonly<Record<Activity, string>> = {
  create: 'create',
  read: 'read',
  update: 'update',
  delete: 'delete',
  other: 'unknown',
}

/** pycadf's time form: ISO 8601 with microseconds and a `+0000` offset. */
export function cadfTime(ms: number): string {
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) return String(ms)
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+0000')
}

export function cadfEvent(trace: ApiTrace, context: FormatContext): Record<string, unknown> {
  const operator = operatorOf(trace)
  const attachments = [
    ['request', trace.request],
    ['response', trace.response],
  ]
    .filter((pair): pair is [string, string] => pair[1] !== undefined)
    .map(([name, body]) => ({ typeURI: 'mime:application/json', name, content: bodyValue(body) }))
  return withoutUndefined({
    typeURI: CADF_EVENT_TYPE_URI,
    id: trace.trace_id,
    eventType: 'activity',
    eventTime: cadfTime(trace.time),
    action: ACTION[activityOf(trace)],
    outcome: outcomeOf(trace),
    reason: trace.code === undefined ? undefined : { reasonType: 'HTTP', reasonCode: trace.code },
    severity: trace.trace_rating,
    initiator: withoutUndefined({
      typeURI: 'service/security/account/user',
      id: operator.id ?? operator.name ?? 'unknown',
      name: operator.name,
      project_id: context.projectId,
      domain_id: operator.accountId,
      host: trace.source_ip === undefined ? undefined : { address: trace.source_ip },
    }),
    target: withoutUndefined({
      typeURI: `service/${trace.service_type}/${trace.resource_type}`,
      id: trace.resource_id ?? trace.resource_name ?? 'unknown',
      name: trace.resource_name,
    }),
    observer: { typeURI: 'service/security', id: 'opencts', name: 'OpenCTS' },
    requestPath: trace.resource_url,
    tags: [`trace_name:${trace.trace_name}`, `trace_type:${trace.trace_type}`],
    attachments: attachments.length === 0 ? undefined : attachments,
  })
}

export const CADF: TraceFormat = {
  name: 'cadf',
  title: 'DMTF CADF 1.0 events (as OpenStack emits them), a JSON array',
  mediaType: 'application/json',
  extension: 'json',
  framing: 'array',
  record: (trace, context) => JSON.stringify(cadfEvent(trace, context)),
}
