/**
 * @module ingest/self-audit
 * Builds the traces OpenCTS records about its own API operations (service_type `CTS`, names of
 * spec §14.3): who called, from where, the request, the response and the status code. Failed calls
 * are recorded too (rating `warning`), so that probing and mistakes are visible in the audit trail.
 */
import type { TraceRecord, TraceType, UserInfo } from '../model/index.js'
import { defaultRating } from '../model/index.js'
import type { Clock, IdSource } from '../platform/clock.js'

/** Who made an API call, as the HTTP layer saw it. */
export interface Caller {
  readonly sourceIp: string | null
  readonly user: UserInfo | null
  readonly requestId: string | null
  readonly userAgent: string | null
  readonly traceType: TraceType
}

export interface AuditEvent {
  readonly projectId: string
  /** e.g. `createTracker`, `deleteNotification`. */
  readonly traceName: string
  /** `tracker`, `notification`, `trace`, `cts-tracker` ... */
  readonly resourceType: string
  readonly resourceId?: string | null
  readonly resourceName?: string | null
  /** Request body (serialised to JSON unless a string). */
  readonly request?: unknown
  /** Response body (serialised to JSON unless a string); undefined for empty 204 answers. */
  readonly response?: unknown
  /** HTTP status answered. */
  readonly code: number
  readonly caller: Caller
  readonly apiVersion?: string
  /** `CTS` unless given (`IAM` for sign-ins). */
  readonly serviceType?: string
  /** From `code` unless given (e.g. `incident` when a source is blocked). */
  readonly rating?: TraceRecord['trace_rating']
}

function text(value: unknown): string | null {
  if (value === undefined || value === null) return null
  const out = typeof value === 'string' ? value : JSON.stringify(value)
  // Self-audit must never fail because a body is big: keep the first 100 KB.
  return out.length > 100 * 1024 ? out.slice(0, 100 * 1024) : out
}

export class SelfAudit {
  readonly #clock: Clock
  readonly #ids: IdSource

  constructor(clock: Clock, ids: IdSource) {
    this.#clock = clock
    this.#ids = ids
  }

  /** The stored-form trace for one audited API call. */
  trace(event: AuditEvent): TraceRecord {
    const now = this.#clock.now()
    const code = String(event.code)
    const user = event.caller.user
    const userName = user?.name ?? user?.user_name
    return {
      trace_id: this.#ids.uuid(),
      project_id: event.projectId,
      domain_id: user?.domain?.id ?? null,
      tracker_name: 'system',
      trace_name: event.traceName,
      trace_rating: event.rating ?? defaultRating(code),
      trace_type: event.caller.traceType,
      event_type: 'system',
      service_type: event.serviceType ?? 'CTS',
      resource_type: event.resourceType,
      resource_id: event.resourceId ?? null,
      resource_name: event.resourceName ?? null,
      request: text(event.request),
      response: text(event.response),
      code,
      api_version: event.apiVersion ?? 'v3',
      message: null,
      time: now,
      record_time: now,
      user,
      user_name: typeof userName === 'string' ? userName : null,
      access_key_id: typeof user?.access_key_id === 'string' ? user.access_key_id : null,
      source_ip: event.caller.sourceIp,
      request_id: event.caller.requestId,
      location_info: null,
      endpoint: null,
      resource_url: null,
      enterprise_project_id: null,
      resource_account_id: null,
      read_only: false,
      operation_id: null,
      user_agent: event.caller.userAgent,
      content_length: null,
      total_time: null,
    }
  }
}
