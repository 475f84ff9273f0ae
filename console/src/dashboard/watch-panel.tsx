/**
 * What needs attention: the newest insights found in the dashboard's window (`GET
 * /v3/{project_id}/insights`, 5 newest) and the alarm rules, those in alarm first (`GET
 * /v3/{project_id}/alarms`), each linking to its page.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { STATE_LABELS, type Alarm } from '../alarms/alarms-page'
import { subjectOf, type Insight } from '../insights/insights-page'
import { PageLink } from '../page-link'
import type { AppliedQuery } from '../traces/trace-filters'
import { ErrorBanner, formatTime } from '../ui'

export const RECENT_INSIGHTS = 5
export const SHOWN_ALARMS = 5

const STATE_ORDER: Record<string, number> = { alarm: 0, insufficient_data: 1, ok: 2 }

/** The rules shown: in alarm first, then insufficient data, then ok; by name within a state. */
export function alarmsShown(alarms: readonly Alarm[]): Alarm[] {
  return [...alarms]
    .sort(
      (a, b) =>
        (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3) ||
        (a.alarm_name < b.alarm_name ? -1 : a.alarm_name > b.alarm_name ? 1 : 0),
    )
    .slice(0, SHOWN_ALARMS)
}

export function WatchPanel(props: { readonly query: AppliedQuery }) {
  const [insights, setInsights] = useState<Insight[] | null>(null)
  const [alarms, setAlarms] = useState<Alarm[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    setInsights(null)
    setAlarms(null)
    setError(null)
    Promise.all([
      api<{ insights: Insight[] }>('GET', '/v3/{project_id}/insights', {
        query: {
          from: String(props.query.from),
          to: String(props.query.to),
          limit: String(RECENT_INSIGHTS),
        },
      }),
      api<{ alarms: Alarm[] }>('GET', '/v3/{project_id}/alarms'),
    ])
      .then(([i, a]) => {
        if (!live) return
        setInsights(i.insights)
        setAlarms(a.alarms)
      })
      .catch((e: unknown) => {
        if (live) setError(messageOf(e))
      })
    return () => {
      live = false
    }
  }, [props.query])
  const firing = alarms?.filter((a) => a.state === 'alarm').length ?? 0
  return (
    <section class="panel" aria-labelledby="watch-title" data-testid="watch-panel">
      <h2 id="watch-title">Insights and alarms</h2>
      <ErrorBanner error={error === null ? null : `Insights and alarms: ${error}`} />
      {insights === null || alarms === null ? (
        error === null ? (
          <p aria-busy="true">Loading…</p>
        ) : null
      ) : (
        <>
          <h3>
            Recent insights (<PageLink page="insights">all</PageLink>)
          </h3>
          {insights.length === 0 ? (
            <p>No insight in this window.</p>
          ) : (
            <ul class="plain" aria-label="Recent insights">
              {insights.map((i) => (
                <li key={i.id} data-insight={i.id}>
                  <time>{formatTime(i.time)}</time> {i.insight_type.replace(/Insight$/, '')}{' '}
                  {i.state} · {subjectOf(i)}
                </li>
              ))}
            </ul>
          )}
          <h3>
            Alarms: {firing} in alarm of {alarms.length} (<PageLink page="alarms">all</PageLink>)
          </h3>
          {alarms.length === 0 ? (
            <p>No alarm rule.</p>
          ) : (
            <ul class="plain" aria-label="Alarm rules">
              {alarmsShown(alarms).map((a) => (
                <li key={a.alarm_id} data-alarm={a.alarm_id}>
                  <span class={`status ${a.state}`}>{STATE_LABELS[a.state] ?? a.state}</span>{' '}
                  {a.alarm_name}
                  {a.last_count === null ? '' : ` · ${a.last_count} traces`}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  )
}
