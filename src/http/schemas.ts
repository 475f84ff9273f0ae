/**
 * @module http/schemas
 * JSON schemas shared by the routes. Request schemas are enforced by Fastify and are also the source
 * of /openapi.json, so the document cannot drift from what the server accepts. Field-level rules with
 * dedicated CTS error codes are checked by the capability modules, not here, so schemas only fix
 * shapes that have no dedicated code.
 */

export const PROJECT_ID = {
  type: 'string',
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'Project ID (IAM project IDs are 32 lowercase hex characters).',
} as const

export const projectParams = {
  type: 'object',
  required: ['project_id'],
  properties: { project_id: PROJECT_ID },
} as const

export const errorBody = {
  type: 'object',
  description: 'CTS error body.',
  properties: {
    error_code: { type: 'string', examples: ['CTS.0003'] },
    error_msg: { type: 'string' },
  },
} as const

/** A string query parameter with a description. */
export function queryString(description: string): { type: 'string'; description: string } {
  return { type: 'string', description }
}

export const traceObject = {
  type: 'object',
  description:
    'A trace (spec §3.1). In responses code, request and response are strings; time and record_time are epoch ms.',
  properties: {
    trace_id: { type: 'string' },
    trace_name: { type: 'string' },
    trace_rating: { type: 'string', enum: ['normal', 'warning', 'incident'] },
    trace_type: { type: 'string' },
    service_type: { type: 'string' },
    resource_type: { type: 'string' },
    resource_id: { type: 'string' },
    resource_name: { type: 'string' },
    request: { type: 'string' },
    response: { type: 'string' },
    code: { type: 'string' },
    api_version: { type: 'string' },
    message: { type: 'string' },
    time: { type: 'integer' },
    record_time: { type: 'integer' },
    user: { type: 'object', additionalProperties: true },
    source_ip: { type: 'string' },
    request_id: { type: 'string' },
  },
  additionalProperties: true,
} as const

/** A query parameter that may repeat (`?id=a&id=b`) as well as carry a comma list. */
export function queryStringList(description: string): Record<string, unknown> {
  return { description, anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] }
}
