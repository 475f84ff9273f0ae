/**
 * @module cli/run-cli
 * Dispatches `opencts <command>` and turns failures into messages and exit statuses:
 * 0 success, 1 the command failed (API error, unreachable server, bad input), 2 usage or setting
 * error. The server code is loaded only by `serve` (and the store only by `admin` and `keys`), so
 * the client commands start fast.
 */
import { CliFailure, SettingError, UsageError } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { CtsApiError } from './http-client.js'
import {
  ADMIN_USAGE,
  ALARMS_USAGE,
  DELIVERIES_USAGE,
  INGEST_USAGE,
  INSIGHTS_USAGE,
  KEYS_USAGE,
  LOG_USAGE,
  MAIN_USAGE,
  QUERY_USAGE,
  RECORD_USAGE,
  RESOURCE_HISTORY_USAGE,
  SERVE_USAGE,
  STATS_USAGE,
  VERIFY_USAGE,
} from './usage.js'

type Command = (args: readonly string[], io: CliIo) => Promise<number>

const COMMANDS: Readonly<Record<string, { usage: string; load: () => Promise<Command> }>> = {
  serve: { usage: SERVE_USAGE, load: async () => (await import('./serve-command.js')).runServe },
  ingest: {
    usage: INGEST_USAGE,
    load: async () => (await import('./ingest-command.js')).runIngest,
  },
  query: { usage: QUERY_USAGE, load: async () => (await import('./query-command.js')).runQuery },
  stats: { usage: STATS_USAGE, load: async () => (await import('./stats-command.js')).runStats },
  'resource-history': {
    usage: RESOURCE_HISTORY_USAGE,
    load: async () => (await import('./resource-history-command.js')).runResourceHistory,
  },
  record: {
    usage: RECORD_USAGE,
    load: async () => (await import('./record-command.js')).runRecord,
  },
  deliveries: {
    usage: DELIVERIES_USAGE,
    load: async () => (await import('./deliveries-command.js')).runDeliveries,
  },
  alarms: {
    usage: ALARMS_USAGE,
    load: async () => (await import('./alarms-command.js')).runAlarms,
  },
  insights: {
    usage: INSIGHTS_USAGE,
    load: async () => (await import('./insights-command.js')).runInsights,
  },
  admin: { usage: ADMIN_USAGE, load: async () => (await import('./admin-command.js')).runAdmin },
  keys: { usage: KEYS_USAGE, load: async () => (await import('./keys-command.js')).runKeys },
  verify: {
    usage: VERIFY_USAGE,
    load: async () => (await import('./verify-command.js')).runVerify,
  },
  log: { usage: LOG_USAGE, load: async () => (await import('./log-command.js')).runLog },
}

/** Runs the command line `argv` (without node and the script); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    io.stderr.write(MAIN_USAGE)
    return 2
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    const topic = args[0] === undefined ? undefined : COMMANDS[args[0]]
    io.stdout.write(topic?.usage ?? MAIN_USAGE)
    return 0
  }
  if (name === '-v' || name === '--version' || name === 'version') {
    const { OPENCTS_VERSION } = await import('../http/app.js')
    io.stdout.write(`opencts ${OPENCTS_VERSION}\n`)
    return 0
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) {
    io.stderr.write(`opencts: unknown command ${JSON.stringify(name)}\n\n${MAIN_USAGE}`)
    return 2
  }
  try {
    return await (
      await command.load()
    )(args, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`opencts ${name}: ${error.message}\n\n${command.usage}`)
      return 2
    }
    if (error instanceof SettingError) {
      io.stderr.write(`opencts ${name}: ${error.message}\n`)
      return 2
    }
    if (error instanceof CliFailure || error instanceof CtsApiError) {
      io.stderr.write(`error: ${error.message}\n`)
      return 1
    }
    io.stderr.write(
      `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    return 1
  }
}
