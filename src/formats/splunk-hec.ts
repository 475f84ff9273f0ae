/**
 * @module formats/splunk-hec
 * Splunk HTTP Event Collector events (`/services/collector/event`): one JSON object a trace —
 * `time` (epoch seconds, milliseconds as the fraction), `source` `opencts`, `sourcetype`
 * `opencts:trace`, `host` the trace's endpoint when it has one, `event` the trace as ListTraces
 * answers it, `fields` (indexed) project, service, resource type, trace name and rating. A batch is
 * the objects one after the other (here one a line), as HEC takes it.
 */
import type { ApiTrace } from '../model/index.js'
import { withoutUndefined } from './trace-facts.js'
import type { FormatContext, TraceFormat } from './trace-format.js'

export function hecEvent(trace: ApiTrace, context: FormatContext): Record<string, unknown> {
  return withoutUndefined({
    time: trace.time / 1000,
    host: trace.endpoint,
    source: 'opencts',
    sourcetype: 'opencts:trace',
    event: trace,
    fields: {
      project_id: context.projectId,
      service_type: trace.service_type,
      resource_type: trace.resource_type,
      trace_name: trace.trace_name,
      trace_rating: trace.trace_rating,
    },
  })
}

export const SPLUNK_HEC: TraceFormat = {
  name: 'splunk-hec',
  title: 'Splunk HTTP Event Collector events, one a line',
  mediaType: 'application/json',
  extension: 'json',
  framing: 'lines',
  record: (trace, context) => JSON.stringify(hecEvent(trace, context)),
}
