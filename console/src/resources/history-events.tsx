/**
 * The events of a resource history, newest first: time, kind, operation, service, status, code,
 * operator and source IP; each row opens its request and response (pretty-printed when JSON).
 */
import { Fragment } from 'preact'
import { useState } from 'preact/hooks'
import { prettyBody } from '../traces/trace'
import { formatTime } from '../ui'
import type { HistoryEvent } from './resource-history'

export function HistoryEvents(props: { readonly events: readonly HistoryEvent[] }) {
  const [open, setOpen] = useState<string | null>(null)
  return (
    <div class="table-wrap">
      <table class="traces" aria-label="Events">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Kind</th>
            <th scope="col">Trace name</th>
            <th scope="col">Trace source</th>
            <th scope="col">Trace status</th>
            <th scope="col">Code</th>
            <th scope="col">Operator</th>
            <th scope="col">Source IP</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <Fragment key={e.trace_id}>
              <tr data-event-id={e.trace_id}>
                <td class="nowrap">{formatTime(e.time)}</td>
                <td>
                  <span class={`kind ${e.kind}`}>{e.kind}</span>
                </td>
                <td>
                  <button
                    type="button"
                    class="link"
                    aria-expanded={open === e.trace_id}
                    aria-controls={`event-${e.trace_id}`}
                    onClick={() => setOpen(open === e.trace_id ? null : e.trace_id)}
                  >
                    {open === e.trace_id ? '▾' : '▸'} {e.trace_name}
                  </button>
                </td>
                <td>
                  {e.service_type} {e.resource_type}
                </td>
                <td>
                  <span class={`rating ${e.trace_rating}`}>{e.trace_rating}</span>
                </td>
                <td>{e.code ?? ''}</td>
                <td>{e.user ?? ''}</td>
                <td class="mono">{e.source_ip ?? ''}</td>
              </tr>
              {open === e.trace_id ? (
                <tr class="detail" id={`event-${e.trace_id}`}>
                  <td colSpan={8}>
                    <div class="bodies">
                      <div>
                        <h3>Request</h3>
                        <pre data-testid="event-request">{prettyBody(e.request)}</pre>
                      </div>
                      <div>
                        <h3>Response</h3>
                        <pre data-testid="event-response">{prettyBody(e.response)}</pre>
                      </div>
                    </div>
                    <p class="count mono">trace {e.trace_id}</p>
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
