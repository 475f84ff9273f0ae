/**
 * Activity by service and rating over the window: a row per trace source with its traces per
 * status (normal, warning, incident), most traces first — one statistics request
 * (`group_by=service_type,trace_rating`, every group up to MAX_STAT_TOP). A trace without a rating
 * counts as normal, as in the activity chart.
 */
import type { AppliedQuery } from '../traces/trace-filters'
import { ErrorBanner } from '../ui'
import { MAX_STAT_TOP } from './statistics'
import { useStatistics } from './use-statistics'

const REQUESTS = [{ groupBy: ['service_type', 'trace_rating'], top: MAX_STAT_TOP }] as const

interface ServiceRow {
  normal: number
  warning: number
  incident: number
  total: number
}

export function ServicesPanel(props: { readonly query: AppliedQuery }) {
  const { answers, error } = useStatistics(props.query, REQUESTS)
  const stats = answers?.[0]
  const services = new Map<string, ServiceRow>()
  for (const g of stats?.groups ?? []) {
    const name = g.values.service_type ?? '(none)'
    const row = services.get(name) ?? { normal: 0, warning: 0, incident: 0, total: 0 }
    const rating = g.values.trace_rating
    row[rating === 'warning' || rating === 'incident' ? rating : 'normal'] += g.count
    row.total += g.count
    services.set(name, row)
  }
  const rows = [...services].sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]))
  return (
    <section class="panel" aria-labelledby="services-title" data-testid="services-panel">
      <h2 id="services-title">Activity by service and rating</h2>
      <ErrorBanner error={error === null ? null : `Activity by service: ${error}`} />
      {stats === undefined ? (
        error === null ? (
          <p aria-busy="true">Loading…</p>
        ) : null
      ) : rows.length === 0 ? (
        <p>No trace in this window.</p>
      ) : (
        <table aria-label="Traces by service and status">
          <thead>
            <tr>
              <th scope="col">Trace source</th>
              <th scope="col" class="num">
                Traces
              </th>
              <th scope="col" class="num">
                Normal
              </th>
              <th scope="col" class="num">
                Warning
              </th>
              <th scope="col" class="num">
                Incident
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([service, r]) => (
              <tr key={service} data-service={service}>
                <td>{service}</td>
                <td class="num">{r.total}</td>
                <td class="num">{r.normal}</td>
                <td class="num">{r.warning}</td>
                <td class="num">{r.incident}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {stats?.other ? (
        <p class="count">
          {stats.other.count} traces in {stats.other.groups} more (service, status) groups are not
          shown.
        </p>
      ) : null}
    </section>
  )
}
