/**
 * @module cli/serve-command
 * `opencts serve`: loads the configuration (flags over `OPENCTS_*` over defaults), starts the server,
 * prints where it listens and keeps its data, and runs until SIGINT/SIGTERM, then closes gracefully
 * (in-flight requests finish, the store is closed) and returns 0.
 * Exit status 2 for an invalid setting, 1 when the server cannot start (e.g. port in use, the
 * database unreachable or of a newer schema: one line each, no stack).
 */
import { fileURLToPath } from 'node:url'
import {
  CONFIG_ENV_NAMES,
  ConfigError,
  loadConfig,
  redactUrl,
  type OpenCtsConfig,
} from '../config/config.js'
import { isOpenCtsError } from '../errors/index.js'
import { OPENCTS_VERSION } from '../http/app.js'
import { startServer, type RunningServer } from '../server.js'
import { CliFailure, SettingError, parseCommandLine } from './cli-errors.js'
import type { CliIo } from './cli-io.js'
import { SERVE_USAGE } from './usage.js'

/** This CLI's entry point, for the hint of the banner. */
const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

const SERVE_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  'store-pool-size': { type: 'string' },
  region: { type: 'string' },
  'log-level': { type: 'string' },
  'ingest-workers': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Parses the command line of `serve` into a configuration; 'help' when help was asked for. */
export function parseServeArgs(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): OpenCtsConfig | 'help' {
  const { values } = parseCommandLine({
    args: [...args],
    options: SERVE_FLAGS,
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  try {
    return loadConfig(env, {
      host: values.host,
      port: values.port,
      dataDir: values['data-dir'],
      store: values.store,
      storePoolSize: values['store-pool-size'],
      region: values.region,
      logLevel: values['log-level'],
      ingestWorkers: values['ingest-workers'],
    })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const key = error.message.split(' ')[0] ?? ''
    const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
    const env = (CONFIG_ENV_NAMES as Readonly<Record<string, string>>)[key]
    const from =
      env === undefined ? '' : ` (set by ${flag in SERVE_FLAGS ? `--${flag} or ` : ''}${env})`
    throw new SettingError(`invalid setting: ${error.message}${from}`)
  }
}

function startFailure(config: OpenCtsConfig, error: unknown): CliFailure {
  // The store's own errors (unreachable database, newer schema) say what and where in one line.
  if (isOpenCtsError(error)) return new CliFailure(`cannot start: ${error.message}`)
  const code = (error as { code?: unknown } | null)?.code
  const where = `${config.host}:${config.port}`
  switch (code) {
    case 'EADDRINUSE':
      return new CliFailure(
        `cannot listen on ${where}: the port is already in use (another OpenCTS?). Choose another with --port or OPENCTS_PORT.`,
      )
    case 'EACCES':
      return new CliFailure(`cannot listen on ${where}: permission denied. Use a port above 1023.`)
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new CliFailure(`cannot listen on ${where}: the address is not on this machine.`)
    default:
      return new CliFailure(
        `cannot start: ${error instanceof Error ? error.message : String(error)}`,
      )
  }
}

export async function runServe(args: readonly string[], io: CliIo): Promise<number> {
  const config = parseServeArgs(args, io.env)
  if (config === 'help') {
    io.stdout.write(SERVE_USAGE)
    return 0
  }
  const shutdown = io.untilShutdown()
  io.stdout.write(`OpenCTS ${OPENCTS_VERSION} starting, data directory ${config.dataDir}\n`)
  let server: RunningServer
  try {
    server = await startServer(config, {
      // An upgrade of the store (a row store becoming blocks) reports each committed chunk.
      onStoreMigration: (done, total) =>
        io.stdout.write(`Upgrading the store: ${done} of ${total} traces converted to blocks\n`),
      onStoreRecovery: (message) =>
        io.stderr.write(`opencts: recovered after a crash: ${message}\n`),
    })
  } catch (error) {
    throw startFailure(config, error)
  }
  io.stdout.write(
    [
      `OpenCTS listening on ${server.url}`,
      `  console         ${server.url}/console/`,
      `  data directory  ${config.dataDir}`,
      server.dbPath === null
        ? `  store           ${redactUrl(server.storeUrl)} (PostgreSQL, pool of ${config.storePoolSize})`
        : `  SQLite file     ${server.dbPath}`,
      config.objectStore.kind === 's3'
        ? `  object store    S3 ${config.objectStore.endpoint} (buckets of transfer)`
        : `  object folder   ${server.objectsDir} (buckets of transfer)`,
      `  transfer        every ${config.transferIntervalMs / 1000} s, digests every ${config.digestPeriodSeconds} s`,
      `  region          ${config.region}, traces kept ${config.retentionDays} days`,
      ...(server.bootstrap === null ? [] : adminLines(server)),
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  )
  const signal = await shutdown
  io.stdout.write(`${signal}: closing (in-flight requests finish, the store is closed)\n`)
  await server.close()
  io.stdout.write('OpenCTS stopped.\n')
  return 0
}

/** The first-start administrator, printed once (the values also go to the credentials file). */
function adminLines(server: RunningServer): string[] {
  const admin = server.bootstrap
  if (admin === null) return []
  const shown = (key: string, value: string): string =>
    admin.given.includes(key as never) ? '(as given by the environment)' : value
  return [
    '',
    'First start: created the administrator (shown this once; also saved with mode 0600 in',
    `  ${server.credentialsFile})`,
    `  account         ${admin.account} (id ${admin.accountId})`,
    `  project         ${admin.projectName} (id ${admin.projectId})`,
    `  user            ${admin.user}, policy CTS Administrator`,
    `  password        ${shown('password', admin.password)}`,
    `  access key      ${admin.accessKey}`,
    `  secret key      ${shown('secretKey', admin.secretKey)}`,
    // The command that works from any folder (`npx opencts` would look for it in the registry).
    `Try: node ${CLI_MAIN} query --credentials ${server.credentialsFile}`,
    '',
  ]
}
