/**
 * @module formats/ecs
 * Elastic Common Schema (ECS 8.11) JSON, one document a trace, as Elasticsearch and Elastic
 * Security take it: `@timestamp`, `event.*` (kind `event`, category `configuration` or `iam`, type
 * from the activity, outcome from the code), `user.*`, `source.ip`, `cloud.*`, `http.response`,
 * `url.original`, `message`; what ECS has no field for is under `opencts.*` (a custom namespace, as
 * ECS asks for).
 */
import { activityOf, numericCode, outcomeOf, type Activity, type ApiTrace } from '../model/index.js'
import { bodyValue, isoTime, operatorOf, withoutUndefined } from './trace-facts.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

export const ECS_VERSION = '8.11.0'

const EVENT_TYPE: Readonly<Record<Activity, string>> = {
  create: 'creation',
  read: 'access',
  update: 'change',
  delete: 'deletion',
  other: 'info',
}

/** ECS severity: the trace rating as a number (normal 1, warning 2, incident 3). */
const SEVERITY: Readonly<Record<string, number>> = { normal: 1, warning: 2, incident: 3 }

/** Identity services' traces are `iam` events, the others `configuration` changes or reads. */
const IAM_SERVICES = new Set(['IAM', 'IdentityCenter', 'STS', 'KMS'])

export function ecsDocument(trace: ApiTrace, context: FormatContext): Record<string, unknown> {
  const operator = operatorOf(trace)
  const code = numericCode(trace)
  return withoutUndefined({
    '@timestamp': isoTime(trace.time),
    ecs: { version: ECS_VERSION },
    message: trace.message ?? `${trace.trace_name} ${trace.resource_type}`,
    event: withoutUndefined({
      id: trace.trace_id,
      kind: 'event',
      category: [IAM_SERVICES.has(trace.service_type) ? 'iam' : 'configuration'],
      type: [EVENT_TYPE[activityOf(trace)]],
      action: trace.trace_name,
      outcome: outcomeOf(trace),
      created: isoTime(trace.record_time),
      provider: trace.service_type,
      module: 'opencts',
      dataset: 'opencts.trace',
      severity: SEVERITY[trace.trace_rating],
    }),
    user:
      operator.name === undefined && operator.id === undefined
        ? undefined
        : withoutUndefined({
            name: operator.name,
            id: operator.id,
            domain: operator.accountName,
          }),
    source: trace.source_ip === undefined ? undefined : { ip: trace.source_ip },
    cloud: withoutUndefined({
      account: { id: context.projectId },
      region: trace.location_info,
      service: { name: trace.service_type },
    }),
    http: code === undefined ? undefined : { response: { status_code: code } },
    url: trace.resource_url === undefined ? undefined : { original: trace.resource_url },
    opencts: withoutUndefined({
      trace_rating: trace.trace_rating,
      trace_type: trace.trace_type,
      resource_type: trace.resource_type,
      resource_id: trace.resource_id,
      resource_name: trace.resource_name,
      code: trace.code,
      api_version: trace.api_version,
      request_id: trace.request_id,
      access_key_id: operator.accessKeyId,
      account_id: operator.accountId,
      enterprise_project_id: trace.enterprise_project_id,
      request: bodyValue(trace.request),
      response: bodyValue(trace.response),
    }),
  })
}

export const ECS: TraceFormat = {
  name: 'ecs',
  title: `Elastic Common Schema ${ECS_VERSION} JSON, one document a line`,
  mediaType: 'application/x-ndjson',
  extension: 'ndjson',
  framing: 'lines',
  record: (trace, context) => JSON.stringify(ecsDocument(trace, context)),
}
