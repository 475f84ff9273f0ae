/**
 * Activity by service and rating over the window: one row per trace source seen in the account
 * (`GET /v3/{domain_id}/resources`), its traces per status counted by the server
 * (`GET /v3/{project_id}/traces/activity?service_type=…`), most traces first. At most
 * MAX_SERVICES sources are counted (one small request each); the panel says when more exist.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf, send } from '../api'
import type { AppliedQuery } from '../traces/trace-filters'
import { ErrorBanner } from '../ui'

export const MAX_SERVICES = 20

interface ServiceRow {
  readonly service: string
  readonly normal: number
  readonly warning: number
  readonly incident: number
  readonly total: number
}

interface ActivityBody {
  readonly total: number
  readonly buckets: readonly { normal: number; warning: number; incident: number }[]
}

async function countService(
  query: AppliedQuery,
  service: string,
  signal: AbortSignal,
): Promise<ServiceRow> {
  const response = await send('GET', '/v3/{project_id}/traces/activity', {
    query: { ...query.params, service_type: service, top: '1' },
    signal,
  })
  const body = (await response.json()) as ActivityBody
  const sum = (r: 'normal' | 'warning' | 'incident'): number =>
    body.buckets.reduce((n, b) => n + b[r], 0)
  return {
    service,
    normal: sum('normal'),
    warning: sum('warning'),
    incident: sum('incident'),
    total: body.total,
  }
}

export function ServicesPanel(props: { readonly query: AppliedQuery }) {
  const [rows, setRows] = useState<ServiceRow[] | null>(null)
  const [more, setMore] = useState(0)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    const abort = new AbortController()
    setError(null)
    setRows(null)
    api<{ resources: { service_type: string }[] }>('GET', '/v3/{domain_id}/resources')
      .then(async ({ resources }) => {
        const services = resources.map((r) => r.service_type).sort()
        setMore(Math.max(0, services.length - MAX_SERVICES))
        const counted = await Promise.all(
          services.slice(0, MAX_SERVICES).map((s) => countService(props.query, s, abort.signal)),
        )
        if (!abort.signal.aborted)
          setRows(
            counted
              .filter((r) => r.total > 0)
              .sort((a, b) => b.total - a.total || a.service.localeCompare(b.service)),
          )
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(`Activity by service: ${messageOf(e)}`)
      })
    return () => abort.abort()
  }, [props.query])

  return (
    <section class="panel" aria-labelledby="services-title" data-testid="services-panel">
      <h2 id="services-title">Activity by service and rating</h2>
      <ErrorBanner error={error} />
      {rows === null ? (
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
              <th scope="col">Traces</th>
              <th scope="col">Normal</th>
              <th scope="col">Warning</th>
              <th scope="col">Incident</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.service} data-service={r.service}>
                <td>{r.service}</td>
                <td class="num">{r.total}</td>
                <td class="num">{r.normal}</td>
                <td class="num">{r.warning}</td>
                <td class="num">{r.incident}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {more > 0 ? <p class="count">{more} more trace sources not counted here.</p> : null}
    </section>
  )
}
