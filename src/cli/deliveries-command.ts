/**
 * @module cli/deliveries-command
 * `opencts deliveries list [--status pending|delivered|dead] [--limit N] [--json]` and
 * `opencts deliveries redeliver ID...`: the key-event notification deliveries of a project, over
 * the API (`GET /v3/{project_id}/deliveries`, `POST .../deliveries/{id}/redeliver`), with the
 * client credentials of `ingest`/`query`. `--status dead` lists the dead letters.
 */
import { resolve } from 'node:path'
import { UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CLIENT_FLAGS, clientFor, clientOptions, refuseSecretFlags } from './client-options.js'
import { formatTable } from './format-table.js'
import { DELIVERIES_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  status: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

function iso(ms: unknown): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : ''
}

export async function runDeliveries(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const { values, positionals } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.stdout.write(DELIVERIES_USAGE)
    return 0
  }
  const [command, ...ids] = positionals
  if (command !== 'list' && command !== 'redeliver')
    throw new UsageError('give "list" or "redeliver ID..."')
  const options = clientOptions(values, io.env, resolve())
  const client = clientFor(options, io.now)
  if (command === 'redeliver') {
    if (ids.length === 0) throw new UsageError('"deliveries redeliver" needs at least one ID')
    for (const id of ids) {
      await client.redeliver(options.projectId, id)
      io.stdout.write(`Redelivering ${id}.\n`)
    }
    return 0
  }
  if (ids.length > 0) throw new UsageError('"deliveries list" takes no argument')
  if (values.status !== undefined && !['pending', 'delivered', 'dead'].includes(values.status))
    throw new UsageError(`--status must be pending, delivered or dead, got ${values.status}`)
  const params: Record<string, string> = {}
  if (values.status !== undefined) params.status = values.status
  if (values.limit !== undefined) params.limit = values.limit
  const { deliveries } = await client.listDeliveries(options.projectId, params)
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify({ deliveries }, null, 2)}\n`)
    return 0
  }
  if (deliveries.length === 0) {
    io.stderr.write('No deliveries.\n')
    return 0
  }
  const rows = deliveries.map((d) => [
    String(d.delivery_id),
    String(d.status),
    String(d.attempts),
    iso(d.create_time),
    String(d.protocol),
    String(d.endpoint),
    String(d.trace_id),
    typeof d.last_error === 'string' ? d.last_error : '',
  ])
  io.stdout.write(
    formatTable(
      [
        'DELIVERY ID',
        'STATUS',
        'ATTEMPTS',
        'CREATED',
        'PROTOCOL',
        'ENDPOINT',
        'TRACE ID',
        'LAST ERROR',
      ],
      rows,
    ),
  )
  return 0
}
