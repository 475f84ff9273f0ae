/**
 * @module cli/cli-errors
 * The ways a CLI command fails on purpose: a `UsageError` (wrong command line: the usage is
 * printed, exit status 2), a `SettingError` (invalid setting: one message, exit status 2) and a
 * `CliFailure` (the command could not do its job: one message, exit status 1). Errors answered by the API are `CtsApiError` (http-client.ts), also exit status 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** The command line is wrong (unknown flag, bad value, missing argument). Exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A setting (flag or environment variable) has an invalid value. Exit status 2, no usage. */
export class SettingError extends Error {
  override readonly name = 'SettingError'
}

/** The command ran but failed (unreadable file, unreachable server, bad input). Exit status 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure'
}

/** True when `args` ask for help (`-h` or `--help` before any `--`), wherever it stands. */
export function asksForHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

/**
 * `node:util` parseArgs with the command line's usage errors as UsageError, where help wins: when
 * the arguments ask for help anywhere (`opencts verify --store --help`, `query -p --help`), the
 * result is that of `--help` alone, so no other argument can turn the request for help into an
 * error. Every command's `options` has `help` (`-h`).
 */
export function parseCommandLine<T extends ParseArgsConfig & { args: string[] }>(
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const asked = asksForHelp(config.args) ? { ...config, args: ['--help'] } : config
  return usageErrors(() => parseArgs(asked))
}

/** Runs `parse` and turns `node:util` parseArgs errors (`ERR_PARSE_ARGS_*`) into UsageError. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse()
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))
      throw new UsageError((error as Error).message)
    throw error
  }
}
