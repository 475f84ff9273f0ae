/**
 * @module cli/query-command
 * `opencts query`: every ListTraces filter as a flag, `--from/--to` in friendly forms, paging that
 * follows `meta_data.marker` (`--all`, `--max`), and table, JSON or CSV output.
 */
import { resolve } from 'node:path'
import type { ApiTrace } from '../model/index.js'
import { CliFailure, UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import {
  CLIENT_FLAGS,
  clientFor,
  clientOptions,
  refuseSecretFlags,
  type ClientOptions,
} from './client-options.js'
import { formatTraces, OUTPUT_FORMATS, type OutputFormat } from './format-traces.js'
import type { CtsClient } from './http-client.js'
import { parseTimeArg } from './parse-time.js'
import { FILTER_FLAGS, filterParams, stringOptions } from './filter-flags.js'
import { QUERY_USAGE } from './usage.js'

/** Filter flags and the ListTraces query parameter each one sets. */
const FILTER_PARAMS = [...FILTER_FLAGS, ['trace-id', 'trace_id'], ['next', 'next']] as const

const QUERY_FLAGS = {
  ...CLIENT_FLAGS,
  ...stringOptions(FILTER_PARAMS),
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  max: { type: 'string' },
  all: { type: 'boolean' },
  format: { type: 'string', short: 'f' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Largest page the API serves. */
export const MAX_PAGE = 200

export interface QueryPlan {
  readonly client: ClientOptions
  /** Query parameters of the first page. */
  readonly params: Readonly<Record<string, string>>
  readonly format: OutputFormat
  /** Follow `next` markers (`--all` or `--max`). */
  readonly follow: boolean
  /** Stop after this many traces (`--max`). */
  readonly max: number | undefined
}

function positiveInteger(flag: string, text: string, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw new UsageError(
      `--${flag} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`,
    )
  return Number(text)
}

/**
 * Parses the command line of `query` and resolves endpoint, project and credential
 * (client-options.ts; `cwd` anchors relative credentials paths); 'help' when help was asked for.
 * Throws UsageError, SettingError or CliFailure (unreadable credentials file).
 */
export function parseQueryArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  now: number,
  cwd: string = resolve(),
): QueryPlan | 'help' {
  refuseSecretFlags(args)
  const { values } = parseCommandLine({
    args: [...args],
    options: QUERY_FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  const params = filterParams(FILTER_PARAMS, values)
  if (values.from !== undefined) params.from = String(parseTimeArg(values.from, now, 'from'))
  if (values.to !== undefined) params.to = String(parseTimeArg(values.to, now, 'to'))
  const format = values.format ?? 'table'
  if (!OUTPUT_FORMATS.includes(format))
    throw new UsageError(
      `--format must be one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    )
  const max = values.max === undefined ? undefined : positiveInteger('max', values.max, 1e9)
  const follow = values.all === true || max !== undefined
  if (values.limit !== undefined)
    params.limit = String(positiveInteger('limit', values.limit, MAX_PAGE))
  else if (follow) params.limit = String(Math.min(max ?? MAX_PAGE, MAX_PAGE))
  return {
    client: clientOptions(values, env, cwd),
    params,
    format,
    follow,
    max,
  }
}

/** Reads the pages the plan asks for; returns the traces and the marker to continue with. */
export async function fetchTraces(
  client: Pick<CtsClient, 'listTraces'>,
  plan: QueryPlan,
): Promise<{ traces: ApiTrace[]; marker: string | null }> {
  const traces: ApiTrace[] = []
  const params = { ...plan.params }
  for (;;) {
    const page = await client.listTraces(plan.client.projectId, params)
    const room = (plan.max ?? Infinity) - traces.length
    traces.push(...page.traces.slice(0, room))
    const marker = page.meta_data.marker
    if (page.traces.length > room) {
      // Cut inside the page: continue after the last trace printed.
      return { traces, marker: traces.at(-1)?.trace_id ?? marker }
    }
    if (!plan.follow || marker === null || traces.length >= (plan.max ?? Infinity))
      return { traces, marker }
    if (marker === params.next)
      throw new CliFailure(`the server returned the marker ${marker} twice; stopping`)
    params.next = marker
  }
}

export async function runQuery(args: readonly string[], io: CliIo): Promise<number> {
  const plan = parseQueryArgs(args, io.env, io.now())
  if (plan === 'help') {
    io.stdout.write(QUERY_USAGE)
    return 0
  }
  const client = clientFor(plan.client, io.now)
  const { traces, marker } = await fetchTraces(client, plan)
  io.stdout.write(formatTraces(traces, plan.format, plan.client.projectId))
  if (traces.length === 0 && plan.format === 'table') io.stderr.write('No traces match.\n')
  if (marker !== null) io.stderr.write(`More traces match; continue with --next ${marker}\n`)
  return 0
}
