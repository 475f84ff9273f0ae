/**
 * The trace list page: the search bar and filters, the activity chart of the applied query, the
 * list (50 per page, "Load more" follows `meta_data.marker`), row details, the JSON view and the
 * export (of the same query, search included).
 */
import { useEffect, useState } from 'preact/hooks'
import { ApiError, api, messageOf } from '../api'
import { ErrorBanner, Notice } from '../ui'
import { ActivityChart } from './activity-chart'
import { exportTraces, type ExportFormat } from './export-traces'
import { FilterForm } from './filter-form'
import type { ApiTrace } from './trace'
import { DEFAULT_FILTERS, toQuery, type AppliedQuery, type TraceFilters } from './trace-filters'
import { TraceTable } from './trace-table'
import { TraceView } from './trace-view'

const PAGE = '50'

interface ListAnswer {
  traces: ApiTrace[]
  meta_data: { count: number; marker: string | null }
}

export function TracesPage() {
  const [query, setQuery] = useState<AppliedQuery>(() => toQuery(DEFAULT_FILTERS, Date.now()))
  const [traces, setTraces] = useState<ApiTrace[]>([])
  const [marker, setMarker] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [searchError, setSearchError] = useState<string | null>(null)
  const [viewing, setViewing] = useState<ApiTrace | null>(null)
  const [exporting, setExporting] = useState(false)

  async function load(q: AppliedQuery, next: string | null): Promise<void> {
    setLoading(true)
    setError(null)
    setSearchError(null)
    try {
      const answer = await api<ListAnswer>('GET', '/v3/{project_id}/traces', {
        query: { ...q.params, limit: PAGE, ...(next === null ? {} : { next }) },
      })
      setTraces((old) => (next === null ? answer.traces : [...old, ...answer.traces]))
      setMarker(answer.meta_data.marker)
    } catch (e) {
      if (next === null) setTraces([])
      // A refused search is shown under the search bar, in the server's words.
      if (
        e instanceof ApiError &&
        e.status === 400 &&
        q.params.q !== undefined &&
        /\bq: /.test(e.message)
      )
        setSearchError(e.message)
      else setError(messageOf(e))
    } finally {
      setLoading(false)
    }
  }

  useEffect(() => void load(query, null), [query])

  function apply(filters: TraceFilters): void {
    try {
      setQuery(toQuery(filters, Date.now()))
    } catch (e) {
      setError(messageOf(e))
    }
  }

  async function doExport(format: ExportFormat): Promise<void> {
    setExporting(true)
    setError(null)
    try {
      await exportTraces(query.params, format)
    } catch (e) {
      setError(`Export failed: ${messageOf(e)}`)
    } finally {
      setExporting(false)
    }
  }

  return (
    <section aria-labelledby="traces-title">
      <h1 id="traces-title">Trace list</h1>
      <FilterForm
        onQuery={apply}
        onExport={(f) => void doExport(f)}
        exporting={exporting}
        searchError={searchError}
      />
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {searchError === null ? <ActivityChart query={query} /> : null}
      <p class="count" role="status" data-testid="trace-count">
        {loading
          ? 'Loading…'
          : `${traces.length} trace${traces.length === 1 ? '' : 's'} shown${marker === null ? '' : ', more match'}`}
      </p>
      {traces.length === 0 && !loading && error === null && searchError === null ? (
        <Notice>No trace matches these filters in this time range.</Notice>
      ) : (
        <TraceTable traces={traces} onView={setViewing} />
      )}
      {marker === null ? null : (
        <button
          type="button"
          class="secondary"
          disabled={loading}
          onClick={() => void load(query, marker)}
        >
          Load more
        </button>
      )}
      <TraceView trace={viewing} onClose={() => setViewing(null)} />
    </section>
  )
}
