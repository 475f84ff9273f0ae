/**
 * Activity over the applied query's range: traces per interval stacked by status (normal, warning,
 * incident), and the top operations, so that a spike of warnings or deletions stands out. The
 * server counts them (`GET /v3/{project_id}/traces/activity` with the same filters), so the chart
 * costs one small answer whatever the number of traces.
 */
import { useEffect, useState } from 'preact/hooks'
import { messageOf, send } from '../api'
import { ErrorBanner } from '../ui'
import type { AppliedQuery } from './trace-filters'

const RATINGS = ['normal', 'warning', 'incident'] as const

interface Activity {
  readonly step: number
  readonly start: number
  readonly buckets: { normal: number; warning: number; incident: number }[]
  readonly operations: { name: string; count: number; bad: number }[]
  readonly total: number
}

/** The answer of the activity route. */
interface ActivityBody {
  readonly interval: number
  readonly total: number
  readonly buckets: { start: number; normal: number; warning: number; incident: number }[]
  readonly operations: {
    service_type: string
    trace_name: string
    count: number
    warning: number
    incident: number
  }[]
}

async function collect(query: AppliedQuery, signal: AbortSignal): Promise<Activity> {
  const response = await send('GET', '/v3/{project_id}/traces/activity', {
    query: { ...query.params, top: '8' },
    signal,
  })
  const body = (await response.json()) as ActivityBody
  return {
    step: body.interval,
    start: body.buckets[0]?.start ?? query.from,
    buckets: body.buckets.map(({ normal, warning, incident }) => ({ normal, warning, incident })),
    operations: body.operations.map((o) => ({
      name: `${o.service_type} ${o.trace_name}`,
      count: o.count,
      bad: o.warning + o.incident,
    })),
    total: body.total,
  }
}

function label(ms: number, step: number): string {
  const d = new Date(ms)
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
  return step >= 86_400e3 || (step >= 3600e3 && d.getHours() === 0)
    ? `${d.getMonth() + 1}/${d.getDate()} ${hm}`
    : hm
}

export function ActivityChart(props: { readonly query: AppliedQuery }) {
  const [activity, setActivity] = useState<Activity | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    const abort = new AbortController()
    setError(null)
    collect(props.query, abort.signal)
      .then(setActivity)
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(`Activity chart: ${messageOf(e)}`)
      })
    return () => abort.abort()
  }, [props.query])

  if (error !== null) return <ErrorBanner error={error} />
  if (activity === null)
    return (
      <div class="chart" aria-busy="true">
        Loading activity…
      </div>
    )
  const max = Math.max(1, ...activity.buckets.map((b) => b.normal + b.warning + b.incident))
  const W = 600
  const H = 160
  const bw = W / activity.buckets.length
  const labelEvery = Math.ceil(activity.buckets.length / 6)
  const opMax = Math.max(1, ...activity.operations.map((o) => o.count))
  const bad = activity.buckets.reduce((n, b) => n + b.warning + b.incident, 0)
  return (
    <section class="chart" aria-labelledby="chart-title" data-testid="activity-chart">
      <h2 id="chart-title">Activity</h2>
      <p class="chart-summary" data-testid="chart-summary">
        {activity.total} traces, {bad} warning or incident, per{' '}
        {activity.step >= 86_400e3
          ? `${activity.step / 86_400e3} day`
          : activity.step >= 3600e3
            ? `${activity.step / 3600e3} h`
            : `${activity.step / 60e3} min`}
      </p>
      <div class="chart-body">
        <svg
          viewBox={`0 0 ${W} ${H + 20}`}
          role="img"
          class="bars"
          aria-label={`Traces per interval by status: ${activity.total} traces, ${bad} warning or incident`}
        >
          {activity.buckets.map((b, i) => {
            let y = H
            return (
              <g key={i}>
                <title>{`${label(activity.start + i * activity.step, activity.step)}: ${b.normal} normal, ${b.warning} warning, ${b.incident} incident`}</title>
                {RATINGS.map((r) => {
                  const h = (b[r] / max) * (H - 10)
                  y -= h
                  return h > 0 ? (
                    <rect
                      key={r}
                      class={`bar ${r}`}
                      x={i * bw + 1}
                      y={y}
                      width={Math.max(1, bw - 2)}
                      height={h}
                    />
                  ) : null
                })}
                {i % labelEvery === 0 ? (
                  <text x={i * bw + 2} y={H + 14} class="axis">
                    {label(activity.start + i * activity.step, activity.step)}
                  </text>
                ) : null}
              </g>
            )
          })}
          <line x1="0" x2={W} y1={H} y2={H} class="axis-line" />
        </svg>
        <div class="legend" aria-hidden="true">
          <span class="key normal">normal</span>
          <span class="key warning">warning</span>
          <span class="key incident">incident</span>
        </div>
        <div class="top-ops">
          <h3>Top operations</h3>
          <ol data-testid="top-operations">
            {activity.operations.map((o) => (
              <li key={o.name}>
                <span class="op-name">{o.name}</span>
                <span class="op-bar" aria-hidden="true">
                  <span
                    class={o.bad > 0 ? 'fill bad' : 'fill'}
                    style={{ width: `${(o.count / opMax) * 100}%` }}
                  />
                </span>
                <span class="op-count">
                  {o.count}
                  {o.bad > 0 ? ` (${o.bad} ⚠)` : ''}
                </span>
              </li>
            ))}
          </ol>
        </div>
      </div>
    </section>
  )
}
