/**
 * @module formats/ocsf
 * Open Cybersecurity Schema Framework (OCSF) events of class API Activity (6003, category
 * Application Activity, 6), one JSON event a trace, of schema version OCSF_VERSION. The field by
 * field mapping and the schema facts it relies on are in docs/formats.md.
 */
import { activityOf, numericCode, outcomeOf, type Activity, type ApiTrace } from '../model/index.js'
import { bodyValue, isoTime, operatorOf, withoutUndefined } from './trace-facts.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

export const OCSF_VERSION = '1.7.0'
export const OCSF_CLASS_UID = 6003
export const OCSF_CATEGORY_UID = 6

/** activity_id and activity_name of class 6003. */
const ACTIVITY: Readonly<Record<Activity, readonly [number, string]>> = {
  create: [1, 'Create'],
  read: [2, 'Read'],
  update: [3, 'Update'],
  delete: [4, 'Delete'],
  other: [99, 'Other'],
}

/** severity_id and severity of base_event from the trace rating. */
const SEVERITY: Readonly<Record<string, readonly [number, string]>> = {
  normal: [1, 'Informational'],
  warning: [3, 'Medium'],
  incident: [4, 'High'],
}

/** status_id and status of base_event from the outcome. */
const STATUS = {
  success: [1, 'Success'],
  failure: [2, 'Failure'],
  unknown: [0, 'Unknown'],
} as const

export function ocsfEvent(trace: ApiTrace, context: FormatContext): Record<string, unknown> {
  const [activityId, activityName] = ACTIVITY[activityOf(trace)]
  const [severityId, severity] = SEVERITY[trace.trace_rating] ?? [0, 'Unknown']
  const [statusId, status] = STATUS[outcomeOf(trace)]
  const operator = operatorOf(trace)
  const code = numericCode(trace)
  const user = withoutUndefined({
    name: operator.name,
    uid: operator.id,
    account:
      operator.accountId === undefined && operator.accountName === undefined
        ? undefined
        : withoutUndefined({ uid: operator.accountId, name: operator.accountName }),
  })
  return withoutUndefined({
    activity_id: activityId,
    activity_name: activityName,
    category_uid: OCSF_CATEGORY_UID,
    category_name: 'Application Activity',
    class_uid: OCSF_CLASS_UID,
    class_name: 'API Activity',
    type_uid: OCSF_CLASS_UID * 100 + activityId,
    type_name: `API Activity: ${activityName}`,
    severity_id: severityId,
    severity,
    status_id: statusId,
    status,
    status_code: trace.code,
    time: trace.time,
    timezone_offset: 0,
    message: trace.message ?? `${trace.trace_name} ${trace.resource_type}`,
    metadata: withoutUndefined({
      version: OCSF_VERSION,
      profiles: ['cloud'],
      uid: trace.trace_id,
      log_name: 'traces',
      original_time: isoTime(trace.time),
      logged_time: trace.record_time,
      tenant_uid: context.projectId,
      correlation_uid: trace.request_id,
      product: {
        name: 'OpenCTS',
        vendor_name: 'OpenCTS',
        version: context.productVersion,
      },
    }),
    actor: { user: Object.keys(user).length === 0 ? { name: 'unknown' } : user },
    api: withoutUndefined({
      operation: trace.trace_name,
      version: trace.api_version,
      service: { name: trace.service_type },
      request: withoutUndefined({
        uid: trace.request_id ?? trace.trace_id,
        data: bodyValue(trace.request),
      }),
      response: withoutUndefined({
        code,
        message: trace.message,
        data: bodyValue(trace.response),
      }),
    }),
    src_endpoint: trace.source_ip === undefined ? { name: 'unknown' } : { ip: trace.source_ip },
    resources: [
      withoutUndefined({
        uid: trace.resource_id,
        name: trace.resource_name,
        type: trace.resource_type,
      }),
    ],
    cloud: withoutUndefined({
      provider: 'OpenCTS',
      region: trace.location_info,
      account: { uid: context.projectId },
    }),
    http_request:
      trace.resource_url === undefined ? undefined : { url: { url_string: trace.resource_url } },
    unmapped: withoutUndefined({
      trace_type: trace.trace_type,
      trace_rating: trace.trace_rating,
      access_key_id: operator.accessKeyId,
      enterprise_project_id: trace.enterprise_project_id,
      resource_account_id: trace.resource_account_id,
      endpoint: trace.endpoint,
    }),
  })
}

export const OCSF: TraceFormat = {
  name: 'ocsf',
  title: `OCSF ${OCSF_VERSION} API Activity (class 6003) events, one a line`,
  mediaType: 'application/x-ndjson',
  extension: 'ndjson',
  framing: 'lines',
  record: (trace, context) => JSON.stringify(ocsfEvent(trace, context)),
}
