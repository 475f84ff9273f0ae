/**
 * The resource history page (`/console/resources?resource_id=…` or `?resource_name=…`): who
 * created, changed, shared and deleted one resource, across services — the summary and the events
 * newest first with their request and response, 50 a page ("Load more" follows
 * `meta_data.marker`). Everything comes from `GET /v3/{project_id}/resources/history`; trace lists
 * link here from a resource's id and name.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { navigate } from '../router'
import { ErrorBanner, Notice } from '../ui'
import { HistoryEvents } from './history-events'
import { HistorySummary } from './history-summary'
import {
  lookupOf,
  type HistoryEvent,
  type ResourceHistory,
  type ResourceLookup,
} from './resource-history'

const PAGE = '50'

export function ResourceHistoryPage(props: { readonly search: string }) {
  const lookup = lookupOf(props.search)
  const [by, setBy] = useState<ResourceLookup['by']>(lookup?.by ?? 'resource_id')
  const [value, setValue] = useState(lookup?.value ?? '')
  const [history, setHistory] = useState<ResourceHistory | null>(null)
  const [events, setEvents] = useState<HistoryEvent[]>([])
  const [marker, setMarker] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<string | null>(null)

  async function load(target: ResourceLookup, next: string | null): Promise<void> {
    setLoading(true)
    setError(null)
    try {
      const answer = await api<ResourceHistory>('GET', '/v3/{project_id}/resources/history', {
        query: { [target.by]: target.value, limit: PAGE, ...(next === null ? {} : { next }) },
      })
      if (next === null) setHistory(answer)
      setEvents((old) => (next === null ? [...answer.events] : [...old, ...answer.events]))
      setMarker(answer.meta_data.marker)
    } catch (e) {
      if (next === null) {
        setHistory(null)
        setEvents([])
        setMarker(null)
      }
      setError(messageOf(e))
    } finally {
      setLoading(false)
    }
  }

  useEffect(() => {
    const target = lookupOf(props.search)
    if (target !== null) {
      setBy(target.by)
      setValue(target.value)
      void load(target, null)
    } else {
      setHistory(null)
      setEvents([])
      setMarker(null)
    }
  }, [props.search])

  const submit = (e: Event): void => {
    e.preventDefault()
    const trimmed = value.trim()
    if (trimmed === '') setError('Give a resource ID or name.')
    else navigate('resources', false, { [by]: trimmed })
  }

  const name = history?.resource.resource_name ?? lookup?.value ?? ''
  return (
    <section aria-labelledby="history-title">
      <h1 id="history-title">Resource history</h1>
      <form class="filters row" onSubmit={submit} aria-label="Resource">
        <label>
          Look up by
          <select
            name="historyBy"
            value={by}
            onChange={(e) => setBy(e.currentTarget.value as ResourceLookup['by'])}
          >
            <option value="resource_id">Resource ID</option>
            <option value="resource_name">Resource name</option>
          </select>
        </label>
        <label>
          Resource (exact, case-sensitive)
          <input
            name="historyValue"
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Show history</button>
      </form>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {lookup === null ? (
        <Notice>
          Give a resource ID or name, or open a resource from the trace list, to see who created,
          changed, shared and deleted it over the last 7 days.
        </Notice>
      ) : history === null ? (
        loading ? (
          <p class="count" role="status">
            Loading…
          </p>
        ) : null
      ) : history.summary.total === 0 ? (
        <Notice>No trace names this resource in the last 7 days.</Notice>
      ) : (
        <>
          <h2 data-testid="history-resource">
            {name}
            {history.resource.resource_id !== undefined && history.resource.resource_id !== name ? (
              <span class="mono"> ({history.resource.resource_id})</span>
            ) : null}{' '}
            <span class="count">
              {history.resource.service_type} {history.resource.resource_type}
            </span>
          </h2>
          <HistorySummary summary={history.summary} />
          <HistoryEvents events={events} />
          <p class="count" role="status" data-testid="history-count">
            {loading
              ? 'Loading…'
              : `${events.length} of ${history.summary.total} event${history.summary.total === 1 ? '' : 's'} shown`}
          </p>
          {marker === null || lookup === null ? null : (
            <button
              type="button"
              class="secondary"
              disabled={loading}
              onClick={() => void load(lookup, marker)}
            >
              Load more
            </button>
          )}
        </>
      )}
    </section>
  )
}
