/**
 * Alarm rules (docs/alarms.md): the project's rules with their state and last count, create and
 * delete, enable/disable, and the transition history of one rule, all through the alarm API.
 */
import { useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { useApiList } from '../use-api-list'
import { ErrorBanner, Notice, formatTime } from '../ui'
import { AlarmForm } from './alarm-form'

export interface Alarm {
  alarm_id: string
  alarm_name: string
  description: string
  filter: Record<string, string>
  condition: { comparison: string; threshold: number; period: number }
  enabled: boolean
  topic_urn: string | null
  state: 'ok' | 'alarm' | 'insufficient_data'
  state_reason: string
  state_changed_time: number
  last_count: number | null
  last_evaluated_time: number | null
}

export interface Transition {
  transition_id: string
  old_state: string
  new_state: string
  reason: string
  count: number | null
  time: number
  notified: number
}

export const STATE_LABELS: Record<string, string> = {
  ok: 'OK',
  alarm: 'Alarm',
  insufficient_data: 'Insufficient data',
}

export function conditionText(a: Pick<Alarm, 'condition'>): string {
  return `${a.condition.comparison} ${a.condition.threshold} in ${a.condition.period} s`
}

export function filterText(filter: Record<string, string>): string {
  return Object.entries(filter)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
}

function History(props: { readonly alarm: Alarm; readonly onClose: () => void }) {
  const { items, error, setError } = useApiList(async () => {
    const answer = await api<{ history: Transition[] }>(
      'GET',
      `/v3/{project_id}/alarms/${encodeURIComponent(props.alarm.alarm_id)}/history`,
      { query: { limit: '200' } },
    )
    return answer.history
  })
  return (
    <section class="panel" aria-label={`History of ${props.alarm.alarm_name}`}>
      <h2>History of {props.alarm.alarm_name}</h2>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {items === null ? (
        <p aria-busy="true">Loading…</p>
      ) : items.length === 0 ? (
        <Notice>No state change yet.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-label="Transitions">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Count</th>
                <th scope="col">Reason</th>
                <th scope="col">Notified</th>
              </tr>
            </thead>
            <tbody>
              {items.map((h) => (
                <tr key={h.transition_id} data-transition={h.transition_id}>
                  <td class="nowrap">{formatTime(h.time)}</td>
                  <td>{STATE_LABELS[h.old_state] ?? h.old_state}</td>
                  <td>{STATE_LABELS[h.new_state] ?? h.new_state}</td>
                  <td>{h.count ?? '—'}</td>
                  <td>{h.reason}</td>
                  <td>{h.notified}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="actions">
        <button type="button" class="secondary" onClick={props.onClose}>
          Close history
        </button>
      </div>
    </section>
  )
}

export function AlarmsPage() {
  const { items, error, setError, act, refresh } = useApiList(async () => {
    const answer = await api<{ alarms: Alarm[] }>('GET', '/v3/{project_id}/alarms')
    return answer.alarms
  })
  const [creating, setCreating] = useState(false)
  const [confirming, setConfirming] = useState<string | null>(null)
  const [shown, setShown] = useState<Alarm | null>(null)

  return (
    <section aria-labelledby="alarms-title">
      <h1 id="alarms-title">Alarm rules</h1>
      <div class="actions">
        <button type="button" onClick={() => setCreating(true)}>
          Create alarm rule
        </button>
        <button type="button" class="secondary" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {creating ? (
        <AlarmForm
          onCancel={() => setCreating(false)}
          onSave={(draft) =>
            act(async () => {
              await api('POST', '/v3/{project_id}/alarms', { body: draft })
              setCreating(false)
            }).catch((e: unknown) => {
              setError(messageOf(e))
              return false
            })
          }
        />
      ) : null}
      {items === null ? (
        <p aria-busy="true">Loading…</p>
      ) : items.length === 0 ? (
        <Notice>No alarm rule.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-label="Alarm rules">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">State</th>
                <th scope="col">Condition</th>
                <th scope="col">Filter</th>
                <th scope="col">Last count</th>
                <th scope="col">Enabled</th>
                <th scope="col">Since</th>
                <th scope="col">Operation</th>
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.alarm_id} data-alarm={a.alarm_name}>
                  <td>{a.alarm_name}</td>
                  <td class="nowrap">
                    <span class={`status ${a.state}`} title={a.state_reason}>
                      {STATE_LABELS[a.state] ?? a.state}
                    </span>
                  </td>
                  <td class="nowrap">{conditionText(a)}</td>
                  <td class="mono">{filterText(a.filter)}</td>
                  <td>{a.last_count ?? '—'}</td>
                  <td>{a.enabled ? 'Yes' : 'No'}</td>
                  <td class="nowrap">{formatTime(a.state_changed_time)}</td>
                  <td class="row-actions">
                    <button type="button" class="link" onClick={() => setShown(a)}>
                      History
                    </button>
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        void act(() =>
                          api('PUT', `/v3/{project_id}/alarms/${encodeURIComponent(a.alarm_id)}`, {
                            body: { enabled: !a.enabled },
                          }),
                        )
                      }
                    >
                      {a.enabled ? 'Disable' : 'Enable'}
                    </button>
                    {confirming === a.alarm_id ? (
                      <>
                        <button
                          type="button"
                          class="link danger"
                          onClick={() =>
                            void act(async () => {
                              await api(
                                'DELETE',
                                `/v3/{project_id}/alarms/${encodeURIComponent(a.alarm_id)}`,
                              )
                              if (shown?.alarm_id === a.alarm_id) setShown(null)
                            })
                          }
                        >
                          Confirm delete
                        </button>
                        <button type="button" class="link" onClick={() => setConfirming(null)}>
                          Cancel
                        </button>
                      </>
                    ) : (
                      <button
                        type="button"
                        class="link danger"
                        onClick={() => setConfirming(a.alarm_id)}
                      >
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {shown === null ? null : (
        <History key={shown.alarm_id} alarm={shown} onClose={() => setShown(null)} />
      )}
    </section>
  )
}
