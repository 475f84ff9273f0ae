/** Small shared pieces of the console: error banners and time formatting. */
import type { ComponentChildren } from 'preact'

/** A readable error, announced to screen readers; nothing when there is no error. */
export function ErrorBanner(props: { error: string | null; onClose?: () => void }) {
  if (props.error === null) return null
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>Error:</strong> <span>{props.error}</span>
      {props.onClose === undefined ? null : (
        <button type="button" class="link" onClick={props.onClose}>
          Dismiss
        </button>
      )}
    </div>
  )
}

export function Notice(props: { children: ComponentChildren }) {
  return (
    <div class="notice" role="status">
      {props.children}
    </div>
  )
}

export function formatTime(ms: unknown): string {
  if (typeof ms !== 'number') return ''
  const d = new Date(ms)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}
