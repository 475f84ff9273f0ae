/**
 * The insights page: what the detectors found (`GET /v3/{project_id}/insights`), newest first,
 * filtered by type and state, 50 per page ("Load more" follows `meta_data.marker`): unusual call
 * and error rates with their baseline and peak, denied bursts, high-risk operations, and the top
 * attributions of each.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { ErrorBanner, Notice, formatTime } from '../ui'

const PAGE = '50'
const TYPES = [
  'ApiCallRateInsight',
  'ApiErrorRateInsight',
  'DeniedBurstInsight',
  'HighRiskOperationInsight',
] as const

interface Attribution {
  attribute: string
  insight: { value: string; average: number }[]
}

/** An insight as the API answers it (docs/insights.md). */
export interface Insight {
  id: string
  insight_id: string
  insight_type: string
  state: 'start' | 'end'
  time: number
  service_type: string | null
  trace_name: string | null
  subject: Record<string, string | null>
  statistics: {
    baseline: { average: number | null }
    insight: { average: number; peak: number }
    insight_duration: number
  } | null
  attributions: Attribution[]
  reasons: string[]
}

interface ListAnswer {
  insights: Insight[]
  meta_data: { count: number; marker: string | null }
}

/** What the insight is about: the operation, and the user or source IP. */
export function subjectOf(i: Insight): string {
  const operation = i.service_type === null ? '' : `${i.service_type} ${i.trace_name ?? ''}`
  const who = Object.entries(i.subject)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k === 'source_ip' ? 'IP' : k} ${v}`)
    .join(', ')
  return [operation, who].filter((s) => s !== '').join(' · ')
}

/** Start: the first minute's count when it crossed; end: average and peak per minute, duration. */
function valuesOf(i: Insight): string {
  if (i.statistics === null) return i.reasons.join(', ').replace(/_/g, ' ')
  const { baseline, insight, insight_duration } = i.statistics
  const base = baseline.average === null ? '' : `baseline ${baseline.average}/min, `
  if (i.state === 'start') return `${base}${insight.average} in its first minute`
  return `${base}${insight.average}/min, peak ${insight.peak}, ${insight_duration} min`
}

function topOf(i: Insight): string {
  return i.attributions
    .map((a) => (a.insight[0] === undefined ? '' : `${a.attribute} ${a.insight[0].value}`))
    .filter((s) => s !== '')
    .join(', ')
}

export function InsightsPage() {
  const [type, setType] = useState('')
  const [state, setState] = useState('')
  const [insights, setInsights] = useState<Insight[] | null>(null)
  const [marker, setMarker] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)

  async function load(next: string | null): Promise<void> {
    setLoading(true)
    setError(null)
    try {
      const answer = await api<ListAnswer>('GET', '/v3/{project_id}/insights', {
        query: {
          limit: PAGE,
          ...(type === '' ? {} : { insight_type: type }),
          ...(state === '' ? {} : { state }),
          ...(next === null ? {} : { next }),
        },
      })
      setInsights((old) => (next === null ? answer.insights : [...(old ?? []), ...answer.insights]))
      setMarker(answer.meta_data.marker)
    } catch (e) {
      if (next === null) setInsights([])
      setError(messageOf(e))
    } finally {
      setLoading(false)
    }
  }

  useEffect(() => void load(null), [type, state])

  return (
    <section aria-labelledby="insights-title">
      <h1 id="insights-title">Insights</h1>
      <div class="actions">
        <label>
          Type{' '}
          <select
            aria-label="Insight type"
            value={type}
            onChange={(e) => setType((e.target as HTMLSelectElement).value)}
          >
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          State{' '}
          <select
            aria-label="State"
            value={state}
            onChange={(e) => setState((e.target as HTMLSelectElement).value)}
          >
            <option value="">Start and end</option>
            <option value="start">start</option>
            <option value="end">end</option>
          </select>
        </label>
        <button type="button" class="secondary" onClick={() => void load(null)}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      <p data-testid="insight-count">
        {insights === null || loading ? 'Loading…' : `${insights.length} insights shown`}
      </p>
      {insights === null ? null : insights.length === 0 ? (
        <Notice>No insight: nothing unusual was found.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-label="Insights">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                <th scope="col">About</th>
                <th scope="col">Values</th>
                <th scope="col">Top attributions</th>
              </tr>
            </thead>
            <tbody>
              {insights.map((i) => (
                <tr key={i.id} data-insight-id={i.id}>
                  <td>{formatTime(i.time)}</td>
                  <td>{i.insight_type}</td>
                  <td>{i.state}</td>
                  <td>{subjectOf(i)}</td>
                  <td>{valuesOf(i)}</td>
                  <td>{topOf(i)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {marker === null ? null : (
        <button
          type="button"
          class="secondary"
          disabled={loading}
          onClick={() => void load(marker)}
        >
          Load more
        </button>
      )}
    </section>
  )
}
