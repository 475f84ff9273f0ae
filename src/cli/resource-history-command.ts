/**
 * @module cli/resource-history-command
 * `opencts resource-history --resource-id X | --resource-name Y [--service-type S]
 * [--resource-type T] [--from --to] [--limit N] [--next M] [--json]`: the history of one resource
 * (`GET /v3/{project_id}/resources/history`) with the client credentials of `query` — the summary
 * (created, last changed, deleted, traces per kind, operators) and a page of events newest first,
 * or the API answer as JSON.
 */
import { resolve } from 'node:path'
import { UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import {
  CLIENT_FLAGS,
  clientFor,
  clientOptions,
  refuseSecretFlags,
  type ClientOptions,
} from './client-options.js'
import { formatResourceHistory } from './format-resource-history.js'
import { parseTimeArg } from './parse-time.js'
import { RESOURCE_HISTORY_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  'resource-id': { type: 'string' },
  'resource-name': { type: 'string' },
  'service-type': { type: 'string' },
  'resource-type': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  next: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

export interface ResourceHistoryPlan {
  readonly client: ClientOptions
  /** The query parameters of the history request. */
  readonly params: Readonly<Record<string, string>>
  readonly json: boolean
}

/**
 * Parses the command line; 'help' when help was asked for. Exactly one of --resource-id and
 * --resource-name. Throws UsageError, SettingError or CliFailure (unreadable credentials file).
 */
export function parseResourceHistoryArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
  cwd: string = resolve(),
): ResourceHistoryPlan | 'help' {
  refuseSecretFlags(args)
  const { values } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  const id = values['resource-id'] ?? ''
  const name = values['resource-name'] ?? ''
  if ((id === '') === (name === ''))
    throw new UsageError('give exactly one of --resource-id and --resource-name')
  const params: Record<string, string> = id === '' ? { resource_name: name } : { resource_id: id }
  for (const [flag, param] of [
    ['service-type', 'service_type'],
    ['resource-type', 'resource_type'],
    ['next', 'next'],
  ] as const) {
    const value = values[flag]
    if (value !== undefined && value !== '') params[param] = value
  }
  if (values.from !== undefined) params.from = String(parseTimeArg(values.from, now, 'from'))
  if (values.to !== undefined) params.to = String(parseTimeArg(values.to, now, 'to'))
  if (values.limit !== undefined) {
    if (!/^\d{1,3}$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > 200)
      throw new UsageError(
        `--limit must be an integer from 1 to 200, got ${JSON.stringify(values.limit)}`,
      )
    params.limit = values.limit
  }
  return { client: clientOptions(values, env, cwd), params, json: values.json === true }
}

export async function runResourceHistory(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseResourceHistoryArgs(args, io.env, io.now())
  if (plan === 'help') {
    io.stdout.write(RESOURCE_HISTORY_USAGE)
    return 0
  }
  const client = clientFor(plan.client, io.now)
  const history = await client.resourceHistory(plan.client.projectId, plan.params)
  if (plan.json) io.stdout.write(`${JSON.stringify(history, null, 2)}\n`)
  else io.stdout.write(formatResourceHistory(history))
  const marker = history.meta_data.marker
  if (marker !== null) io.stderr.write(`More events; continue with --next ${marker}\n`)
  return 0
}
