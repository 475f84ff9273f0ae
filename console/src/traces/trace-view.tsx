/**
 * "View trace": the full trace as pretty JSON in a modal dialog (Escape or Close closes it), with a
 * link to its resource's history.
 */
import { useEffect, useRef } from 'preact/hooks'
import { ResourceLink } from '../resources/resource-link'
import { traceJson, type ApiTrace } from './trace'

export function TraceView(props: {
  readonly trace: ApiTrace | null
  readonly onClose: () => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (props.trace !== null && !dialog.open) dialog.showModal()
    if (props.trace === null && dialog.open) dialog.close()
  }, [props.trace])
  return (
    <dialog ref={ref} class="trace-view" aria-label="Trace JSON" onClose={props.onClose}>
      <header>
        <h2>Trace {props.trace?.trace_name}</h2>
        {props.trace?.resource_id || props.trace?.resource_name ? (
          <span class="count">
            Resource history:{' '}
            {props.trace.resource_id ? (
              <ResourceLink by="resource_id" value={props.trace.resource_id} />
            ) : (
              <ResourceLink by="resource_name" value={props.trace.resource_name} />
            )}
          </span>
        ) : null}
        <button type="button" class="secondary" onClick={props.onClose}>
          Close
        </button>
      </header>
      <pre data-testid="trace-json">{props.trace === null ? '' : traceJson(props.trace)}</pre>
    </dialog>
  )
}
