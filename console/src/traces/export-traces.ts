/**
 * Export of the current query (`GET /v3/{project_id}/traces/export`): every matching trace, streamed
 * by the server, saved as a file through a temporary blob URL (the token stays in a header).
 */
import { send } from '../api'

export async function exportTraces(
  params: Readonly<Record<string, string>>,
  format: 'csv' | 'json',
): Promise<void> {
  const response = await send('GET', '/v3/{project_id}/traces/export', {
    query: { ...params, format },
  })
  const blob = await response.blob()
  const disposition = response.headers.get('content-disposition') ?? ''
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `traces.${format}`
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
