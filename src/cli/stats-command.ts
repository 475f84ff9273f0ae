/**
 * @module cli/stats-command
 * `opencts stats`: counts of matching traces over the statistics API
 * (`GET /v3/{project_id}/traces/statistics`, docs/statistics.md), grouped by one or two fields
 * (`--group-by`), with a distinct count (`--distinct`), per interval (`--interval 1h`) and the
 * `--top` groups; the filters of `opencts query` and a search (`--q`), `--from/--to` in the same
 * friendly forms. Prints a table (format-statistics.ts) or, with `--json`, the API's body. The
 * server judges group fields, interval range and search syntax: its 400 is printed and exits 1.
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
import { FILTER_FLAGS, filterParams, stringOptions } from './filter-flags.js'
import { formatStatistics, readStatisticsAnswer } from './format-statistics.js'
import { parseTimeArg } from './parse-time.js'
import { STATS_USAGE } from './usage.js'

const STATS_FLAGS = {
  ...CLIENT_FLAGS,
  ...stringOptions(FILTER_FLAGS),
  'group-by': { type: 'string', short: 'g' },
  distinct: { type: 'string' },
  interval: { type: 'string' },
  top: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Most groups the API returns. */
export const MAX_TOP = 1000

const INTERVAL_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

export interface StatsPlan {
  readonly client: ClientOptions
  /** Query parameters of the statistics request. */
  readonly params: Readonly<Record<string, string>>
  /** Print the API's body instead of the table. */
  readonly json: boolean
}

/**
 * `--interval`: a count with a unit ms|s|m|h|d (`5m`, `1h`, `1d`), or a bare count of
 * milliseconds; the API takes 1s to 7d. Throws UsageError.
 */
export function parseInterval(text: string): number {
  const m = /^(\d{1,10})(ms|s|m|h|d)?$/.exec(text.trim())
  if (m === null)
    throw new UsageError(
      `--interval must be a count with a unit ms, s, m, h or d (5m, 1h, 1d) or milliseconds, got ${JSON.stringify(text)}`,
    )
  return Number(m[1]) * (INTERVAL_UNITS[m[2] ?? 'ms'] ?? 1)
}

function topArg(text: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > MAX_TOP)
    throw new UsageError(
      `--top must be an integer from 1 to ${MAX_TOP}, got ${JSON.stringify(text)}`,
    )
  return Number(text)
}

/**
 * Parses the command line of `stats` and resolves endpoint, project and credential
 * (client-options.ts); 'help' when help was asked for. Throws UsageError, SettingError or
 * CliFailure (unreadable credentials file).
 */
export function parseStatsArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
  cwd: string = resolve(),
): StatsPlan | 'help' {
  refuseSecretFlags(args)
  const { values } = parseCommandLine({
    args: [...args],
    options: STATS_FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  const params = filterParams(FILTER_FLAGS, values)
  const groupBy = values['group-by']?.replace(/\s+/g, '')
  if (groupBy !== undefined && groupBy !== '') params.group_by = groupBy
  if (values.distinct !== undefined && values.distinct !== '') params.distinct = values.distinct
  if (values.interval !== undefined) params.interval = String(parseInterval(values.interval))
  if (values.top !== undefined) params.top = String(topArg(values.top))
  if (values.from !== undefined) params.from = String(parseTimeArg(values.from, now, 'from'))
  if (values.to !== undefined) params.to = String(parseTimeArg(values.to, now, 'to'))
  return { client: clientOptions(values, env, cwd), params, json: values.json === true }
}

export async function runStats(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseStatsArgs(args, io.env, io.now())
  if (plan === 'help') {
    io.stdout.write(STATS_USAGE)
    return 0
  }
  const client = clientFor(plan.client, io.now)
  const query = new URLSearchParams(plan.params).toString()
  const answer = await client.request(
    'GET',
    plan.client.projectId,
    `/traces/statistics${query === '' ? '' : `?${query}`}`,
  )
  if (plan.json) {
    io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
    return 0
  }
  const stats = readStatisticsAnswer(answer)
  io.stdout.write(formatStatistics(stats))
  if (stats.total === 0) io.stderr.write('No traces match.\n')
  return 0
}
