/**
 * @module http/openapi
 * Builds the OpenAPI 3.1 document from the schemas of the registered routes (collected by an
 * `onRoute` hook), so the document is always what the server enforces.
 */
import type { RouteOptions } from 'fastify'
import { errorBody } from './schemas.js'

interface RouteSchema {
  summary?: string
  description?: string
  tags?: string[]
  params?: { properties?: Record<string, unknown>; required?: string[] }
  querystring?: { properties?: Record<string, unknown>; required?: string[] }
  body?: unknown
  documentedBody?: unknown
  response?: Record<string, unknown>
  hide?: boolean
}

export class OpenApiCollector {
  readonly #routes: { method: string; url: string; schema: RouteSchema }[] = []

  onRoute(route: RouteOptions): void {
    const schema = (route.schema ?? {}) as RouteSchema
    if (schema.hide === true) return
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue
      this.#routes.push({ method: method.toLowerCase(), url: route.url, schema })
    }
  }

  document(version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {}
    for (const { method, url, schema } of this.#routes) {
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
      const parameters: unknown[] = []
      for (const [where, group] of [
        ['path', schema.params],
        ['query', schema.querystring],
      ] as const) {
        for (const [name, property] of Object.entries(group?.properties ?? {})) {
          parameters.push({
            name,
            in: where,
            required: where === 'path' || (group?.required ?? []).includes(name),
            schema: property,
          })
        }
      }
      const responses: Record<string, unknown> = {}
      for (const [status, body] of Object.entries(schema.response ?? {})) {
        const description = (body as { description?: string }).description ?? 'Success'
        responses[status] =
          status === '204'
            ? { description }
            : { description, content: { 'application/json': { schema: body } } }
      }
      responses['4XX'] = {
        description: 'CTS error',
        content: { 'application/json': { schema: errorBody } },
      }
      const operation: Record<string, unknown> = {
        summary: schema.summary ?? `${method.toUpperCase()} ${path}`,
        tags: schema.tags ?? [],
        parameters,
        responses,
      }
      if (schema.description !== undefined) operation.description = schema.description
      const body = schema.body ?? schema.documentedBody
      if (body !== undefined) {
        operation.requestBody = {
          required: true,
          content: { 'application/json': { schema: body } },
        }
      }
      paths[path] = { ...(paths[path] ?? {}), [method]: operation }
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'OpenCTS API',
        version,
        description:
          'Cloud Trace Service compatible API (v3, legacy v1.0/v2.0) plus OpenCTS extensions. Errors are {"error_code","error_msg"}.',
      },
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    }
  }
}

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI operation summary. */
    summary?: string
    /** OpenAPI operation description. */
    description?: string
    /** OpenAPI tags. */
    tags?: string[]
    /** Leave the route out of /openapi.json. */
    hide?: boolean
    /** Request body documented in /openapi.json but validated by the handler, not by Fastify. */
    documentedBody?: unknown
  }
}
