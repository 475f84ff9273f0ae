/**
 * The dashboard, the console's landing page: over a chosen window (last hour, 24 hours, 7 days),
 * the activity chart by status with the top operations (activity API), activity by service and
 * rating, the top operators and the denied calls (statistics API), the recent insights and the
 * alarm rules (their APIs). Every number is counted by the server; the trace list stays one click
 * away.
 */
import { useState } from 'preact/hooks'
import { PageLink } from '../page-link'
import { ActivityChart } from '../traces/activity-chart'
import { windowQuery, WINDOWS, type DashboardWindow } from './dashboard-window'
import { DeniedCallsPanel } from './denied-calls-panel'
import { ServicesPanel } from './services-panel'
import { TopOperatorsPanel } from './top-operators-panel'
import { WatchPanel } from './watch-panel'

export function DashboardPage() {
  const [span, setSpan] = useState<DashboardWindow>('1h')
  const [query, setQuery] = useState(() => windowQuery('1h', Date.now()))

  function choose(w: DashboardWindow): void {
    setSpan(w)
    setQuery(windowQuery(w, Date.now()))
  }

  return (
    <section aria-labelledby="dashboard-title">
      <h1 id="dashboard-title">Dashboard</h1>
      <div class="filters row window-bar">
        <fieldset class="presets">
          <legend>Window</legend>
          {WINDOWS.map(([value, label]) => (
            <label key={value} class="chip">
              <input
                type="radio"
                name="window"
                value={value}
                checked={span === value}
                onChange={() => choose(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <button type="button" class="secondary" onClick={() => choose(span)}>
          Refresh
        </button>
        <PageLink page="traces">Open the trace list</PageLink>
      </div>
      <ActivityChart query={query} />
      <div class="dashboard-grid">
        <ServicesPanel query={query} />
        <TopOperatorsPanel query={query} />
        <DeniedCallsPanel query={query} />
        <WatchPanel query={query} />
      </div>
    </section>
  )
}
