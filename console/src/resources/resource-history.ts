/**
 * The answer of `GET /v3/{project_id}/resources/history` as the console reads it (see
 * docs/resource-history.md), and the lookup a page URL asks for.
 */
export type HistoryKind = 'create' | 'update' | 'share' | 'delete' | 'read' | 'other'

export const KINDS: readonly HistoryKind[] = [
  'create',
  'update',
  'share',
  'delete',
  'read',
  'other',
]

export interface HistoryMoment {
  readonly trace_id: string
  readonly time: number
  readonly trace_name: string
  readonly user?: string
  readonly source_ip?: string
}

export interface HistoryEvent {
  readonly trace_id: string
  readonly time: number
  readonly trace_name: string
  readonly kind: HistoryKind
  readonly trace_rating: string
  readonly code?: string
  readonly user?: string
  readonly source_ip?: string
  readonly service_type: string
  readonly resource_type: string
  readonly resource_id?: string
  readonly resource_name?: string
  readonly request?: string
  readonly response?: string
}

export interface ResourceHistory {
  readonly resource: Readonly<Record<string, string>>
  readonly summary: {
    readonly total: number
    readonly complete: boolean
    readonly first_time: number | null
    readonly last_time: number | null
    readonly created: HistoryMoment | null
    readonly last_changed: HistoryMoment | null
    readonly deleted: HistoryMoment | null
    readonly counts: Readonly<Record<HistoryKind | 'failed', number>>
    readonly operators: readonly {
      readonly user: string
      readonly count: number
      readonly kinds: readonly HistoryKind[]
      readonly last_time: number
    }[]
  }
  readonly events: readonly HistoryEvent[]
  readonly meta_data: { readonly count: number; readonly marker: string | null }
}

/** Which resource a page shows: by id or by name (the API takes exactly one). */
export interface ResourceLookup {
  readonly by: 'resource_id' | 'resource_name'
  readonly value: string
}

/** The lookup of a page URL's query string, or null when it names no resource. */
export function lookupOf(search: string): ResourceLookup | null {
  const params = new URLSearchParams(search)
  const id = params.get('resource_id') ?? ''
  if (id !== '') return { by: 'resource_id', value: id }
  const name = params.get('resource_name') ?? ''
  if (name !== '') return { by: 'resource_name', value: name }
  return null
}
