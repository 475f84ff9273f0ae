/**
 * @module cli/data-dir
 * Opening a server's data directory from a command that works on it directly (`opencts keys`):
 * its SQLite file `opencts.db` and its master key file. Safe while the server runs (SQLite in WAL
 * mode). The directory must exist, so a typo does not make an empty one. A missing master key is
 * created only while the store holds nothing sealed with one (no account, no encryption key, no
 * signing key): a new key could not open what the lost one sealed.
 *
 * Failures: SettingError (an invalid `--data-dir` / OPENCTS_* setting), CliFailure (no data
 * directory, a missing master key the store needs, an invalid master key file, an unreadable store).
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadOrCreateMasterKey, type MasterKey } from '../auth/master-key.js'
import { CONFIG_ENV_NAMES, ConfigError, loadConfig, type OpenCtsConfig } from '../config/config.js'
import { OpenCtsError } from '../errors/index.js'
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js'
import { CliFailure, SettingError } from './cli-errors.js'
import type { CliIo } from './cli-io.js'

/** An open data directory. */
export interface DataDir {
  readonly config: OpenCtsConfig
  readonly store: SqliteStore
  readonly masterKey: MasterKey
}

/** The configuration with `--data-dir` (when given) over `OPENCTS_*`. Throws SettingError. */
export function dataDirConfig(dataDir: string | undefined, env: CliIo['env']): OpenCtsConfig {
  try {
    return loadConfig(env, { dataDir })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    const key = error.message.split(' ')[0] ?? ''
    const from = (CONFIG_ENV_NAMES as Readonly<Record<string, string>>)[key]
    throw new SettingError(
      `invalid setting: ${error.message}${from === undefined ? '' : ` (set by ${from})`}`,
    )
  }
}

/** Whether the store holds anything sealed with the master key. */
async function holdsSealedData(store: SqliteStore): Promise<boolean> {
  if (!(await store.identity.isEmpty())) return true
  if ((await store.keys.listKmsKeys()).length > 0) return true
  return (await store.keys.listSigningKeys()).length > 0
}

function openMasterKey(path: string): MasterKey {
  try {
    return loadOrCreateMasterKey(path).key
  } catch (error) {
    throw new CliFailure(error instanceof Error ? error.message : String(error))
  }
}

/**
 * Opens the data directory of `--data-dir` / OPENCTS_DATA_DIR / the default, runs `run`, and
 * closes the store whatever happens. See the module comment for the rules and failures.
 */
export async function withDataDir<T>(
  dataDir: string | undefined,
  env: CliIo['env'],
  run: (opened: DataDir) => Promise<T>,
): Promise<T> {
  const config = dataDirConfig(dataDir, env)
  if (!existsSync(config.dataDir) || !statSync(config.dataDir).isDirectory())
    throw new CliFailure(
      `the data directory ${config.dataDir} does not exist: give the server's with --data-dir ` +
        'DIR or OPENCTS_DATA_DIR (opencts serve creates it on first start; or create it yourself)',
    )
  let store: SqliteStore
  try {
    store = openSqliteStore({ path: join(config.dataDir, 'opencts.db') })
  } catch (error) {
    throw new CliFailure(error instanceof OpenCtsError ? error.message : String(error))
  }
  try {
    if (!existsSync(config.masterKeyFile) && (await holdsSealedData(store)))
      throw new CliFailure(
        `the master key file ${config.masterKeyFile} is missing, but the store holds data sealed ` +
          'with it: restore it (or set OPENCTS_MASTER_KEY_FILE); a new key could not open it',
      )
    return await run({ config, store, masterKey: openMasterKey(config.masterKeyFile) })
  } finally {
    await store.close()
  }
}
