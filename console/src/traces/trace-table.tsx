/**
 * The trace list: CTS columns, a details row per trace (every field, key and value) and a
 * "View trace" button for the full JSON. A resource's id and name link to its history.
 */
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { ResourceLink } from '../resources/resource-link'
import { formatTime } from '../ui'
import { operatorOf, type ApiTrace } from './trace'

function text(value: unknown): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}

export function TraceTable(props: {
  readonly traces: readonly ApiTrace[]
  readonly onView: (trace: ApiTrace) => void
}) {
  const [open, setOpen] = useState<string | null>(null)
  return (
    <div class="table-wrap">
      <table class="traces" aria-label="Traces">
        <thead>
          <tr>
            <th scope="col">Trace name</th>
            <th scope="col">Resource type</th>
            <th scope="col">Trace source</th>
            <th scope="col">Resource ID</th>
            <th scope="col">Resource name</th>
            <th scope="col">Trace status</th>
            <th scope="col">Operator</th>
            <th scope="col">Operation time</th>
            <th scope="col">Operation</th>
          </tr>
        </thead>
        <tbody>
          {props.traces.map((t) => (
            <Fragment key={t.trace_id}>
              <tr data-trace-id={t.trace_id}>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open === t.trace_id}
                    aria-controls={`detail-${t.trace_id}`}
                    onClick={() => setOpen(open === t.trace_id ? null : t.trace_id)}
                  >
                    {open === t.trace_id ? '▾' : '▸'} {t.trace_name}
                  </button>
                </td>
                <td>{t.resource_type}</td>
                <td>{t.service_type}</td>
                <td class="mono">
                  <ResourceLink by="resource_id" value={t.resource_id} />
                </td>
                <td>
                  <ResourceLink by="resource_name" value={t.resource_name} />
                </td>
                <td>
                  <span class={`rating ${t.trace_rating ?? ''}`}>{t.trace_rating}</span>
                </td>
                <td>{operatorOf(t)}</td>
                <td class="nowrap">{formatTime(t.time)}</td>
                <td>
                  <button type="button" class="link" onClick={() => props.onView(t)}>
                    View trace
                  </button>
                </td>
              </tr>
              {open === t.trace_id ? (
                <tr class="detail" id={`detail-${t.trace_id}`}>
                  <td colSpan={9}>
                    <dl>
                      {Object.entries(t).map(([key, value]) => (
                        <div key={key}>
                          <dt>{key}</dt>
                          <dd class="mono">{text(value)}</dd>
                        </div>
                      ))}
                    </dl>
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  )
}
