/**
 * @module cli/alarms-command
 * `opencts alarms list|create|show|update|delete|history`: the alarm rules of a project over the
 * API (`/v3/{project_id}/alarms…`, docs/alarms.md), with the client credentials of `query`.
 * Filters are given as `--filter KEY=VALUE` (ListTraces v3 names, repeatable); the condition as
 * `--comparison`, `--threshold`, `--period` (seconds). Exit statuses: 0 success, 1 the API refused
 * (its error code and message are printed), 2 a usage error.
 */
import { resolve } from 'node:path'
import { UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CLIENT_FLAGS, clientFor, clientOptions, refuseSecretFlags } from './client-options.js'
import { formatTable } from './format-table.js'
import type { CtsClient } from './http-client.js'
import { ALARMS_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  filter: { type: 'string', multiple: true },
  comparison: { type: 'string' },
  threshold: { type: 'string' },
  period: { type: 'string' },
  description: { type: 'string' },
  topic: { type: 'string' },
  'no-topic': { type: 'boolean' },
  enable: { type: 'boolean' },
  disable: { type: 'boolean' },
  name: { type: 'string' },
  limit: { type: 'string' },
  marker: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

type Values = ReturnType<
  typeof parseCommandLine<{ args: string[]; options: typeof FLAGS }>
>['values']

const SUBCOMMANDS = ['list', 'create', 'show', 'update', 'delete', 'history'] as const

function iso(ms: unknown): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-'
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '-'
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

function integer(value: string, flag: string): number {
  if (!/^\d{1,10}$/.test(value))
    throw new UsageError(`--${flag} must be a whole number, got ${value}`)
  return Number(value)
}

function conditionText(rule: Record<string, unknown>): string {
  const c = rule.condition as { comparison?: unknown; threshold?: unknown; period?: unknown }
  return `${text(c.comparison)} ${text(c.threshold)} in ${text(c.period)} s`
}

/** The request body of create/update from the flags (only what is given). */
function ruleBody(values: Values, name: string | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  if (name !== undefined) body.alarm_name = name
  if (values.description !== undefined) body.description = values.description
  if (values.filter !== undefined) {
    const filter: Record<string, string> = {}
    for (const pair of values.filter) {
      const at = pair.indexOf('=')
      if (at <= 0) throw new UsageError(`--filter takes KEY=VALUE, got ${pair}`)
      filter[pair.slice(0, at)] = pair.slice(at + 1)
    }
    body.filter = filter
  }
  const condition: Record<string, unknown> = {}
  if (values.comparison !== undefined) condition.comparison = values.comparison
  if (values.threshold !== undefined) condition.threshold = integer(values.threshold, 'threshold')
  if (values.period !== undefined) condition.period = integer(values.period, 'period')
  if (Object.keys(condition).length > 0) body.condition = condition
  if (values.enable === true && values.disable === true)
    throw new UsageError('give --enable or --disable, not both')
  if (values.enable === true) body.enabled = true
  if (values.disable === true) body.enabled = false
  if (values.topic !== undefined && values['no-topic'] === true)
    throw new UsageError('give --topic URN or --no-topic, not both')
  if (values.topic !== undefined) body.topic_urn = values.topic
  if (values['no-topic'] === true) body.topic_urn = null
  return body
}

function printRule(io: CliIo, rule: Record<string, unknown>): void {
  const lines = [
    ['id', rule.alarm_id],
    ['name', rule.alarm_name],
    ['description', rule.description === '' ? '-' : rule.description],
    ['filter', JSON.stringify(rule.filter)],
    ['condition', conditionText(rule)],
    ['enabled', rule.enabled],
    ['topic', rule.topic_urn],
    ['state', rule.state],
    ['reason', rule.state_reason],
    ['since', iso(rule.state_changed_time)],
    ['last count', rule.last_count],
    ['evaluated', iso(rule.last_evaluated_time)],
  ]
  io.stdout.write(lines.map(([k, v]) => `${String(k).padEnd(12)} ${text(v)}\n`).join(''))
}

async function run(
  command: (typeof SUBCOMMANDS)[number],
  args: readonly string[],
  values: Values,
  client: CtsClient,
  projectId: string,
  io: CliIo,
): Promise<void> {
  const want = command === 'list' ? 0 : 1
  if (args.length !== want)
    throw new UsageError(
      want === 0
        ? `"alarms ${command}" takes no argument`
        : `"alarms ${command}" needs one ${command === 'create' ? 'NAME' : 'ID'}`,
    )
  const arg = args[0] ?? ''
  const id = `/alarms/${encodeURIComponent(arg)}`
  const json = (answer: unknown): void => {
    io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
  }
  switch (command) {
    case 'list': {
      const answer = await client.request('GET', projectId, '/alarms')
      if (values.json === true) return json(answer)
      const alarms = (answer.alarms ?? []) as Record<string, unknown>[]
      if (alarms.length === 0) {
        io.stderr.write('No alarm rules.\n')
        return
      }
      const rows = alarms.map((a) => [
        text(a.alarm_id),
        text(a.alarm_name),
        text(a.state),
        conditionText(a),
        a.enabled === true ? 'yes' : 'no',
        text(a.last_count),
        text(a.topic_urn),
      ])
      io.stdout.write(
        formatTable(['ID', 'NAME', 'STATE', 'CONDITION', 'ENABLED', 'LAST COUNT', 'TOPIC'], rows),
      )
      return
    }
    case 'create':
    case 'update': {
      const body = ruleBody(values, command === 'create' ? arg : values.name)
      if (command === 'update' && Object.keys(body).length === 0)
        throw new UsageError('"alarms update" needs at least one change')
      const answer =
        command === 'create'
          ? await client.request('POST', projectId, '/alarms', body)
          : await client.request('PUT', projectId, id, body)
      if (values.json === true) return json(answer)
      printRule(io, answer)
      return
    }
    case 'show': {
      const answer = await client.request('GET', projectId, id)
      if (values.json === true) return json(answer)
      printRule(io, answer)
      return
    }
    case 'delete':
      await client.request('DELETE', projectId, id)
      io.stdout.write(`Deleted alarm rule ${arg}.\n`)
      return
    case 'history': {
      const query = new URLSearchParams()
      if (values.limit !== undefined) query.set('limit', values.limit)
      if (values.marker !== undefined) query.set('marker', values.marker)
      const q = query.toString()
      const answer = await client.request(
        'GET',
        projectId,
        `${id}/history${q === '' ? '' : `?${q}`}`,
      )
      if (values.json === true) return json(answer)
      const history = (answer.history ?? []) as Record<string, unknown>[]
      if (history.length === 0) io.stderr.write('No transitions.\n')
      else
        io.stdout.write(
          formatTable(
            ['TIME', 'FROM', 'TO', 'COUNT', 'REASON'],
            history.map((h) => [
              iso(h.time),
              text(h.old_state),
              text(h.new_state),
              text(h.count),
              text(h.reason),
            ]),
          ),
        )
      const marker = (answer.meta_data as { marker?: unknown } | undefined)?.marker
      if (typeof marker === 'string') io.stderr.write(`More: --marker ${marker}\n`)
    }
  }
}

export async function runAlarms(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const { values, positionals } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (values.help === true) {
    io.stdout.write(ALARMS_USAGE)
    return 0
  }
  const [command, ...rest] = positionals
  if (!(SUBCOMMANDS as readonly (string | undefined)[]).includes(command))
    throw new UsageError(`give one of ${SUBCOMMANDS.join(', ')}`)
  const options = clientOptions(values, io.env, resolve())
  const client = clientFor(options, io.now)
  await run(command as (typeof SUBCOMMANDS)[number], rest, values, client, options.projectId, io)
  return 0
}
