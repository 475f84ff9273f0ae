/** Create or configure a tracker: OBS transfer, LTS, trace file validation and encryption. */
import { useState } from 'preact/hooks'
import type { Tracker } from './trackers-page'

export interface TrackerDraft {
  tracker_type: 'system' | 'data'
  tracker_name: string
  obs_info: { bucket_name: string; file_prefix_name: string; compress_type: 'gzip' | 'json' }
  is_lts_enabled: boolean
  is_support_validate: boolean
  is_support_trace_files_encryption: boolean
  kms_id?: string
  data_bucket?: { data_bucket_name: string; data_event?: string[] }
}

export function TrackerForm(props: {
  readonly tracker: Tracker | null
  readonly onSave: (draft: TrackerDraft) => Promise<boolean>
  readonly onCancel: () => void
}) {
  const t = props.tracker
  const [type, setType] = useState<'system' | 'data'>(t?.tracker_type ?? 'data')
  const [name, setName] = useState(t?.tracker_name ?? '')
  const [dataBucket, setDataBucket] = useState(t?.data_bucket?.data_bucket_name ?? '')
  const [events, setEvents] = useState<string[]>(t?.data_bucket?.data_event ?? ['READ', 'WRITE'])
  const [bucket, setBucket] = useState(t?.obs_info?.bucket_name ?? '')
  const [prefix, setPrefix] = useState(t?.obs_info?.file_prefix_name ?? '')
  const [compress, setCompress] = useState<'gzip' | 'json'>(
    t?.obs_info?.compress_type === 'json' ? 'json' : 'gzip',
  )
  const [lts, setLts] = useState(t?.lts?.is_lts_enabled ?? false)
  const [validate, setValidate] = useState(t?.is_support_validate ?? false)
  const [encrypt, setEncrypt] = useState(t?.is_support_trace_files_encryption ?? false)
  const [kms, setKms] = useState(t?.kms_id ?? '')
  const [busy, setBusy] = useState(false)

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const draft: TrackerDraft = {
      tracker_type: type,
      tracker_name: type === 'system' ? 'system' : name,
      obs_info: { bucket_name: bucket, file_prefix_name: prefix, compress_type: compress },
      is_lts_enabled: lts,
      is_support_validate: validate,
      is_support_trace_files_encryption: type === 'system' && encrypt,
      ...(type === 'system' ? { kms_id: encrypt ? kms : '' } : {}),
      ...(type === 'data'
        ? { data_bucket: { data_bucket_name: dataBucket, data_event: events } }
        : {}),
    }
    setBusy(true)
    await props.onSave(draft)
    setBusy(false)
  }
  const toggle = (ev: string): void =>
    setEvents((old) => (old.includes(ev) ? old.filter((x) => x !== ev) : [...old, ev]))

  return (
    <form
      class="panel"
      aria-label={t === null ? 'Create tracker' : `Configure tracker ${t.tracker_name}`}
      onSubmit={(e) => void submit(e)}
    >
      <h2>{t === null ? 'Create tracker' : `Configure ${t.tracker_name}`}</h2>
      <div class="filter-grid">
        <label>
          Tracker type
          <select
            name="tracker_type"
            value={type}
            disabled={t !== null}
            onChange={(e) => setType(e.currentTarget.value as 'system' | 'data')}
          >
            <option value="system">Management (system)</option>
            <option value="data">Data</option>
          </select>
        </label>
        {type === 'data' ? (
          <>
            <label>
              Tracker name
              <input
                name="tracker_name"
                value={name}
                required
                disabled={t !== null}
                onInput={(e) => setName(e.currentTarget.value)}
              />
            </label>
            <label>
              Tracked bucket
              <input
                name="data_bucket_name"
                value={dataBucket}
                required
                disabled={t !== null}
                onInput={(e) => setDataBucket(e.currentTarget.value)}
              />
            </label>
            <fieldset class="presets">
              <legend>Operations</legend>
              {['READ', 'WRITE'].map((ev) => (
                <label key={ev} class="chip">
                  <input
                    type="checkbox"
                    checked={events.includes(ev)}
                    onChange={() => toggle(ev)}
                  />{' '}
                  {ev}
                </label>
              ))}
            </fieldset>
          </>
        ) : null}
        <label>
          OBS bucket (empty: no transfer)
          <input
            name="bucket_name"
            value={bucket}
            onInput={(e) => setBucket(e.currentTarget.value)}
          />
        </label>
        <label>
          File prefix
          <input
            name="file_prefix_name"
            value={prefix}
            onInput={(e) => setPrefix(e.currentTarget.value)}
          />
        </label>
        <label>
          Compression
          <select
            name="compress_type"
            value={compress}
            onChange={(e) => setCompress(e.currentTarget.value as 'gzip' | 'json')}
          >
            <option value="gzip">gzip</option>
            <option value="json">json (none)</option>
          </select>
        </label>
      </div>
      <fieldset class="presets">
        <legend>Options</legend>
        <label class="chip">
          <input
            type="checkbox"
            name="is_lts_enabled"
            checked={lts}
            onChange={() => setLts(!lts)}
          />{' '}
          Transfer to LTS
        </label>
        <label class="chip">
          <input
            type="checkbox"
            name="is_support_validate"
            checked={validate}
            onChange={() => setValidate(!validate)}
          />{' '}
          Verify trace files
        </label>
        {type === 'system' ? (
          <label class="chip">
            <input
              type="checkbox"
              name="encryption"
              checked={encrypt}
              onChange={() => setEncrypt(!encrypt)}
            />{' '}
            Encrypt trace files
          </label>
        ) : null}
        {type === 'system' && encrypt ? (
          <label>
            KMS key ID
            <input
              name="kms_id"
              value={kms}
              required
              onInput={(e) => setKms(e.currentTarget.value)}
            />
          </label>
        ) : null}
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {t === null ? 'Create' : 'Save'}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
