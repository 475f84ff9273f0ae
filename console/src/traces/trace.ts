/** The API shape of a trace as the console reads it, and its full-JSON view. */
export interface ApiTrace {
  readonly trace_id: string
  readonly trace_name?: string
  readonly trace_rating?: string
  readonly trace_type?: string
  readonly service_type?: string
  readonly resource_type?: string
  readonly resource_id?: string | null
  readonly resource_name?: string | null
  readonly request?: string | null
  readonly response?: string | null
  readonly time?: number
  readonly user?: { readonly name?: string } | null
  readonly [field: string]: unknown
}

export function operatorOf(trace: ApiTrace): string {
  return trace.user?.name ?? ''
}

function parsed(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** The trace as pretty JSON, with `request` and `response` bodies parsed when they are JSON. */
export function traceJson(trace: ApiTrace): string {
  return JSON.stringify(
    { ...trace, request: parsed(trace.request), response: parsed(trace.response) },
    null,
    2,
  )
}

/** A request or response body for reading: pretty JSON when it parses, else as recorded. */
export function prettyBody(text: string | null | undefined): string {
  if (text === null || text === undefined || text === '') return '(none)'
  const value = parsed(text)
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2)
}
