/**
 * Key event notifications (spec §12): list (SMN and function notifications), create and modify
 * (operation picker from `GET /v3/{project_id}/operations`, user lists, filter rules),
 * enable/disable and delete, all through the public notification API.
 */
import { useState } from 'preact/hooks'
import { api } from '../api'
import { useApiList } from '../use-api-list'
import { ErrorBanner, Notice, formatTime } from '../ui'
import { NotificationForm, type Notification, type NotificationBody } from './notification-form'

function bodyOf(n: Notification, status: 'enabled' | 'disabled'): NotificationBody {
  return {
    notification_id: n.notification_id,
    notification_name: n.notification_name,
    operation_type: n.operation_type,
    status,
    operations: n.operations ?? [],
    notify_user_list: n.notify_user_list ?? [],
    ...(n.topic_id ? { topic_id: n.topic_id } : {}),
    ...(n.filter === undefined ? {} : { filter: n.filter }),
  }
}

export function NotificationsPage() {
  const { items, error, setError, act, refresh } = useApiList(async () => {
    const [smn, fun] = await Promise.all(
      ['smn', 'fun'].map((type) =>
        api<{ notifications: Notification[] }>('GET', `/v3/{project_id}/notifications/${type}`),
      ),
    )
    const seen = new Set<string>()
    return [...(smn?.notifications ?? []), ...(fun?.notifications ?? [])].filter(
      (n) => !seen.has(n.notification_id) && seen.add(n.notification_id) !== undefined,
    )
  })
  const [editing, setEditing] = useState<Notification | 'new' | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)

  return (
    <section aria-labelledby="notifications-title">
      <h1 id="notifications-title">Key event notifications</h1>
      <div class="actions">
        <button type="button" onClick={() => setEditing('new')}>
          Create notification
        </button>
        <button type="button" class="secondary" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {editing === null ? null : (
        <NotificationForm
          notification={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSave={(body) =>
            act(async () => {
              await api(editing === 'new' ? 'POST' : 'PUT', '/v3/{project_id}/notifications', {
                body,
              })
              setEditing(null)
            })
          }
        />
      )}
      {items === null ? (
        <p aria-busy="true">Loading…</p>
      ) : items.length === 0 ? (
        <Notice>No key event notification.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-label="Notifications">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Operation type</th>
                <th scope="col">Operations</th>
                <th scope="col">Users</th>
                <th scope="col">Topic</th>
                <th scope="col">Created</th>
                <th scope="col">Operation</th>
              </tr>
            </thead>
            <tbody>
              {items.map((n) => (
                <tr key={n.notification_id} data-notification={n.notification_name}>
                  <td>{n.notification_name}</td>
                  <td>
                    <span class={`status ${n.status}`}>{n.status}</span>
                  </td>
                  <td>{n.operation_type === 'complete' ? 'All' : 'Custom'}</td>
                  <td>
                    {(n.operations ?? [])
                      .map(
                        (o) => `${o.service_type}/${o.resource_type}: ${o.trace_names.join(', ')}`,
                      )
                      .join('; ') || '—'}
                  </td>
                  <td>
                    {(n.notify_user_list ?? [])
                      .map((u) => `${u.user_group}: ${u.user_list.join(', ')}`)
                      .join('; ') || 'All users'}
                  </td>
                  <td class="mono">{n.topic_id ?? '—'}</td>
                  <td class="nowrap">{formatTime(n.create_time)}</td>
                  <td class="row-actions">
                    <button type="button" class="link" onClick={() => setEditing(n)}>
                      Modify
                    </button>
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        void act(() =>
                          api('PUT', '/v3/{project_id}/notifications', {
                            body: bodyOf(n, n.status === 'enabled' ? 'disabled' : 'enabled'),
                          }),
                        )
                      }
                    >
                      {n.status === 'enabled' ? 'Disable' : 'Enable'}
                    </button>
                    {confirming === n.notification_id ? (
                      <>
                        <button
                          type="button"
                          class="link danger"
                          onClick={() =>
                            void act(() =>
                              api('DELETE', '/v3/{project_id}/notifications', {
                                query: { notification_id: n.notification_id },
                              }),
                            )
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
                        onClick={() => setConfirming(n.notification_id)}
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
    </section>
  )
}
