/**
 * The filter bar of the trace list. Sources and resource types come from
 * `GET /v3/{domain_id}/resources`, operators from `GET /v3/{project_id}/user-resources`, data
 * trackers from `GET /v3/{project_id}/trackers?tracker_type=data`.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { ErrorBanner } from '../ui'
import { EXPORT_FORMATS, type ExportFormat } from './export-traces'
import {
  DEFAULT_FILTERS,
  type Rating,
  type RangePreset,
  type SearchBy,
  type TraceFilters,
} from './trace-filters'

interface Options {
  readonly resources: readonly { service_type: string; resource: string[] }[]
  readonly users: readonly string[]
  readonly dataTrackers: readonly string[]
}

const RANGES: readonly [RangePreset, string][] = [
  ['1h', 'Last 1 hour'],
  ['1d', 'Last 1 day'],
  ['1w', 'Last 1 week'],
  ['custom', 'Customize'],
]
const SEARCH_BY: readonly [SearchBy, string][] = [
  ['resource_id', 'Resource ID'],
  ['trace_name', 'Trace name'],
  ['resource_name', 'Resource name'],
  ['trace_id', 'Trace ID'],
]
const RATINGS: readonly [Rating, string][] = [
  ['', 'All trace statuses'],
  ['normal', 'Normal'],
  ['warning', 'Warning'],
  ['incident', 'Incident'],
]

export function FilterForm(props: {
  readonly onQuery: (filters: TraceFilters) => void
  readonly onExport: (format: ExportFormat) => void
  readonly exporting: boolean
  /** The server's refusal of the search (`q`), shown under the search bar; null when none. */
  readonly searchError: string | null
}) {
  const [f, setF] = useState<TraceFilters>(DEFAULT_FILTERS)
  const [options, setOptions] = useState<Options>({ resources: [], users: [], dataTrackers: [] })
  const [error, setError] = useState<string | null>(null)
  const [exportFormat, setExportFormat] = useState<ExportFormat>('csv')
  const set = (patch: Partial<TraceFilters>): void => setF((old) => ({ ...old, ...patch }))

  useEffect(() => {
    Promise.all([
      api<{ resources: Options['resources'] }>('GET', '/v3/{domain_id}/resources'),
      api<{ users: { name: string }[] }>('GET', '/v3/{project_id}/user-resources'),
      api<{ trackers: { tracker_name: string }[] }>('GET', '/v3/{project_id}/trackers', {
        query: { tracker_type: 'data' },
      }),
    ])
      .then(([r, u, t]) =>
        setOptions({
          resources: r.resources,
          users: u.users.map((x) => x.name),
          dataTrackers: t.trackers.map((x) => x.tracker_name),
        }),
      )
      .catch((e: unknown) => setError(`Could not load the filter choices: ${messageOf(e)}`))
  }, [])

  const types = options.resources.find((r) => r.service_type === f.serviceType)?.resource ?? []
  const submit = (e: Event): void => {
    e.preventDefault()
    props.onQuery(f)
  }

  return (
    <form class="filters" onSubmit={submit} aria-label="Trace filters">
      <ErrorBanner error={error} />
      <div class="search-bar">
        <label>
          Search
          <input
            type="search"
            name="q"
            value={f.q}
            placeholder='service_type:(IMS OR ECS) AND code:>=400 AND NOT user:admin, or "web-7"'
            aria-describedby="q-help"
            aria-invalid={props.searchError === null ? undefined : true}
            aria-errormessage={props.searchError === null ? undefined : 'q-error'}
            onInput={(e) => set({ q: e.currentTarget.value })}
          />
        </label>
        <p id="q-help" class="count">
          <code>field:value</code>, <code>field:prefix*</code>, <code>field:(a OR b)</code>,{' '}
          <code>code:&gt;=400</code>, <code>NOT</code>, <code>AND</code>, <code>OR</code>,
          parentheses; a bare word or &quot;quoted text&quot; is found in resource names and ids and
          trace names. Fields: service_type, resource_type, resource_id, resource_name, trace_name,
          trace_rating, tracker_name, user, access_key_id, enterprise_project_id, source_ip, code.
          Combined with the filters below.
        </p>
        {props.searchError === null ? null : (
          <p id="q-error" class="error" role="alert" data-testid="search-error">
            {props.searchError}
          </p>
        )}
      </div>
      <fieldset class="presets">
        <legend>Time range</legend>
        {RANGES.map(([value, label]) => (
          <label key={value} class="chip">
            <input
              type="radio"
              name="range"
              value={value}
              checked={f.range === value}
              onChange={() => set({ range: value })}
            />
            {label}
          </label>
        ))}
        {f.range === 'custom' ? (
          <span class="custom-range">
            <label>
              From
              <input
                type="datetime-local"
                name="customFrom"
                value={f.customFrom}
                onInput={(e) => set({ customFrom: e.currentTarget.value })}
              />
            </label>
            <label>
              To
              <input
                type="datetime-local"
                name="customTo"
                value={f.customTo}
                onInput={(e) => set({ customTo: e.currentTarget.value })}
              />
            </label>
          </span>
        ) : null}
      </fieldset>
      <div class="filter-grid">
        <label>
          Trace type
          <select
            name="traceType"
            value={f.traceType}
            onChange={(e) =>
              set({ traceType: e.currentTarget.value as 'system' | 'data', trackerName: '' })
            }
          >
            <option value="system">Management</option>
            <option value="data">Data</option>
          </select>
        </label>
        {f.traceType === 'data' ? (
          <label>
            Data tracker
            <select
              name="trackerName"
              value={f.trackerName}
              onChange={(e) => set({ trackerName: e.currentTarget.value })}
            >
              <option value="">All data trackers</option>
              {options.dataTrackers.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        ) : null}
        <label>
          Trace source
          <select
            name="serviceType"
            value={f.serviceType}
            onChange={(e) => set({ serviceType: e.currentTarget.value, resourceType: '' })}
          >
            <option value="">All trace sources</option>
            {options.resources.map((r) => (
              <option key={r.service_type} value={r.service_type}>
                {r.service_type}
              </option>
            ))}
          </select>
        </label>
        <label>
          Resource type
          <select
            name="resourceType"
            value={f.resourceType}
            disabled={f.serviceType === ''}
            onChange={(e) => set({ resourceType: e.currentTarget.value })}
          >
            <option value="">All resource types</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search by
          <select
            name="searchBy"
            value={f.searchBy}
            onChange={(e) => set({ searchBy: e.currentTarget.value as SearchBy })}
          >
            {SEARCH_BY.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search value (exact, case-sensitive)
          <input
            name="search"
            value={f.search}
            onInput={(e) => set({ search: e.currentTarget.value })}
          />
        </label>
        <label>
          Operator
          <select name="user" value={f.user} onChange={(e) => set({ user: e.currentTarget.value })}>
            <option value="">All operators</option>
            {options.users.map((u) => (
              <option key={u} value={u}>
                {u}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset class="presets">
        <legend>Trace status</legend>
        {RATINGS.map(([value, label]) => (
          <label key={value} class="chip">
            <input
              type="radio"
              name="rating"
              value={value}
              checked={f.rating === value}
              onChange={() => set({ rating: value })}
            />
            {label}
          </label>
        ))}
      </fieldset>
      <div class="actions">
        <button type="submit">Query</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setF(DEFAULT_FILTERS)
            props.onQuery(DEFAULT_FILTERS)
          }}
        >
          Reset
        </button>
        <span class="export">
          <label>
            Export format
            <select
              name="exportFormat"
              value={exportFormat}
              onChange={(e) => setExportFormat(e.currentTarget.value as ExportFormat)}
            >
              {EXPORT_FORMATS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="button"
            class="secondary"
            disabled={props.exporting}
            onClick={() => props.onExport(exportFormat)}
          >
            Export
          </button>
        </span>
      </div>
    </form>
  )
}
