/**
 * Create or modify a key event notification: name, all or custom operations (picked from the
 * operations API), notified users per group, advanced filter rules (≤ 6), topic and status.
 */
import { useEffect, useState } from 'preact/hooks'
import { api, messageOf } from '../api'
import { ErrorBanner } from '../ui'

export interface Operation {
  service_type: string
  resource_type: string
  trace_names: string[]
}
export interface Filter {
  condition: 'AND' | 'OR'
  is_support_filter: boolean
  rule: string[]
}
export interface Notification {
  readonly notification_id: string
  readonly notification_name: string
  readonly operation_type: 'complete' | 'customized'
  readonly status: 'enabled' | 'disabled'
  readonly operations?: Operation[]
  readonly notify_user_list?: { user_group: string; user_list: string[] }[]
  readonly topic_id?: string
  readonly filter?: Filter
  readonly create_time?: number
}
export interface NotificationBody {
  notification_id?: string
  notification_name: string
  operation_type: 'complete' | 'customized'
  status?: 'enabled' | 'disabled'
  operations: Operation[]
  notify_user_list: { user_group: string; user_list: string[] }[]
  topic_id?: string
  filter?: Filter
}

const FIELDS = ['api_version', 'code', 'trace_rating', 'trace_type', 'resource_id', 'resource_name']

interface Rule {
  field: string
  op: '=' | '!='
  value: string
}

function parseRule(text: string): Rule {
  const m = /^(\S+)\s+(!=|=)\s+(.*)$/.exec(text)
  return m === null
    ? { field: 'code', op: '!=', value: '' }
    : { field: m[1] ?? 'code', op: m[2] === '=' ? '=' : '!=', value: m[3] ?? '' }
}

export function NotificationForm(props: {
  readonly notification: Notification | null
  readonly onSave: (body: NotificationBody) => Promise<boolean>
  readonly onCancel: () => void
}) {
  const n = props.notification
  const [name, setName] = useState(n?.notification_name ?? '')
  const [type, setType] = useState<'complete' | 'customized'>(n?.operation_type ?? 'customized')
  const [ops, setOps] = useState<Operation[]>(n?.operations ?? [])
  const [catalogue, setCatalogue] = useState<
    { service_type: string; resource_type: string; operation_list: string[] }[]
  >([])
  const [pick, setPick] = useState({ service: '', resource: '', names: [] as string[] })
  const [users, setUsers] = useState(
    (n?.notify_user_list ?? []).map((u) => ({ group: u.user_group, list: u.user_list.join(', ') })),
  )
  const [filterOn, setFilterOn] = useState(n?.filter?.is_support_filter ?? false)
  const [condition, setCondition] = useState<'AND' | 'OR'>(n?.filter?.condition ?? 'AND')
  const [rules, setRules] = useState<Rule[]>((n?.filter?.rule ?? []).map(parseRule))
  const [topic, setTopic] = useState(n?.topic_id ?? '')
  const [status, setStatus] = useState<'enabled' | 'disabled'>(n?.status ?? 'enabled')
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    api<{ operations: typeof catalogue }>('GET', '/v3/{project_id}/operations')
      .then((a) => setCatalogue(a.operations))
      .catch((e: unknown) => setError(`Could not load the operations: ${messageOf(e)}`))
  }, [])

  const services = [...new Set(catalogue.map((c) => c.service_type))]
  const resources = catalogue.filter((c) => c.service_type === pick.service)
  const names = resources.find((c) => c.resource_type === pick.resource)?.operation_list ?? []

  function addPicked(): void {
    if (pick.names.length === 0) return
    setOps((old) => [
      ...old.filter((o) => !(o.service_type === pick.service && o.resource_type === pick.resource)),
      { service_type: pick.service, resource_type: pick.resource, trace_names: pick.names },
    ])
    setPick({ service: pick.service, resource: '', names: [] })
  }

  async function submit(e: Event): Promise<void> {
    e.preventDefault()
    const body: NotificationBody = {
      ...(n === null ? {} : { notification_id: n.notification_id, status }),
      notification_name: name,
      operation_type: type,
      operations: type === 'customized' ? ops : [],
      notify_user_list: users
        .filter((u) => u.group.trim() !== '')
        .map((u) => ({
          user_group: u.group.trim(),
          user_list: u.list
            .split(',')
            .map((x) => x.trim())
            .filter((x) => x !== ''),
        })),
      ...(topic.trim() === '' ? {} : { topic_id: topic.trim() }),
      ...(filterOn || rules.length > 0
        ? {
            filter: {
              is_support_filter: filterOn,
              condition,
              rule: rules.map((r) => `${r.field} ${r.op} ${r.value}`),
            },
          }
        : {}),
    }
    await props.onSave(body)
  }

  return (
    <form
      class="panel"
      aria-label={n === null ? 'Create notification' : `Modify notification ${n.notification_name}`}
      onSubmit={(e) => void submit(e)}
    >
      <h2>{n === null ? 'Create notification' : `Modify ${n.notification_name}`}</h2>
      <ErrorBanner error={error} />
      <div class="filter-grid">
        <label>
          Name
          <input
            name="notification_name"
            value={name}
            required
            pattern="[A-Za-z0-9_]{1,64}"
            title="1-64 letters, digits or underscores"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          SMN topic / function URN
          <input
            name="topic_id"
            value={topic}
            placeholder="urn:smn:region:project:topic"
            onInput={(e) => setTopic(e.currentTarget.value)}
          />
        </label>
        {n === null ? null : (
          <label>
            Status
            <select
              name="status"
              value={status}
              onChange={(e) => setStatus(e.currentTarget.value as 'enabled' | 'disabled')}
            >
              <option value="enabled">enabled</option>
              <option value="disabled">disabled</option>
            </select>
          </label>
        )}
      </div>
      <fieldset class="presets">
        <legend>Operation type</legend>
        <label class="chip">
          <input
            type="radio"
            name="operation_type"
            checked={type === 'complete'}
            onChange={() => setType('complete')}
          />{' '}
          All
        </label>
        <label class="chip">
          <input
            type="radio"
            name="operation_type"
            checked={type === 'customized'}
            onChange={() => setType('customized')}
          />{' '}
          Custom
        </label>
      </fieldset>
      {type === 'customized' ? (
        <fieldset>
          <legend>Operations</legend>
          <div class="filter-grid">
            <label>
              Service
              <select
                name="pick_service"
                value={pick.service}
                onChange={(e) =>
                  setPick({ service: e.currentTarget.value, resource: '', names: [] })
                }
              >
                <option value="">Choose a service</option>
                {services.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Resource type
              <select
                name="pick_resource"
                value={pick.resource}
                disabled={pick.service === ''}
                onChange={(e) => setPick({ ...pick, resource: e.currentTarget.value, names: [] })}
              >
                <option value="">Choose a resource type</option>
                {resources.map((r) => (
                  <option key={r.resource_type} value={r.resource_type}>
                    {r.resource_type}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {names.length === 0 ? null : (
            <div class="presets" role="group" aria-label="Trace names">
              {names.map((t) => (
                <label key={t} class="chip">
                  <input
                    type="checkbox"
                    name={`op_${t}`}
                    checked={pick.names.includes(t)}
                    onChange={() =>
                      setPick({
                        ...pick,
                        names: pick.names.includes(t)
                          ? pick.names.filter((x) => x !== t)
                          : [...pick.names, t],
                      })
                    }
                  />
                  {t}
                </label>
              ))}
              <button type="button" class="secondary" onClick={addPicked}>
                Add operations
              </button>
            </div>
          )}
          <ul class="picked" aria-label="Chosen operations">
            {ops.map((o) => (
              <li key={`${o.service_type}/${o.resource_type}`}>
                {o.service_type}/{o.resource_type}: {o.trace_names.join(', ')}{' '}
                <button
                  type="button"
                  class="link"
                  onClick={() => setOps(ops.filter((x) => x !== o))}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </fieldset>
      ) : null}
      <fieldset>
        <legend>Users to notify (none: all users)</legend>
        {users.map((u, i) => (
          <div class="row" key={i}>
            <label>
              Group{' '}
              <input
                name={`group_${i}`}
                value={u.group}
                onInput={(e) =>
                  setUsers(
                    users.map((x, j) => (j === i ? { ...x, group: e.currentTarget.value } : x)),
                  )
                }
              />
            </label>
            <label>
              Users (comma-separated){' '}
              <input
                name={`users_${i}`}
                value={u.list}
                onInput={(e) =>
                  setUsers(
                    users.map((x, j) => (j === i ? { ...x, list: e.currentTarget.value } : x)),
                  )
                }
              />
            </label>
            <button
              type="button"
              class="link"
              onClick={() => setUsers(users.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          </div>
        ))}
        {users.length < 10 ? (
          <button
            type="button"
            class="secondary"
            onClick={() => setUsers([...users, { group: '', list: '' }])}
          >
            Add user group
          </button>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>Advanced filter</legend>
        <label class="chip">
          <input
            type="checkbox"
            name="is_support_filter"
            checked={filterOn}
            onChange={() => setFilterOn(!filterOn)}
          />{' '}
          Filter traces
        </label>
        <label>
          Condition
          <select
            name="condition"
            value={condition}
            onChange={(e) => setCondition(e.currentTarget.value as 'AND' | 'OR')}
          >
            <option value="AND">AND</option>
            <option value="OR">OR</option>
          </select>
        </label>
        {rules.map((r, i) => (
          <div class="row" key={i}>
            <select
              aria-label={`Rule ${i + 1} field`}
              value={r.field}
              onChange={(e) =>
                setRules(
                  rules.map((x, j) => (j === i ? { ...x, field: e.currentTarget.value } : x)),
                )
              }
            >
              {FIELDS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
            <select
              aria-label={`Rule ${i + 1} operator`}
              value={r.op}
              onChange={(e) =>
                setRules(
                  rules.map((x, j) =>
                    j === i ? { ...x, op: e.currentTarget.value === '=' ? '=' : '!=' } : x,
                  ),
                )
              }
            >
              <option value="=">=</option>
              <option value="!=">!=</option>
            </select>
            <input
              aria-label={`Rule ${i + 1} value`}
              name={`rule_${i}`}
              value={r.value}
              onInput={(e) =>
                setRules(
                  rules.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)),
                )
              }
            />
            <button
              type="button"
              class="link"
              onClick={() => setRules(rules.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          </div>
        ))}
        {rules.length < 6 ? (
          <button
            type="button"
            class="secondary"
            onClick={() => setRules([...rules, { field: 'code', op: '!=', value: '200' }])}
          >
            Add rule
          </button>
        ) : null}
      </fieldset>
      <div class="actions">
        <button type="submit">{n === null ? 'Create' : 'Save'}</button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
