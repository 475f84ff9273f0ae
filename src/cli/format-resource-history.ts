/**
 * @module cli/format-resource-history
 * The text `opencts resource-history` prints for an answer of
 * `GET /v3/{project_id}/resources/history`: the resource, the summary (traces and their span;
 * created, last changed, deleted: when, what, who, from where; traces per kind; operators) and
 * the events newest first as a table. Producer-controlled values pass through `tableCell`, so
 * they cannot move the cursor or recolour the terminal.
 */
import type { ResourceHistory } from '../query/resource-history.js'
import { formatTable, tableCell } from './format-table.js'

const KINDS = ['create', 'update', 'share', 'delete', 'read', 'other'] as const

function iso(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : ''
}

/** A value on a summary line: one line, no control characters, at most 200 characters. */
function clean(value: string): string {
  return tableCell(value, 200)
}

type Moment = ResourceHistory['summary']['created']

function momentLine(label: string, moment: Moment): string {
  if (moment === null) return `${label.padEnd(14)}-\n`
  const who = moment.user === undefined ? '' : `  by ${clean(moment.user)}`
  const from = moment.source_ip === undefined ? '' : `  from ${clean(moment.source_ip)}`
  return `${label.padEnd(14)}${iso(moment.time)}  ${clean(moment.trace_name)}${who}${from}  (trace ${moment.trace_id})\n`
}

export function formatResourceHistory(history: ResourceHistory): string {
  const r = history.resource
  const s = history.summary
  const name = r.resource_name === undefined ? '' : ` (${clean(r.resource_name)})`
  const what = [r.service_type, r.resource_type].filter((v) => v !== undefined).map(clean)
  const lines: string[] = []
  if (s.total === 0) return 'No trace names this resource in the window.\n'
  lines.push(
    `Resource ${clean(r.resource_id ?? r.resource_name ?? '')}${name}, ${what.join(' ')}\n`,
  )
  lines.push(
    `Traces: ${s.total}, ${iso(s.first_time)} to ${iso(s.last_time)}` +
      (s.complete ? '\n' : ' (the newest only: narrow --from/--to for older ones)\n'),
  )
  lines.push(momentLine('Created:', s.created))
  lines.push(momentLine('Last changed:', s.last_changed))
  lines.push(momentLine('Deleted:', s.deleted))
  lines.push(
    `Kinds: ${KINDS.map((k) => `${k} ${s.counts[k]}`).join(', ')}; failed ${s.counts.failed}\n`,
  )
  if (s.operators.length > 0)
    lines.push(
      '\n' +
        formatTable(
          ['OPERATOR', 'TRACES', 'WHAT', 'LAST ACTED'],
          s.operators.map((o) => [o.user, String(o.count), o.kinds.join(','), iso(o.last_time)]),
        ),
    )
  lines.push(
    '\n' +
      formatTable(
        [
          'TIME',
          'KIND',
          'TRACE NAME',
          'SERVICE',
          'RATING',
          'CODE',
          'USER',
          'SOURCE IP',
          'TRACE ID',
        ],
        history.events.map((e) => [
          iso(e.time),
          e.kind,
          e.trace_name,
          `${e.service_type} ${e.resource_type}`,
          e.trace_rating,
          e.code ?? '',
          e.user ?? '',
          e.source_ip ?? '',
          e.trace_id,
        ]),
      ),
  )
  return lines.join('')
}
