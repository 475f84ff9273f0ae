/**
 * Trackers (spec §12): list, create, configure (OBS transfer, LTS, file validation, encryption),
 * enable/disable and delete, all through the public tracker API.
 */
import { useState } from 'preact/hooks'
import { api } from '../api'
import { useApiList } from '../use-api-list'
import { ErrorBanner, Notice, formatTime } from '../ui'
import { TrackerForm, type TrackerDraft } from './tracker-form'

export interface Tracker {
  readonly id: string
  readonly tracker_name: string
  readonly tracker_type: 'system' | 'data'
  readonly status: string
  readonly detail?: string
  readonly create_time?: number
  readonly obs_info?: { bucket_name?: string; file_prefix_name?: string; compress_type?: string }
  readonly lts?: { is_lts_enabled?: boolean; log_group_name?: string; log_topic_name?: string }
  readonly is_support_validate?: boolean
  readonly is_support_trace_files_encryption?: boolean
  readonly kms_id?: string
  readonly data_bucket?: { data_bucket_name?: string; data_event?: string[] }
}

function storage(t: Tracker): string {
  const parts: string[] = []
  if (t.obs_info?.bucket_name) parts.push(`OBS: ${t.obs_info.bucket_name}`)
  if (t.lts?.is_lts_enabled)
    parts.push(`LTS: ${t.lts.log_group_name ?? ''}/${t.lts.log_topic_name ?? ''}`)
  return parts.length === 0 ? '—' : parts.join(', ')
}

export function TrackersPage() {
  const {
    items: trackers,
    error,
    setError,
    act,
    refresh,
  } = useApiList(
    async () => (await api<{ trackers: Tracker[] }>('GET', '/v3/{project_id}/trackers')).trackers,
  )
  const [editing, setEditing] = useState<Tracker | 'new' | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)

  const save = (draft: TrackerDraft, isNew: boolean): Promise<boolean> =>
    act(async () => {
      await api(isNew ? 'POST' : 'PUT', '/v3/{project_id}/tracker', { body: draft })
      setEditing(null)
    })

  return (
    <section aria-labelledby="trackers-title">
      <h1 id="trackers-title">Trackers</h1>
      <div class="actions">
        <button type="button" onClick={() => setEditing('new')}>
          Create tracker
        </button>
        <button type="button" class="secondary" onClick={() => void refresh()}>
          Refresh
        </button>
      </div>
      <ErrorBanner error={error} onClose={() => setError(null)} />
      {editing === null ? null : (
        <TrackerForm
          tracker={editing === 'new' ? null : editing}
          onSave={(d) => save(d, editing === 'new')}
          onCancel={() => setEditing(null)}
        />
      )}
      {trackers === null ? (
        <p aria-busy="true">Loading…</p>
      ) : trackers.length === 0 ? (
        <Notice>No tracker. Create the management tracker "system" to enable CTS.</Notice>
      ) : (
        <div class="table-wrap">
          <table aria-label="Trackers">
            <thead>
              <tr>
                <th scope="col">Tracker name</th>
                <th scope="col">Type</th>
                <th scope="col">Storage</th>
                <th scope="col">Validation</th>
                <th scope="col">Encryption</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Operation</th>
              </tr>
            </thead>
            <tbody>
              {trackers.map((t) => (
                <tr key={t.id} data-tracker={t.tracker_name}>
                  <td>{t.tracker_name}</td>
                  <td>
                    {t.tracker_type === 'system'
                      ? 'Management'
                      : `Data (${t.data_bucket?.data_bucket_name ?? ''})`}
                  </td>
                  <td>{storage(t)}</td>
                  <td>{t.is_support_validate ? 'On' : 'Off'}</td>
                  <td>{t.is_support_trace_files_encryption ? `On (${t.kms_id ?? ''})` : 'Off'}</td>
                  <td>
                    <span class={`status ${t.status}`}>{t.status}</span>
                    {t.detail ? ` (${t.detail})` : ''}
                  </td>
                  <td class="nowrap">{formatTime(t.create_time)}</td>
                  <td class="row-actions">
                    <button type="button" class="link" onClick={() => setEditing(t)}>
                      Configure
                    </button>
                    <button
                      type="button"
                      class="link"
                      onClick={() =>
                        void act(() =>
                          api('PUT', '/v3/{project_id}/tracker', {
                            body: {
                              tracker_type: t.tracker_type,
                              tracker_name: t.tracker_name,
                              status: t.status === 'disabled' ? 'enabled' : 'disabled',
                              ...(t.data_bucket?.data_bucket_name === undefined
                                ? {}
                                : {
                                    data_bucket: {
                                      data_bucket_name: t.data_bucket.data_bucket_name,
                                    },
                                  }),
                            },
                          }),
                        )
                      }
                    >
                      {t.status === 'disabled' ? 'Enable' : 'Disable'}
                    </button>
                    {confirming === t.id ? (
                      <>
                        <button
                          type="button"
                          class="link danger"
                          onClick={() =>
                            void act(() =>
                              api('DELETE', '/v3/{project_id}/trackers', {
                                query: {
                                  tracker_name: t.tracker_name,
                                  tracker_type: t.tracker_type,
                                },
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
                      <button type="button" class="link danger" onClick={() => setConfirming(t.id)}>
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
