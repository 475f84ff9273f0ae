/**
 * Export of the current query (`GET /v3/{project_id}/traces/export`): every matching trace, streamed
 * by the server in any format of its registry (docs/formats.md), saved as a file through a
 * temporary blob URL (the token stays in a header). The file name is the server's.
 */
import { send } from '../api'

/** The export API's formats (`format=`), in its registry's order, with what each is for. */
export const EXPORT_FORMATS = [
  ['csv', 'CSV (spreadsheets)'],
  ['json', 'JSON (as ListTraces answers)'],
  ['ocsf', 'OCSF API Activity (NDJSON)'],
  ['cadf', 'CADF (OpenStack)'],
  ['cef', 'CEF (ArcSight, syslog)'],
  ['ecs', 'Elastic ECS (NDJSON)'],
  ['splunk-hec', 'Splunk HEC'],
] as const

export type ExportFormat = (typeof EXPORT_FORMATS)[number][0]

export async function exportTraces(
  params: Readonly<Record<string, string>>,
  format: ExportFormat,
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
