/**
 * Activity over the applied query's range: traces per interval stacked by status (normal, warning,
 * incident), and the top operations, so that a spike of warnings or deletions stands out. Counts
 * come from the streamed JSON export of the same query, read line by line (one trace per line) and
 * never kept: memory stays bounded; the count stops at MAX_TRACES and says so.
 */
import { useEffect, useState } from 'preact/hooks'
import { messageOf, send } from '../api'
import { ErrorBanner } from '../ui'
import type { ApiTrace } from './trace'
import type { AppliedQuery } from './trace-filters'

const MAX_TRACES = 100_000
const STEPS_MS = [
  60e3,
  5 * 60e3,
  10 * 60e3,
  15 * 60e3,
  30 * 60e3,
  3600e3,
  2 * 3600e3,
  3 * 3600e3,
  6 * 3600e3,
  12 * 3600e3,
  86_400e3,
]
const RATINGS = ['normal', 'warning', 'incident'] as const

interface Activity {
  readonly step: number
  readonly start: number
  readonly buckets: { normal: number; warning: number; incident: number }[]
  readonly operations: { name: string; count: number; bad: number }[]
  readonly total: number
  readonly capped: boolean
}

function stepFor(span: number): number {
  return STEPS_MS.find((s) => span / s <= 30) ?? 86_400e3
}

async function collect(query: AppliedQuery, signal: AbortSignal): Promise<Activity> {
  const step = stepFor(query.to - query.from)
  const start = Math.floor(query.from / step) * step
  const count = Math.max(1, Math.ceil((query.to - start) / step))
  const buckets = Array.from({ length: count }, () => ({ normal: 0, warning: 0, incident: 0 }))
  const ops = new Map<string, { count: number; bad: number }>()
  const response = await send('GET', '/v3/{project_id}/traces/export', {
    query: { ...query.params, format: 'json' },
    signal,
  })
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader()
  let total = 0
  let capped = false
  let rest = ''
  const take = (line: string): void => {
    const text = line.trim().replace(/,$/, '')
    if (!text.startsWith('{')) return
    const t = JSON.parse(text) as ApiTrace
    const i = Math.floor(((t.time ?? 0) - start) / step)
    const rating = RATINGS.find((r) => r === t.trace_rating) ?? 'normal'
    const bucket = buckets[Math.min(Math.max(i, 0), count - 1)]
    if (bucket !== undefined) bucket[rating] += 1
    const name = `${t.service_type ?? ''} ${t.trace_name ?? ''}`
    const op = ops.get(name) ?? { count: 0, bad: 0 }
    op.count += 1
    if (rating !== 'normal') op.bad += 1
    ops.set(name, op)
    total += 1
  }
  // Bounded: ends with the stream, or at MAX_TRACES.
  while (reader !== undefined) {
    const { done, value } = await reader.read()
    if (done) break
    const lines = (rest + value).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) take(line)
    if (total >= MAX_TRACES) {
      capped = true
      await reader.cancel()
      break
    }
  }
  if (!capped) take(rest)
  const operations = [...ops.entries()]
    .map(([name, v]) => ({ name, ...v }))
    .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name))
    .slice(0, 8)
  return { step, start, buckets, operations, total, capped }
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
        {activity.total}
        {activity.capped ? '+' : ''} traces, {bad} warning or incident, per{' '}
        {activity.step >= 3600e3 ? `${activity.step / 3600e3} h` : `${activity.step / 60e3} min`}
        {activity.capped ? ` (counted the newest ${MAX_TRACES})` : ''}
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
