/**
 * The time window the dashboard sums up (last hour, 24 hours or 7 days) and the ListTraces query
 * parameters of it, management traces only (the dashboard's scope, like the trace list's default).
 */
import type { AppliedQuery } from '../traces/trace-filters'

export type DashboardWindow = '1h' | '24h' | '7d'

export const WINDOWS: readonly (readonly [DashboardWindow, string, number])[] = [
  ['1h', 'Last hour', 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
]

/** The query of a window ending at `now` (inclusive: `to` is exclusive, so now + 1). */
export function windowQuery(window: DashboardWindow, now: number): AppliedQuery {
  const span = WINDOWS.find(([w]) => w === window)?.[2] ?? 3_600_000
  // A 7-day window starts a minute late, so it never reaches past what is kept.
  const from = now - span + (window === '7d' ? 60_000 : 0)
  const to = now + 1
  return { from, to, params: { trace_type: 'system', from: String(from), to: String(to) } }
}
