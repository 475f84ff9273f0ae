/**
 * @module cli/insights-command
 * `opencts insights [--type T] [--state start|end] [--service S] [--from T] [--to T] [--limit N]
 * [--json]`: the insights of a project over the API (`GET /v3/{project_id}/insights`), newest
 * first, as a table (time, type, state, what it is about, values, top attributions) or as the API
 * answer. `--limit` is the number of insights wanted (pages of 200 are followed); the server
 * validates the filters (CTS.0300, exit status 1).
 */
import { resolve } from 'node:path'
import { UsageError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CLIENT_FLAGS, clientFor, clientOptions, refuseSecretFlags } from './client-options.js'
import { formatTable } from './format-table.js'
import { parseTimeArg } from './parse-time.js'
import { INSIGHTS_USAGE } from './usage.js'

const FLAGS = {
  ...CLIENT_FLAGS,
  type: { type: 'string' },
  state: { type: 'string' },
  service: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Insights listed at most (`--limit`). */
const MAX_LIMIT = 10_000
const PAGE = 200

type Insight = Record<string, unknown>

function iso(ms: unknown): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : ''
}

function about(i: Insight): string {
  const operation =
    typeof i.service_type === 'string' ? `${i.service_type} ${String(i.trace_name)}` : ''
  const subject = Object.entries((i.subject ?? {}) as Record<string, unknown>)
    .filter(([, v]) => typeof v === 'string')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ')
  return [operation, subject].filter((s) => s !== '').join(' ')
}

function values(i: Insight): string {
  const s = i.statistics as {
    baseline: { average: number | null }
    insight: { average: number; peak: number }
  } | null
  if (s === null || s === undefined) return Array.isArray(i.reasons) ? i.reasons.join(',') : ''
  const base = s.baseline.average === null ? '' : `baseline=${s.baseline.average} `
  return `${base}value=${s.insight.average} peak=${s.insight.peak}`
}

function top(i: Insight): string {
  const list = (i.attributions ?? []) as { attribute: string; insight: { value: string }[] }[]
  return list
    .filter((a) => a.insight[0] !== undefined)
    .map((a) => `${a.attribute}=${a.insight[0]?.value ?? ''}`)
    .join(' ')
}

export async function runInsights(args: readonly string[], io: CliIo): Promise<number> {
  refuseSecretFlags(args)
  const { values: flags, positionals } = parseCommandLine({
    args: [...args],
    options: FLAGS,
    strict: true,
    allowPositionals: true,
  })
  if (flags.help === true) {
    io.stdout.write(INSIGHTS_USAGE)
    return 0
  }
  if (positionals.length > 0) throw new UsageError('"insights" takes no argument')
  let wanted = 50
  if (flags.limit !== undefined) {
    if (
      !/^\d{1,5}$/.test(flags.limit) ||
      Number(flags.limit) < 1 ||
      Number(flags.limit) > MAX_LIMIT
    )
      throw new UsageError(`--limit must be an integer from 1 to ${MAX_LIMIT}, got ${flags.limit}`)
    wanted = Number(flags.limit)
  }
  const now = io.now()
  const params: Record<string, string> = {}
  if (flags.type !== undefined) params.insight_type = flags.type
  if (flags.state !== undefined) params.state = flags.state
  if (flags.service !== undefined) params.service_type = flags.service
  if (flags.from !== undefined) params.from = String(parseTimeArg(flags.from, now, 'from'))
  if (flags.to !== undefined) params.to = String(parseTimeArg(flags.to, now, 'to'))
  const options = clientOptions(flags, io.env, resolve())
  const client = clientFor(options, io.now)
  const insights: Insight[] = []
  let next: string | null = null
  for (let page = 0; page < Math.ceil(MAX_LIMIT / PAGE) && insights.length < wanted; page++) {
    const limit = String(Math.min(PAGE, wanted - insights.length))
    const answer = await client.listInsights(options.projectId, {
      ...params,
      limit,
      ...(next === null ? {} : { next }),
    })
    insights.push(...answer.insights)
    next = answer.meta_data.marker
    if (next === null) break
  }
  if (flags.json === true) {
    io.stdout.write(`${JSON.stringify({ insights }, null, 2)}\n`)
    return 0
  }
  if (insights.length === 0) {
    io.stderr.write('No insights.\n')
    return 0
  }
  const rows = insights.map((i) => [
    iso(i.time),
    String(i.insight_type),
    String(i.state),
    about(i),
    values(i),
    top(i),
  ])
  io.stdout.write(formatTable(['TIME', 'TYPE', 'STATE', 'ABOUT', 'VALUES', 'TOP'], rows))
  return 0
}
