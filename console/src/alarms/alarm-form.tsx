/** Create an alarm rule: name, filter (ListTraces fields), condition, topic. */
import { useState } from 'preact/hooks'

export interface AlarmDraft {
  alarm_name: string
  description: string
  filter: Record<string, string>
  condition: { comparison: string; threshold: number; period: number }
  topic_urn: string | null
}

const FILTER_FIELDS = [
  ['service_type', 'Service'],
  ['resource_type', 'Resource type'],
  ['trace_name', 'Trace name'],
  ['resource_name', 'Resource name'],
  ['user', 'Operator'],
  ['trace_rating', 'Trace rating (normal, warning, incident)'],
] as const

export function AlarmForm(props: {
  readonly onSave: (draft: AlarmDraft) => Promise<boolean>
  readonly onCancel: () => void
}) {
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [filter, setFilter] = useState<Record<string, string>>({})
  const [comparison, setComparison] = useState('>')
  const [threshold, setThreshold] = useState('10')
  const [period, setPeriod] = useState('300')
  const [topic, setTopic] = useState('')
  const [busy, setBusy] = useState(false)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    await props.onSave({
      alarm_name: name,
      description,
      filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '')),
      condition: { comparison, threshold: Number(threshold), period: Number(period) },
      topic_urn: topic === '' ? null : topic,
    })
    setBusy(false)
  }

  return (
    <form class="panel" aria-label="Create alarm rule" onSubmit={(e) => void submit(e)}>
      <h2>Create alarm rule</h2>
      <div class="filter-grid">
        <label>
          Rule name
          <input
            name="alarm_name"
            value={name}
            required
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          Description
          <input
            name="description"
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>
        {FILTER_FIELDS.map(([field, label]) => (
          <label key={field}>
            {label}
            <input
              name={field}
              value={filter[field] ?? ''}
              onInput={(e) => {
                const value = e.currentTarget.value
                setFilter((old) => ({ ...old, [field]: value }))
              }}
            />
          </label>
        ))}
        <label>
          Comparison
          <select
            name="comparison"
            value={comparison}
            onChange={(e) => setComparison(e.currentTarget.value)}
          >
            {['>', '>=', '<', '<='].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Threshold (traces)
          <input
            name="threshold"
            type="number"
            min="0"
            value={threshold}
            required
            onInput={(e) => setThreshold(e.currentTarget.value)}
          />
        </label>
        <label>
          Period (seconds, 60-86400)
          <input
            name="period"
            type="number"
            min="60"
            max="86400"
            value={period}
            required
            onInput={(e) => setPeriod(e.currentTarget.value)}
          />
        </label>
        <label>
          Topic URN (optional)
          <input name="topic_urn" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
      </div>
      <div class="actions">
        <button type="submit" disabled={busy}>
          Create
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
