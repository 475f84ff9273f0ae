/**
 * Denied calls over the window: traces answered 401 (not authenticated) or 403 (not allowed),
 * in all and per operator, from two statistics requests narrowed by the search
 * `q=code:(401 OR 403)` (`group_by=code` and `group_by=user,code`, the largest groups first).
 * Should more than MAX_STAT_TOP (operator, code) pairs exist, the rest are summed in `other`,
 * which the panel states with its count.
 */
import { ErrorBanner } from '../ui'
import type { AppliedQuery } from '../traces/trace-filters'
import { MAX_STAT_TOP, type StatGroup } from './statistics'
import { useStatistics } from './use-statistics'

export const DENIED_CODES = ['401', '403'] as const
/** The search that keeps the denied calls only (docs/search.md). */
export const DENIED_QUERY = 'code:(401 OR 403)'
const REQUESTS = [
  { groupBy: ['code'], top: MAX_STAT_TOP, q: DENIED_QUERY },
  { groupBy: ['user', 'code'], top: MAX_STAT_TOP, q: DENIED_QUERY },
] as const

const denied = (g: StatGroup): boolean =>
  (DENIED_CODES as readonly (string | null | undefined)[]).includes(g.values.code)

export function DeniedCallsPanel(props: { readonly query: AppliedQuery }) {
  const { answers, error } = useStatistics(props.query, REQUESTS)
  const [byCode, byUser] = answers ?? []
  const count = (code: string): number =>
    byCode?.groups.find((g) => g.values.code === code)?.count ?? 0
  const users = new Map<string, { '401': number; '403': number }>()
  for (const g of byUser?.groups.filter(denied) ?? []) {
    const name = g.values.user ?? '(no user)'
    const row = users.get(name) ?? { '401': 0, '403': 0 }
    row[g.values.code as '401' | '403'] += g.count
    users.set(name, row)
  }
  const rows = [...users].sort(
    (a, b) => b[1]['401'] + b[1]['403'] - (a[1]['401'] + a[1]['403']) || a[0].localeCompare(b[0]),
  )
  return (
    <section class="panel" aria-labelledby="denied-title" data-testid="denied-panel">
      <h2 id="denied-title">Denied calls (401, 403)</h2>
      <ErrorBanner error={error === null ? null : `Denied calls: ${error}`} />
      {byCode === undefined || byUser === undefined ? (
        error === null ? (
          <p aria-busy="true">Loading…</p>
        ) : null
      ) : (
        <>
          <p data-testid="denied-totals">
            <strong>{count('401') + count('403')}</strong> denied: {count('401')} × 401 not
            authenticated, {count('403')} × 403 not allowed
          </p>
          {rows.length === 0 ? null : (
            <table aria-label="Denied calls per operator">
              <thead>
                <tr>
                  <th scope="col">Operator</th>
                  <th scope="col" class="num">
                    401
                  </th>
                  <th scope="col" class="num">
                    403
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([name, c]) => (
                  <tr key={name} data-operator={name}>
                    <td>{name}</td>
                    <td class="num">{c['401']}</td>
                    <td class="num">{c['403']}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {byUser.other === null ? null : (
            <p class="count">
              {byUser.other.count} denied calls of {byUser.other.groups} more (operator, code) pairs
              are not listed.
            </p>
          )}
        </>
      )}
    </section>
  )
}
