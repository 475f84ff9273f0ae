/**
 * Test helper: stored-form traces with sensible values, overridable per field.
 */
import { randomUUID } from 'node:crypto'
import type { TraceRecord } from '../../src/model/index.js'

export function makeTrace(overrides: Partial<TraceRecord> = {}): TraceRecord {
  const time = overrides.time ?? Date.now() - 1000
  return {
    trace_id: randomUUID(),
    project_id: 'p1',
    domain_id: 'd1',
    tracker_name: 'system',
    trace_name: 'createImage',
    trace_rating: 'normal',
    trace_type: 'ApiCall',
    event_type: 'system',
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: 'img-1',
    resource_name: 'ubuntu',
    request: '{"name":"ubuntu"}',
    response: '{"id":"img-1"}',
    code: '201',
    api_version: 'v2',
    message: null,
    time,
    record_time: time + 5,
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
    user_name: 'alice',
    access_key_id: null,
    source_ip: '192.0.2.10',
    request_id: null,
    location_info: null,
    endpoint: null,
    resource_url: null,
    enterprise_project_id: null,
    resource_account_id: null,
    read_only: false,
    operation_id: null,
    user_agent: null,
    content_length: null,
    total_time: null,
    ...overrides,
  }
}

/** A reported (API representation) trace body as producers send it. */
export function reportedTrace(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: Date.now() - 1000,
    service_type: 'IMS',
    resource_type: 'image',
    resource_id: 'img-1',
    resource_name: 'ubuntu',
    trace_name: 'createImage',
    trace_type: 'ApiCall',
    code: 201,
    request: { name: 'ubuntu' },
    response: '{"id":"img-1"}',
    user: { id: 'u1', name: 'alice', domain: { id: 'd1', name: 'acme' } },
    source_ip: '192.0.2.10',
    ...overrides,
  }
}
