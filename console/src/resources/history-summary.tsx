/**
 * The summary of a resource history: when it was created, last changed and deleted (and by whom,
 * from where), the traces per kind, and the operators who acted on it, most traces first.
 */
import { formatTime } from '../ui'
import { KINDS, type HistoryMoment, type ResourceHistory } from './resource-history'

/** "time · trace name · by user from IP", or "—" when there is no such moment. */
export function momentText(moment: HistoryMoment | null): string {
  if (moment === null) return '—'
  const who = moment.user === undefined ? '' : ` by ${moment.user}`
  const from = moment.source_ip === undefined ? '' : ` from ${moment.source_ip}`
  return `${formatTime(moment.time)} · ${moment.trace_name}${who}${from}`
}

export function HistorySummary(props: { readonly summary: ResourceHistory['summary'] }) {
  const s = props.summary
  return (
    <div class="panel" aria-label="Summary" role="group">
      <dl class="summary" data-testid="history-summary">
        <div>
          <dt>Traces</dt>
          <dd data-testid="summary-total">
            {s.total}
            {s.complete ? '' : ' (the newest only: narrow the time range for older ones)'}
          </dd>
        </div>
        <div>
          <dt>First seen</dt>
          <dd>{formatTime(s.first_time)}</dd>
        </div>
        <div>
          <dt>Last seen</dt>
          <dd>{formatTime(s.last_time)}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd data-testid="summary-created">{momentText(s.created)}</dd>
        </div>
        <div>
          <dt>Last changed</dt>
          <dd data-testid="summary-last_changed">{momentText(s.last_changed)}</dd>
        </div>
        <div>
          <dt>Deleted</dt>
          <dd data-testid="summary-deleted">{momentText(s.deleted)}</dd>
        </div>
      </dl>
      <div class="summary-tables">
        <table aria-label="Traces per kind" data-testid="summary-counts">
          <thead>
            <tr>
              {KINDS.map((k) => (
                <th scope="col" key={k}>
                  {k}
                </th>
              ))}
              <th scope="col">failed</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              {KINDS.map((k) => (
                <td key={k}>{s.counts[k]}</td>
              ))}
              <td>{s.counts.failed}</td>
            </tr>
          </tbody>
        </table>
        <table aria-label="Operators" data-testid="summary-operators">
          <thead>
            <tr>
              <th scope="col">Operator</th>
              <th scope="col">Traces</th>
              <th scope="col">What</th>
              <th scope="col">Last acted</th>
            </tr>
          </thead>
          <tbody>
            {s.operators.map((o) => (
              <tr key={o.user}>
                <td>{o.user}</td>
                <td>{o.count}</td>
                <td>{o.kinds.join(', ')}</td>
                <td class="nowrap">{formatTime(o.last_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}
