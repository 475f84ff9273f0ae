/**
 * Top operators over the window: the users with the most traces, each with how many distinct
 * operations they called, and the rest summed up (`GET /v3/{project_id}/traces/statistics`
 * `group_by=user&distinct=trace_name&top=10`).
 */
import { ErrorBanner } from '../ui'
import type { AppliedQuery } from '../traces/trace-filters'
import { useStatistics } from './use-statistics'

export const TOP_OPERATORS = 10
const REQUESTS = [{ groupBy: ['user'], top: TOP_OPERATORS, distinct: 'trace_name' }] as const

export function TopOperatorsPanel(props: { readonly query: AppliedQuery }) {
  const { answers, error } = useStatistics(props.query, REQUESTS)
  const stats = answers?.[0]
  return (
    <section class="panel" aria-labelledby="operators-title" data-testid="operators-panel">
      <h2 id="operators-title">Top operators</h2>
      <ErrorBanner error={error === null ? null : `Top operators: ${error}`} />
      {stats === undefined ? (
        error === null ? (
          <p aria-busy="true">Loading…</p>
        ) : null
      ) : stats.groups.length === 0 ? (
        <p>No trace in this window.</p>
      ) : (
        <table aria-label="Operators with the most traces">
          <thead>
            <tr>
              <th scope="col">Operator</th>
              <th scope="col" class="num">
                Traces
              </th>
              <th scope="col" class="num">
                Operations
              </th>
            </tr>
          </thead>
          <tbody>
            {stats.groups.map((g) => (
              <tr key={g.values.user ?? ''} data-operator={g.values.user ?? ''}>
                <td>{g.values.user ?? '(no user)'}</td>
                <td class="num">{g.count}</td>
                <td class="num">{g.distinct ?? ''}</td>
              </tr>
            ))}
            {stats.other === null ? null : (
              <tr data-operator="(other)">
                <td>{stats.other.groups} other operators</td>
                <td class="num">{stats.other.count}</td>
                <td class="num" />
              </tr>
            )}
          </tbody>
        </table>
      )}
    </section>
  )
}
